//! Crate dependencies: a body's `[dependencies]` section, the hyperuser's
//! allow-list, the kit's prepared crates, and how a request resolves
//! against them.
//!
//! A body may start with PL/Rust's sections:
//!
//! ```text
//! [dependencies]
//! regex = "1"
//! [code]
//! let re = regex::Regex::new(r"\w+")?;
//! ```
//!
//! The allow-list (`plrust.allowed_dependencies`, PL/Rust's format) says
//! which crates, versions and features a body may ask for; the kit's
//! manifest (`crates/manifest.json`, written by scripts/prepare-crates.py)
//! says which of those were compiled ahead of time, against the std facade,
//! and where their rlibs are.  Nothing here runs cargo or reaches a
//! network: a request is resolved against what was prepared, or refused.
//!
//! The section is untrusted text: it is parsed by the compile driver, under
//! Landlock and on its big stack, never in a backend.  The allow-list and
//! the manifest are the hyperuser's.

use std::collections::BTreeMap;
use std::fmt;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

/// Files in the build directory (see rustc.rs): the body's section, a copy
/// of the allow-list the backend read, and the driver's answer.
pub const SECTION_FILE: &str = "dependencies.toml";
pub const ALLOW_LIST_FILE: &str = "allowed-dependencies.toml";
pub const RESOLVED_FILE: &str = "resolved.json";
pub const REFUSAL_FILE: &str = "refusal.json";
/// The generated crate's imports of the resolved crates (codegen.rs).
pub const IMPORTS_FILE: &str = "dependencies.rs";

/// `IMPORTS_FILE`'s text: one explicit import per crate, which shadows
/// any name the prelude's glob brings.
pub fn imports(resolved: &[Resolved]) -> String {
    resolved
        .iter()
        .map(|r| format!("#[allow(unused_imports)]\nuse ::{};\n", r.lib_name))
        .collect()
}

/// The prepared crates, relative to the kit.
pub const CRATES_DIR: &str = "crates";
pub const MANIFEST_FILE: &str = "crates/manifest.json";

/// A body split into its code and its `[dependencies]` section.
#[derive(Debug, PartialEq, Eq)]
pub struct Sections {
    /// The code, with every line that is not code (the section markers
    /// and the dependencies) left empty: rustc's and the check's line
    /// numbers stay those of the body as written.
    pub code: String,
    /// The `[dependencies]` section's TOML, if the body has one.
    pub dependencies: Option<String>,
}

/// Split a body as PL/Rust does: a line `[dependencies]` starts the
/// section, a line `[code]` starts the code.  Only a body whose first
/// non-blank line is one of the two markers has sections, so that Rust
/// code that happens to hold such a line (an array of one element) is
/// never taken apart.
pub fn split_sections(source: &str) -> Sections {
    let first = source.lines().map(str::trim).find(|l| !l.is_empty());
    if !matches!(first, Some("[dependencies]" | "[code]")) {
        return Sections {
            code: source.to_string(),
            dependencies: None,
        };
    }
    let mut code = String::with_capacity(source.len());
    let mut deps: Option<String> = None;
    let mut in_deps = false;
    for line in source.split_inclusive('\n') {
        let end = if line.ends_with('\n') { "\n" } else { "" };
        match line.trim() {
            "[dependencies]" => {
                in_deps = true;
                deps.get_or_insert_with(String::new);
                code.push_str(end);
            }
            "[code]" => {
                in_deps = false;
                code.push_str(end);
            }
            _ if in_deps => {
                let d = deps.get_or_insert_with(String::new);
                d.push_str(line.trim_end_matches('\n'));
                d.push('\n');
                code.push_str(end);
            }
            _ => code.push_str(line),
        }
    }
    Sections {
        code,
        dependencies: deps,
    }
}

/// One entry of the allow-list: a crate, a version requirement as the
/// hyperuser wrote it, and the features it is compiled with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allowed {
    pub name: String,
    /// The requirement as written (`=1.13.2`, `>=1, <2`, `*`).
    pub version: String,
    /// Sorted, without duplicates.
    pub features: Vec<String>,
    pub default_features: bool,
}

impl Allowed {
    fn requirement(&self) -> VersionReq {
        // Checked when the allow-list was parsed.
        VersionReq::parse(&self.version).unwrap_or(VersionReq::STAR)
    }
}

/// The hyperuser's allow-list, in the file's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    pub entries: Vec<Allowed>,
}

/// How a requirement may be written, in the allow-list and in a section.
#[derive(Deserialize)]
#[serde(untagged)]
enum Spec {
    Version(String),
    Table(BTreeMap<String, toml::Value>),
}

/// One entry's value in the allow-list: a requirement or an array of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum Specs {
    One(Spec),
    Many(Vec<Spec>),
}

/// The parts of a dependency table plrust understands.
#[derive(Default)]
struct Parts {
    version: Option<String>,
    features: Option<Vec<String>>,
    default_features: Option<bool>,
}

fn parts(name: &str, spec: Spec) -> Result<Parts, Refusal> {
    let table = match spec {
        Spec::Version(v) => {
            return Ok(Parts {
                version: Some(v),
                ..Parts::default()
            })
        }
        Spec::Table(t) => t,
    };
    let mut p = Parts::default();
    for (key, value) in table {
        let wrong = |want: &str| Refusal::Syntax {
            reason: format!("dependency \"{name}\": \"{key}\" must be {want}"),
        };
        match key.as_str() {
            "version" => p.version = Some(value.as_str().ok_or_else(|| wrong("a string"))?.into()),
            "features" => {
                let list = value
                    .as_array()
                    .ok_or_else(|| wrong("an array of strings"))?;
                let mut features = Vec::with_capacity(list.len());
                for f in list {
                    features.push(
                        f.as_str()
                            .ok_or_else(|| wrong("an array of strings"))?
                            .into(),
                    );
                }
                p.features = Some(features);
            }
            "default-features" | "default_features" => {
                p.default_features = Some(value.as_bool().ok_or_else(|| wrong("true or false"))?)
            }
            _ => {
                return Err(Refusal::Unsupported {
                    name: name.into(),
                    key,
                })
            }
        }
    }
    Ok(p)
}

fn requirement(name: &str, text: &str) -> Result<VersionReq, String> {
    VersionReq::parse(text)
        .map_err(|e| format!("dependency \"{name}\": \"{text}\" is not a version requirement: {e}"))
}

fn sorted(mut features: Vec<String>) -> Vec<String> {
    features.sort();
    features.dedup();
    features
}

impl AllowList {
    /// Parse PL/Rust's allow-list format: `name = requirement`, where a
    /// requirement is a version string, a table `{ version, features,
    /// default-features }`, or an array of those.
    pub fn parse(text: &str) -> Result<AllowList, String> {
        let table: BTreeMap<String, Specs> = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut entries = Vec::new();
        for (name, specs) in table {
            let specs = match specs {
                Specs::One(s) => vec![s],
                Specs::Many(v) => v,
            };
            for spec in specs {
                let p = parts(&name, spec).map_err(|r| r.message())?;
                let version = p
                    .version
                    .ok_or_else(|| format!("dependency \"{name}\" has no version"))?;
                requirement(&name, &version)?;
                entries.push(Allowed {
                    name: name.clone(),
                    version,
                    features: sorted(p.features.unwrap_or_default()),
                    default_features: p.default_features.unwrap_or(true),
                });
            }
        }
        Ok(AllowList { entries })
    }
}

/// A crate the kit has compiled for an allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepared {
    /// The entry it was prepared for.
    #[serde(flatten)]
    pub entry: Allowed,
    /// The exact version the entry resolved to when it was prepared.
    pub resolved: String,
    /// The crate's name in Rust (`unicode_segmentation`).
    pub lib_name: String,
    /// Its rlib (or proc-macro library), in the kit's `crates/`.
    pub file: String,
}

/// The kit's `crates/manifest.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// SHA-256 of the std facade the crates were built against: rustc
    /// would not load them against another.
    #[serde(default)]
    pub facade: String,
    pub crates: Vec<Prepared>,
}

/// SHA-256 (hex) of the kit's std facade, as prepare-crates.py computes it.
pub fn facade_digest(kit: &std::path::Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let dir = kit.join("sysroot/lib/rustlib/x86_64-unknown-linux-gnu/lib");
    for entry in std::fs::read_dir(&dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("libstd") && name.ends_with(".rlib") {
            let bytes = std::fs::read(dir.join(&*name))?;
            return Ok(Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect());
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("no std facade in {}", dir.display()),
    ))
}

impl Manifest {
    fn prepared(&self, entry: &Allowed) -> Option<&Prepared> {
        self.crates.iter().find(|p| &p.entry == entry)
    }
}

/// A dependency the body asked for, as it asked.
#[derive(Debug, Clone)]
pub struct Requested {
    pub name: String,
    pub version: String,
    pub features: Option<Vec<String>>,
    pub default_features: Option<bool>,
}

/// Parse a body's `[dependencies]` section.
pub fn parse_section(text: &str) -> Result<Vec<Requested>, Refusal> {
    let table: BTreeMap<String, Spec> = toml::from_str(text).map_err(|e| Refusal::Syntax {
        reason: e.message().to_string(),
    })?;
    let mut requests = Vec::with_capacity(table.len());
    for (name, spec) in table {
        bounded(&name)?;
        let p = parts(&name, spec)?;
        if let Some(v) = &p.version {
            bounded(v)?;
        }
        for f in p.features.iter().flatten() {
            bounded(f)?;
        }
        let version = p.version.unwrap_or_else(|| "*".into());
        requirement(&name, &version).map_err(|reason| Refusal::Syntax { reason })?;
        requests.push(Requested {
            name,
            version,
            features: p.features.map(sorted),
            default_features: p.default_features,
        });
    }
    Ok(requests)
}

/// A name, version or feature from a section, short enough that every
/// refusal echoing it stays far below what the backend reads back.
fn bounded(text: &str) -> Result<(), Refusal> {
    const MAX: usize = 64;
    if text.len() > MAX {
        let cut: String = text.chars().take(20).collect();
        return Err(Refusal::Syntax {
            reason: format!("\"{cut}...\" is longer than {MAX} bytes"),
        });
    }
    Ok(())
}

/// A request resolved to a prepared crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    pub name: String,
    pub version: String,
    pub lib_name: String,
    pub file: String,
}

/// Why a body's dependencies were refused.  Its texts are in
/// `message`/`detail`/`hint`; the backend picks the SQLSTATE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The section is not TOML, or not dependencies.
    Syntax { reason: String },
    /// A key plrust never honours (`git`, `path`, `package`, ...).
    Unsupported { name: String, key: String },
    /// The crate is not in the allow-list; `allowed` names those that are.
    NotAllowed { name: String, allowed: Vec<String> },
    /// No allowed version matches; `allowed` lists those that exist.
    NoVersion {
        name: String,
        requested: String,
        allowed: Vec<String>,
    },
    /// The allowed versions that match come with other features.
    Features {
        name: String,
        requested: String,
        allowed: Vec<String>,
    },
    /// The allow-list allows it, but the kit has not compiled it.
    NotPrepared { name: String, version: String },
    /// The crates were prepared for another kit (its std facade changed).
    OtherKit,
    /// The hyperuser's allow-list or the kit's manifest is unreadable.
    Broken { what: String, reason: String },
}

fn describe(features: &[String], default_features: bool) -> String {
    let mut parts = Vec::new();
    if !features.is_empty() {
        parts.push(format!("features = [{}]", quoted(features)));
    }
    if !default_features {
        parts.push("default-features = false".into());
    }
    parts.join(", ")
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|f| format!("\"{f}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Syntax { reason } => format!("invalid [dependencies] section: {reason}"),
            Refusal::Unsupported { name, key } => {
                format!("dependency \"{name}\": \"{key}\" is not supported")
            }
            Refusal::NotAllowed { name, .. } => format!("dependency \"{name}\" is not allowed"),
            Refusal::NoVersion {
                name, requested, ..
            } => format!("no allowed version of dependency \"{name}\" matches \"{requested}\""),
            Refusal::Features {
                name, requested, ..
            } => format!("dependency \"{name}\" is not allowed with {requested}"),
            Refusal::NotPrepared { name, version } => {
                format!("dependency \"{name}\" \"{version}\" is allowed but not prepared")
            }
            Refusal::OtherKit => {
                "the prepared crates were built for another plrust compiler kit".into()
            }
            Refusal::Broken { what, reason } => format!("{what} is unreadable: {reason}"),
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Refusal::Syntax { .. } => Some(
                "Write one crate per line: name = \"version\" or name = { version = \"...\", features = [...] }."
                    .into(),
            ),
            Refusal::Unsupported { .. } => Some(
                "Crates come from plrust.allowed_dependencies only: give a version, and at most features and default-features."
                    .into(),
            ),
            Refusal::NotAllowed { allowed, .. } if allowed.is_empty() => {
                Some("No crates are allowed (plrust.allowed_dependencies).".into())
            }
            Refusal::NotAllowed { allowed, .. } => Some(format!(
                "Allowed crates: {}.  SELECT * FROM plrust.allowed_dependencies() shows their versions.",
                allowed.join(", ")
            )),
            Refusal::NoVersion { allowed, .. } | Refusal::Features { allowed, .. } => {
                Some(format!("Allowed: {}.", allowed.join("; ")))
            }
            Refusal::NotPrepared { .. } => Some(
                "A superuser must prepare the allow-list's crates: bash scripts/setup.sh --allowed-dependencies FILE."
                    .into(),
            ),
            Refusal::OtherKit => Some(
                "A superuser must prepare them again for this kit: bash scripts/setup.sh.".into(),
            ),
            Refusal::Broken { .. } => None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Resolve each request to the largest prepared version that the
/// allow-list allows and the request matches, as PL/Rust does.  Features
/// and default-features come from the allow-list; a request may restate
/// them, but only exactly.
pub fn resolve(
    requests: &[Requested],
    allow: &AllowList,
    manifest: &Manifest,
) -> Result<Vec<Resolved>, Refusal> {
    let mut resolved = Vec::with_capacity(requests.len());
    for r in requests {
        let wanted =
            requirement(&r.name, &r.version).map_err(|reason| Refusal::Syntax { reason })?;
        let entries: Vec<&Allowed> = allow.entries.iter().filter(|e| e.name == r.name).collect();
        if entries.is_empty() {
            let mut allowed: Vec<String> = allow.entries.iter().map(|e| e.name.clone()).collect();
            allowed.dedup();
            return Err(Refusal::NotAllowed {
                name: r.name.clone(),
                allowed,
            });
        }
        // Each entry with the version it was prepared as, if any.
        let versioned: Vec<(&Allowed, Option<(&Prepared, Version)>)> = entries
            .iter()
            .map(|e| {
                let p = manifest
                    .prepared(e)
                    .and_then(|p| Version::parse(&p.resolved).ok().map(|v| (p, v)));
                (*e, p)
            })
            .collect();
        let matching: Vec<(&Allowed, &Prepared, &Version)> = versioned
            .iter()
            .filter_map(|(e, p)| p.as_ref().map(|(p, v)| (*e, *p, v)))
            .filter(|(_, _, v)| wanted.matches(v))
            .collect();
        if matching.is_empty() {
            // An entry that could match but was never compiled.
            if let Some((e, _)) = versioned
                .iter()
                .find(|(e, p)| p.is_none() && may_intersect(&e.requirement(), &wanted))
            {
                return Err(Refusal::NotPrepared {
                    name: r.name.clone(),
                    version: e.version.clone(),
                });
            }
            return Err(Refusal::NoVersion {
                name: r.name.clone(),
                requested: r.version.clone(),
                allowed: versioned
                    .iter()
                    .map(|(e, p)| match p {
                        Some((p, _)) => p.resolved.clone(),
                        None => e.version.clone(),
                    })
                    .collect(),
            });
        }
        let fitting = matching.iter().filter(|(e, _, _)| {
            r.features.as_ref().is_none_or(|f| f == &e.features)
                && r.default_features.is_none_or(|d| d == e.default_features)
        });
        let Some((_, p, _)) = fitting.max_by(|a, b| a.2.cmp(b.2)) else {
            return Err(Refusal::Features {
                name: r.name.clone(),
                requested: describe(
                    r.features.as_deref().unwrap_or(&[]),
                    r.default_features.unwrap_or(true),
                ),
                allowed: matching
                    .iter()
                    .map(|(e, p, _)| {
                        let d = describe(&e.features, e.default_features);
                        if d.is_empty() {
                            format!("{} with its default features", p.resolved)
                        } else {
                            format!("{} with {d}", p.resolved)
                        }
                    })
                    .collect(),
            });
        };
        resolved.push(Resolved {
            name: r.name.clone(),
            version: p.resolved.clone(),
            lib_name: p.lib_name.clone(),
            file: p.file.clone(),
        });
    }
    Ok(resolved)
}

/// Whether some version could satisfy both requirements: checked at the
/// versions each names (a coarse test, only to choose between "not
/// prepared" and "no such version" in an error).
fn may_intersect(a: &VersionReq, b: &VersionReq) -> bool {
    let named = |r: &VersionReq| {
        r.comparators
            .iter()
            .map(|c| Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0)))
            .collect::<Vec<_>>()
    };
    let mut points = named(a);
    points.extend(named(b));
    points.is_empty() || points.iter().any(|v| a.matches(v) && b.matches(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(text: &str) -> AllowList {
        AllowList::parse(text).unwrap()
    }

    /// A manifest that prepared every entry of `allow` as `versions[i]`.
    fn prepared(allow: &AllowList, versions: &[&str]) -> Manifest {
        Manifest {
            facade: String::new(),
            crates: allow
                .entries
                .iter()
                .zip(versions)
                .map(|(e, v)| Prepared {
                    entry: e.clone(),
                    resolved: v.to_string(),
                    lib_name: e.name.replace('-', "_"),
                    file: format!("lib{}-{v}.rlib", e.name),
                })
                .collect(),
        }
    }

    fn request(text: &str, allow: &AllowList, m: &Manifest) -> Result<Vec<Resolved>, Refusal> {
        resolve(&parse_section(text)?, allow, m)
    }

    #[test]
    fn a_body_without_sections_is_all_code() {
        let body = "let x = [code];\nOk(Some(x))";
        assert_eq!(
            split_sections(body),
            Sections {
                code: body.into(),
                dependencies: None
            }
        );
    }

    #[test]
    fn sections_keep_the_code_on_its_lines() {
        let s = split_sections("\n[dependencies]\nregex = \"1\"\n  [code]  \nlet a = 1;\nOk(None)");
        assert_eq!(s.dependencies.as_deref(), Some("regex = \"1\"\n"));
        assert_eq!(s.code, "\n\n\n\nlet a = 1;\nOk(None)");
        assert_eq!(s.code.lines().count(), 6);
        let only_code = split_sections("[code]\nOk(None)\n");
        assert_eq!(only_code.code, "\nOk(None)\n");
        assert_eq!(only_code.dependencies, None);
    }

    #[test]
    fn the_allow_list_takes_pl_rust_forms() {
        let a = allowed(
            r#"
            regex = "=1.13.2"
            serde = { version = ">=1, <2", features = ["derive", "derive"] }
            rand = [{ version = "=0.9.5", default-features = false, features = ["std_rng", "std"] }, "=0.8.5"]
            "#,
        );
        let names: Vec<_> = a
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.version.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("rand", "=0.9.5"),
                ("rand", "=0.8.5"),
                ("regex", "=1.13.2"),
                ("serde", ">=1, <2")
            ]
        );
        assert_eq!(a.entries[0].features, ["std", "std_rng"]);
        assert!(!a.entries[0].default_features);
        assert_eq!(a.entries[3].features, ["derive"]);
        assert!(AllowList::parse("regex = \"one\"")
            .unwrap_err()
            .contains("not a version requirement"));
        assert!(AllowList::parse("regex = { git = \"x\" }")
            .unwrap_err()
            .contains("git"));
        assert_eq!(AllowList::parse("").unwrap().entries, []);
    }

    #[test]
    fn the_largest_allowed_prepared_match_wins() {
        let a = allowed("rand = [\"=0.8.5\", \"=0.9.5\"]\nregex = \">=1, <2\"");
        let m = prepared(&a, &["0.8.5", "0.9.5", "1.13.2"]);
        let r = request("rand = \"*\"\nregex = \"1.10\"", &a, &m).unwrap();
        assert_eq!(r[0].version, "0.9.5");
        assert_eq!(r[1].version, "1.13.2");
        assert_eq!(r[1].file, "libregex-1.13.2.rlib");
        let r = request("rand = \"0.8\"", &a, &m).unwrap();
        assert_eq!(r[0].version, "0.8.5");
    }

    #[test]
    fn crates_and_versions_not_allowed_are_refused() {
        let a = allowed("regex = \"=1.13.2\"\nhex = \"=0.4.3\"");
        let m = prepared(&a, &["0.4.3", "1.13.2"]);
        let e = request("reqwest = \"0.12\"", &a, &m).unwrap_err();
        assert_eq!(e.message(), "dependency \"reqwest\" is not allowed");
        assert!(e.hint().unwrap().contains("hex, regex"), "{e:?}");
        let e = request("regex = \"2\"", &a, &m).unwrap_err();
        assert!(matches!(&e, Refusal::NoVersion { allowed, .. } if allowed == &["1.13.2"]));
        let none = request("regex = \"1\"", &AllowList::default(), &m).unwrap_err();
        assert_eq!(
            none.hint().unwrap(),
            "No crates are allowed (plrust.allowed_dependencies)."
        );
    }

    #[test]
    fn features_come_from_the_allow_list() {
        let a = allowed("serde = { version = \"=1.0.228\", features = [\"derive\"] }");
        let m = prepared(&a, &["1.0.228"]);
        assert!(request("serde = \"1\"", &a, &m).is_ok());
        assert!(request(
            "serde = { version = \"1\", features = [\"derive\"] }",
            &a,
            &m
        )
        .is_ok());
        let e = request("serde = { version = \"1\", features = [\"rc\"] }", &a, &m).unwrap_err();
        assert!(matches!(e, Refusal::Features { .. }), "{e:?}");
        assert!(e
            .hint()
            .unwrap()
            .contains("1.0.228 with features = [\"derive\"]"));
        let e = request(
            "serde = { version = \"1\", default-features = false }",
            &a,
            &m,
        );
        assert!(matches!(e, Err(Refusal::Features { .. })));
    }

    #[test]
    fn an_allowed_crate_the_kit_lacks_says_how_to_prepare_it() {
        let a = allowed("regex = \"=1.13.2\"");
        let e = request("regex = \"1\"", &a, &Manifest::default()).unwrap_err();
        assert_eq!(
            e,
            Refusal::NotPrepared {
                name: "regex".into(),
                version: "=1.13.2".into()
            }
        );
        assert!(e.hint().unwrap().contains("--allowed-dependencies"));
    }

    #[test]
    fn a_section_names_crates_by_version_only() {
        for (text, key) in [
            ("regex = { git = \"https://x\" }", "git"),
            ("regex = { path = \"/etc\" }", "path"),
            ("foo = { package = \"regex\", version = \"1\" }", "package"),
        ] {
            match parse_section(text) {
                Err(Refusal::Unsupported { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_section("regex = 1"),
            Err(Refusal::Syntax { .. })
        ));
        assert!(matches!(
            parse_section("regex = \"x.y\""),
            Err(Refusal::Syntax { .. })
        ));
        assert!(matches!(parse_section("[[["), Err(Refusal::Syntax { .. })));
        let long = format!("{} = \"1\"", "x".repeat(65));
        assert!(matches!(parse_section(&long), Err(Refusal::Syntax { .. })));
    }

    #[test]
    fn refusals_travel_as_json() {
        let r = Refusal::NotAllowed {
            name: "x".into(),
            allowed: vec!["regex".into()],
        };
        let back: Refusal = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
