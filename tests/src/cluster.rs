//! Extra clusters that a test makes and runs itself (a standby, a
//! pg_upgrade target, Citus nodes), through scripts/cluster.sh, each in a
//! directory of its own under PLRUST_TEST_SCRATCH and on a port of its own.

use std::path::{Path, PathBuf};
use std::process::Command;

use postgres::Client;

use crate::connect_to;

/// A cluster made and run by scripts/cluster.sh; stopped when dropped.
pub struct Cluster {
    pub dir: PathBuf,
    pub port: u16,
    pub major: String,
    /// Extra lines for postgresql.conf, written before the first start.
    pub conf: String,
    /// Start the server in a network namespace of its own (no route).
    pub no_network: bool,
}

/// The major the per-major suite runs against (PLRUST_TEST_MAJOR).
pub fn major() -> String {
    std::env::var("PLRUST_TEST_MAJOR")
        .unwrap_or_else(|_| panic!("PLRUST_TEST_MAJOR is not set: run through scripts/test.sh"))
}

/// A fresh directory for `name`'s clusters, emptied first.
pub fn scratch(name: &str) -> PathBuf {
    let base = std::env::var("PLRUST_TEST_SCRATCH")
        .unwrap_or_else(|_| panic!("PLRUST_TEST_SCRATCH is not set: run through scripts/test.sh"));
    let dir = PathBuf::from(base).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    chown_postgres(&dir);
    dir
}

/// Give `path` to the postgres OS user, who runs every server.
pub fn chown_postgres(path: &Path) {
    let status = Command::new("chown")
        .arg("postgres:postgres")
        .arg(path)
        .status()
        .expect("chown");
    assert!(status.success(), "chown {path:?}");
}

/// The bin directory of `major` (scripts/majors.sh's pg_bindir).
pub fn bindir(major: &str) -> PathBuf {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". {}/majors.sh && pg_bindir {major}",
            scripts().display()
        ))
        .output()
        .expect("bash");
    assert!(out.status.success(), "pg_bindir {major}");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

pub fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts")
}

/// Run a server program as the postgres OS user, in `cwd`; its output if
/// it fails.
pub fn run_as_postgres(cwd: &Path, program: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("runuser");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{program:?} {args:?} failed:\n{text}"))
    }
}

impl Cluster {
    pub fn new(dir: PathBuf, port: u16, major: &str) -> Cluster {
        Cluster {
            dir,
            port,
            major: major.to_string(),
            conf: String::new(),
            no_network: false,
        }
    }

    fn run_script(&self, action: &str) -> std::io::Result<std::process::ExitStatus> {
        Command::new("bash")
            .arg(scripts().join("cluster.sh"))
            .arg(action)
            .arg(&self.dir)
            .arg(self.port.to_string())
            .env("PLRUST_PG", &self.major)
            .env("PLRUST_EXTRA_CONF", &self.conf)
            .env("PLRUST_NO_NETWORK", if self.no_network { "1" } else { "" })
            .status()
    }

    /// `cluster.sh ACTION` (init, start, stop), which must succeed.
    pub fn script(&self, action: &str) {
        let status = self.run_script(action).expect("bash");
        assert!(
            status.success(),
            "cluster.sh {action} {:?} failed; see {:?}",
            self.dir,
            self.dir.join("server.log")
        );
    }

    pub fn connect(&self, dbname: &str) -> Client {
        connect_to(self.dir.to_str().unwrap(), &self.port.to_string(), dbname)
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn bin(&self, program: &str) -> PathBuf {
        bindir(&self.major).join(program)
    }
}

impl Drop for Cluster {
    /// Stops the cluster without asserting: a panic while the test is
    /// already panicking would abort and hide the first message.
    fn drop(&mut self) {
        let _ = self.run_script("stop");
    }
}
