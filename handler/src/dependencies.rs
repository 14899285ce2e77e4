//! The backend's side of crate dependencies: reading the allow-list that
//! plrust.allowed_dependencies names (the compile driver, under Landlock,
//! cannot), turning a refusal into an ERROR, and
//! `plrust.allowed_dependencies()`.  Parsing a body's section and resolving
//! it happen in the driver (plrust_compiler::dependencies).

use std::io::Read;

use pgrx::prelude::*;
use plrust_compiler::dependencies::{AllowList, Manifest, Refusal, Resolved, MANIFEST_FILE};

use crate::errors::raise;
use crate::gucs;

/// An allow-list is a short list of crates; a bigger file is a mistake.
const MAX_ALLOW_LIST_BYTES: u64 = 1 << 20;

/// The text of the allow-list in force; empty when the setting is empty
/// (no crate is allowed).
pub fn allow_list_text() -> String {
    let Some(path) = gucs::allowed_dependencies_file() else {
        return String::new();
    };
    let mut text = String::new();
    let read = std::fs::File::open(&path).and_then(|f| {
        let mut f = f.take(MAX_ALLOW_LIST_BYTES + 1);
        f.read_to_string(&mut text)
    });
    match read {
        Ok(n) if n as u64 <= MAX_ALLOW_LIST_BYTES => text,
        Ok(_) => raise(
            PgSqlErrorCode::ERRCODE_CONFIG_FILE_ERROR,
            format!("plrust's allow-list {} is too long", path.display()),
            Some(format!("It has more than {MAX_ALLOW_LIST_BYTES} bytes.")),
            None,
        ),
        Err(e) => raise(
            PgSqlErrorCode::ERRCODE_CONFIG_FILE_ERROR,
            format!("cannot read plrust's allow-list {}: {e}", path.display()),
            None,
            Some(
                "Set plrust.allowed_dependencies to a readable file, or to '' to allow no crates."
                    .into(),
            ),
        ),
    }
}

/// A refused `[dependencies]` section as an ERROR, with PL/Rust's kind of
/// SQLSTATE: a malformed section is a syntax error, a crate, version or
/// feature the allow-list does not grant is a privilege matter.
pub fn refused(function: &str, refusal: Refusal) -> ! {
    let code = match refusal {
        Refusal::Syntax { .. } | Refusal::Unsupported { .. } => {
            PgSqlErrorCode::ERRCODE_SYNTAX_ERROR
        }
        Refusal::NotAllowed { .. } | Refusal::NoVersion { .. } | Refusal::Features { .. } => {
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE
        }
        Refusal::NotPrepared { .. } | Refusal::OtherKit => {
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE
        }
        Refusal::Broken { .. } => PgSqlErrorCode::ERRCODE_CONFIG_FILE_ERROR,
    };
    raise(
        code,
        format!("plrust function \"{function}\": {}", refusal.message()),
        None,
        refusal.hint(),
    )
}

/// What plrust.artifacts.dependencies records: {"regex": "1.13.2", ...}.
pub fn record(resolved: &[Resolved]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = resolved
        .iter()
        .map(|r| (r.name.clone(), serde_json::Value::String(r.version.clone())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// The kit's manifest of prepared crates (none when nothing was prepared).
fn manifest() -> Manifest {
    let path = gucs::kit_dir().join(MANIFEST_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            raise(
                PgSqlErrorCode::ERRCODE_CONFIG_FILE_ERROR,
                format!(
                    "plrust's manifest of prepared crates {} is unreadable: {e}",
                    path.display()
                ),
                None,
                Some("Prepare the crates again: bash scripts/setup.sh.".into()),
            )
        }),
        Err(_) => Manifest::default(),
    }
}

/// `plrust.allowed_dependencies()`: the allow-list, one row per entry,
/// with the version prepared for it (NULL: not prepared, so a body that
/// asks for it is refused until a superuser prepares it).
#[allow(clippy::type_complexity)]
#[pg_extern(stable)]
fn plrust_allowed_dependencies() -> TableIterator<
    'static,
    (
        name!(name, String),
        name!(version, String),
        name!(features, Vec<String>),
        name!(default_features, bool),
        name!(prepared_version, Option<String>),
    ),
> {
    let allow = AllowList::parse(&allow_list_text()).unwrap_or_else(|e| {
        raise(
            PgSqlErrorCode::ERRCODE_CONFIG_FILE_ERROR,
            "plrust's allow-list (plrust.allowed_dependencies) is unreadable".into(),
            Some(e),
            None,
        )
    });
    let manifest = manifest();
    let rows: Vec<_> = allow
        .entries
        .into_iter()
        .map(|e| {
            let prepared = manifest
                .crates
                .iter()
                .find(|p| p.entry == e)
                .map(|p| p.resolved.clone());
            (e.name, e.version, e.features, e.default_features, prepared)
        })
        .collect();
    TableIterator::new(rows)
}
