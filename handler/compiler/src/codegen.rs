//! From a checked body and a signature to the source of one crate.
//!
//! The crate's `std` is the postgrestd facade (the kit's sysroot offers it
//! as `std`) and `pgrx` is trusted-api, so PL/Rust bodies that say `use pgrx::prelude::*` or
//! `std::collections::HashMap` compile unchanged.  The body becomes the
//! block of one function whose signature PL/Rust users know:
//!
//! ```text
//! fn plrust_body(a: Option<i32>, s: Option<&str>) -> Result<Option<T>, BoxError>
//! ```
//!
//! and an exported `plrust_entry` decodes the arguments, calls it and
//! encodes the reply (see trusted-api/src/entry.rs).  The body starts on
//! its own line right after the opening brace, so rustc's line numbers map
//! back to the body by a fixed offset (`Generated::body_first_line`).

use std::fmt::Write;

use plrust_ipc::SqlType;

use crate::dependencies;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub name: String,
    pub ty: SqlType,
}

/// What a function returns, as far as the generated code cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Return {
    /// One value (or void).
    Value(SqlType),
    /// RETURNS SETOF t: `SetOfIterator<Option<T>>`.
    SetOf(SqlType),
    /// RETURNS TABLE (...), or SETOF with OUT parameters: `TableIterator`
    /// of tuples, one `Option` per column.
    Table(Vec<Arg>),
    /// OUT parameters: a tuple, one `Option` per parameter.
    Record(Vec<Arg>),
    /// A trigger function: it sees `trigger: &PgTrigger` and returns the
    /// row to use.
    Trigger,
    /// A DO block: it ends with `Ok(())`.
    Inline,
}

fn row_tuple(cols: &[Arg], shaped: bool) -> String {
    let cols: Vec<String> = cols
        .iter()
        .map(|c| format!("Option<{}>", result_type(&c.ty, shaped)))
        .collect();
    format!("({},)", cols.join(", "))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub args: Vec<Arg>,
    pub ret: Return,
    pub strict: bool,
    /// Array results are `pgrx::Array<'a, T>` (dimensions and lower bounds
    /// kept) rather than PL/Rust's `Vec<Option<T>>`
    /// (`SET plrust.shaped_arrays = on` on the function).
    pub shaped_arrays: bool,
}

/// A composite value as PL/Rust's signatures spell it
/// (`composite_type!(oid)`).  Spelled out, not elided: a result type has
/// no elided lifetime to take when the function has no argument or several.
const COMPOSITE: &str = "pgrx::PgHeapTuple<'static, pgrx::AllocatedByRust>";

/// The Rust type of a result column of SQL type `ty`.
fn result_type(ty: &SqlType, shaped_arrays: bool) -> String {
    match ty {
        SqlType::Array { elem, .. } if shaped_arrays => {
            format!("pgrx::Array<'a, {}>", elem.owned())
        }
        SqlType::Composite { .. } => COMPOSITE.to_string(),
        other => other.owned(),
    }
}

/// The Rust type of an argument of SQL type `ty`.  Arrays are PL/Rust's
/// `Array<'a, T>`: with the result's `'a`, so a body may return an array
/// it was given (with an elided lifetime of its own it could not).
fn argument_type(ty: &SqlType) -> String {
    match ty {
        SqlType::Array { elem, .. } => format!("pgrx::Array<'a, {}>", elem.owned()),
        SqlType::Composite { .. } => COMPOSITE.to_string(),
        other => other.argument(),
    }
}

impl Return {
    fn rust_type(&self, shaped: bool) -> String {
        match self {
            Return::Value(t) => result_type(t, shaped),
            Return::SetOf(t) => format!(
                "pgrx::SetOfIterator<'a, Option<{}>>",
                result_type(t, shaped)
            ),
            Return::Table(cols) => {
                format!("pgrx::TableIterator<'a, {}>", row_tuple(cols, shaped))
            }
            Return::Record(cols) => row_tuple(cols, shaped),
            // Concrete, where PL/Rust says `impl WhoAllocated`: a body that
            // only ever returns Ok(None) leaves an `impl` nothing to infer.
            // AllocatedByPostgres is the same type, so what trigger.new()
            // gives can be returned as it is.
            Return::Trigger => "pgrx::PgHeapTuple<'a, pgrx::AllocatedByRust>".to_string(),
            Return::Inline => "()".to_string(),
        }
    }

    /// The entry's expression that turns the body's `plrust_ret` into the reply value.
    fn finish(&self) -> &'static str {
        match self {
            Return::Value(_) => "Ok(pgrx::entry::value(plrust_ret))",
            Return::SetOf(_) => "pgrx::iter::setof(plrust_ret)",
            Return::Table(_) => "pgrx::iter::table(plrust_ret)",
            Return::Record(_) => "Ok(pgrx::iter::record(plrust_ret))",
            Return::Trigger => "Ok(pgrx::entry::value(plrust_ret))",
            Return::Inline => "Ok(pgrx::entry::inline_done(plrust_ret))",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Generated {
    pub source: String,
    /// Line of `source` (1-based) that holds line 1 of the body.
    pub body_first_line: usize,
    /// Characters before the body on that line.
    pub body_first_column_offset: usize,
}

/// Rust keywords (strict and reserved, all editions): an argument named
/// like one of these cannot be a Rust parameter.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield", "_",
];

/// Names the generated code itself uses at the body's scope.
const RESERVED: &[&str] = &[
    "plrust_body",
    "plrust_args",
    "plrust_ret",
    "plrust_entry",
    "pgrx",
    "std",
    "core",
    "alloc",
];

/// Why an argument name cannot be used, if it cannot.
pub fn check_arg_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c == '_' || c.is_ascii_alphanumeric()) {
        return Err(format!("argument name \"{name}\" is not a Rust identifier"));
    }
    if KEYWORDS.contains(&name) {
        return Err(format!("argument name \"{name}\" is a Rust keyword"));
    }
    if RESERVED.contains(&name) {
        return Err(format!("argument name \"{name}\" is reserved by plrust"));
    }
    Ok(())
}

fn param_type(ty: &SqlType, strict: bool) -> String {
    if strict {
        argument_type(ty)
    } else {
        format!("Option<{}>", argument_type(ty))
    }
}

/// How the entry passes a decoded (owned) argument to the body.
fn pass(arg: &Arg, strict: bool) -> String {
    match (arg.ty.borrows(), strict) {
        (false, _) => arg.name.clone(),
        (true, true) => format!("&{}", arg.name),
        (true, false) => format!("{}.as_deref()", arg.name),
    }
}

pub fn generate(sig: &Signature, body: &str, with_dependencies: bool) -> Generated {
    let mut s = String::new();
    s.push_str(
        "#![deny(unsafe_code)]\n\
         extern crate plrust_api as pgrx;\n\
         #[allow(unused_imports)]\n\
         use pgrx::prelude::*;\n",
    );
    if with_dependencies {
        // The driver writes one `use ::name;` per crate the body's
        // [dependencies] resolved to: an explicit import beats the
        // prelude's glob, so a body's `serde_json` is the one it asked
        // for, not the one pgrx's prelude re-exports (a different build,
        // whose traits the body's derives would not implement).
        let _ = writeln!(s, "include!({:?});", dependencies::IMPORTS_FILE);
    }
    s.push('\n');
    let mut params: Vec<String> = sig
        .args
        .iter()
        .map(|a| format!("{}: {}", a.name, param_type(&a.ty, sig.strict)))
        .collect();
    if sig.ret == Return::Trigger {
        params.push("trigger: &'a pgrx::PgTrigger".into());
    }
    let result = if sig.ret == Return::Inline {
        "()".to_string()
    } else {
        format!("Option<{}>", sig.ret.rust_type(sig.shaped_arrays))
    };
    let _ = write!(
        s,
        "#[allow(unused_variables, unused_mut, unused_imports, dead_code, unreachable_code, clippy::all)]\n\
         fn plrust_body<'a>({}) -> ::core::result::Result<{result}, pgrx::entry::BoxError> {{\n",
        params.join(", "),
    );
    let body_first_line = s.lines().count() + 1;
    let body_lines = body.lines().count().max(1);
    s.push_str(body);
    s.push_str("\n}\n\n");

    let decode: Vec<String> = sig
        .args
        .iter()
        .map(|a| match &a.ty {
            SqlType::Composite { oid, attributes } => {
                let attrs: Vec<String> = attributes
                    .iter()
                    .map(|(n, t, b)| format!("({n:?}, {t}, {b})"))
                    .collect();
                format!(
                    "let {} = plrust_args.{}({oid}, &[{}])?;",
                    a.name,
                    if sig.strict {
                        "required_record"
                    } else {
                        "next_record"
                    },
                    attrs.join(", ")
                )
            }
            _ => format!(
                "let {} = plrust_args.{}::<{}>({})?;",
                a.name,
                if sig.strict { "required" } else { "next" },
                a.ty.decoded(),
                a.ty.wire_oid()
            ),
        })
        .collect();
    let mut decode = decode;
    let mut passes: Vec<String> = sig.args.iter().map(|a| pass(a, sig.strict)).collect();
    if sig.ret == Return::Trigger {
        decode.push("let trigger = plrust_args.trigger()?;".into());
        passes.push("&trigger".into());
    }
    let _ = write!(
        s,
        "/// The function's one exported symbol; see trusted-api/src/entry.rs.\n\
         #[allow(unsafe_code)]\n\
         #[no_mangle]\n\
         pub unsafe extern \"C\" fn plrust_entry(host: *const pgrx::entry::Host, args: *const u8, args_len: usize, out: *mut u8, out_cap: usize) -> usize {{\n    \
             // SAFETY: the executor passes its host and private buffers,\n    \
             // which meet run()'s contract.\n    \
             unsafe {{ pgrx::entry::run(host, args, args_len, out, out_cap, &pgrx::entry::Body {{ file: file!(), first_line: {body_first_line}, lines: {body_lines} }}, |plrust_args| {{\n        \
                 {}\n        \
                 let plrust_ret = plrust_body({})?;\n        \
                 {}\n    \
             }}) }}\n\
         }}\n",
        decode.join("\n        "),
        passes.join(", "),
        sig.ret.finish()
    );
    Generated {
        source: s,
        body_first_line,
        body_first_column_offset: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plrust_ipc::types::Scalar;

    fn t(ty: Scalar, oid: u32) -> SqlType {
        SqlType::Scalar { ty, oid }
    }

    #[test]
    fn names() {
        assert!(check_arg_name("a_1").is_ok());
        assert!(check_arg_name("_x").is_ok());
        assert!(check_arg_name("1a").is_err());
        assert!(check_arg_name("a-b").is_err());
        assert!(check_arg_name("").is_err());
        assert!(check_arg_name("fn").is_err());
        assert!(check_arg_name("plrust_body").is_err());
        assert!(check_arg_name("plrust_args").is_err());
        assert!(check_arg_name("héllo").is_err());
    }

    #[test]
    fn body_lines_map_back() {
        let sig = Signature {
            args: vec![
                Arg {
                    name: "a".into(),
                    ty: t(Scalar::Int4, 23),
                },
                Arg {
                    name: "s".into(),
                    ty: t(Scalar::Text, 25),
                },
            ],
            ret: Return::Value(t(Scalar::Text, 25)),
            strict: false,
            shaped_arrays: false,
        };
        let g = generate(&sig, "let x = 1;\nOk(None)", false);
        let lines: Vec<&str> = g.source.lines().collect();
        assert_eq!(lines[g.body_first_line - 1], "let x = 1;");
        assert_eq!(lines[g.body_first_line], "Ok(None)");
        assert!(g
            .source
            .contains("fn plrust_body<'a>(a: Option<i32>, s: Option<&'a str>)"));
        assert!(g
            .source
            .contains("let s = plrust_args.next::<String>(25)?;"));
        assert!(g.source.contains("plrust_body(a, s.as_deref())"));
    }

    #[test]
    fn strict_sets_and_tables() {
        let sig = Signature {
            args: vec![Arg {
                name: "b".into(),
                ty: t(Scalar::Bytea, 17),
            }],
            ret: Return::SetOf(t(Scalar::Int8, 20)),
            strict: true,
            shaped_arrays: false,
        };
        let g = generate(&sig, "Ok(None)", false);
        assert!(g.source.contains(
            "fn plrust_body<'a>(b: &'a [u8]) -> ::core::result::Result<Option<pgrx::SetOfIterator<'a, Option<i64>>>"
        ));
        assert!(g
            .source
            .contains("let b = plrust_args.required::<Vec<u8>>(17)?;"));
        assert!(g.source.contains("pgrx::iter::setof(plrust_ret)"));
        let table = Signature {
            args: vec![],
            ret: Return::Table(vec![
                Arg {
                    name: "n".into(),
                    ty: t(Scalar::Int4, 23),
                },
                Arg {
                    name: "w".into(),
                    ty: t(Scalar::Text, 25),
                },
            ]),
            strict: true,
            shaped_arrays: false,
        };
        assert!(generate(&table, "Ok(None)", false)
            .source
            .contains("pgrx::TableIterator<'a, (Option<i32>, Option<String>,)>"));
    }

    #[test]
    fn arrays_and_composites_are_spelled_with_their_lifetimes() {
        // A result type has no elided lifetime to take when the function
        // has several arguments (or none): both are spelled out, and an
        // array argument shares the result's 'a so it can be returned.
        let person = SqlType::Composite {
            oid: 16500,
            attributes: vec![("name".into(), 25, 25)],
        };
        let sig = Signature {
            args: vec![
                Arg {
                    name: "a".into(),
                    ty: SqlType::Array {
                        elem: Scalar::Int4,
                        oid: 1007,
                    },
                },
                Arg {
                    name: "p".into(),
                    ty: person.clone(),
                },
            ],
            ret: Return::Value(SqlType::Array {
                elem: Scalar::Int4,
                oid: 1007,
            }),
            strict: false,
            shaped_arrays: true,
        };
        let g = generate(&sig, "Ok(a)", false);
        assert!(g.source.contains(
            "fn plrust_body<'a>(a: Option<pgrx::Array<'a, i32>>, \
             p: Option<pgrx::PgHeapTuple<'static, pgrx::AllocatedByRust>>) \
             -> ::core::result::Result<Option<pgrx::Array<'a, i32>>"
        ));
        let made = Signature {
            args: vec![],
            ret: Return::Value(person),
            strict: false,
            shaped_arrays: false,
        };
        assert!(generate(&made, "Ok(None)", false).source.contains(
            "fn plrust_body<'a>() -> ::core::result::Result<Option<pgrx::PgHeapTuple<'static, pgrx::AllocatedByRust>>"
        ));
    }

    #[test]
    fn triggers_see_their_firing() {
        let sig = Signature {
            args: vec![],
            ret: Return::Trigger,
            strict: false,
            shaped_arrays: false,
        };
        let g = generate(&sig, "Ok(trigger.new())", false);
        assert!(g.source.contains(
            "fn plrust_body<'a>(trigger: &'a pgrx::PgTrigger) -> ::core::result::Result<Option<pgrx::PgHeapTuple<'a, pgrx::AllocatedByRust>>"
        ));
        assert!(g.source.contains("let trigger = plrust_args.trigger()?;"));
        assert!(g.source.contains("plrust_body(&trigger)"));
    }
}
