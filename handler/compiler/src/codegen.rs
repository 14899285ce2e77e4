//! From a checked body and a signature to the source of one crate.
//!
//! The crate is `#![no_std]`; its `std` is the postgrestd facade and `pgrx`
//! is trusted-api, so PL/Rust bodies that say `use pgrx::prelude::*` or
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub name: String,
    pub ty: SqlType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub args: Vec<Arg>,
    pub ret: SqlType,
    pub strict: bool,
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

fn param_type(ty: SqlType, strict: bool) -> String {
    if strict {
        ty.arg_type().to_string()
    } else {
        format!("Option<{}>", ty.arg_type())
    }
}

fn wire_type(ty: SqlType, strict: bool) -> String {
    if strict {
        ty.wire_type().to_string()
    } else {
        format!("Option<{}>", ty.wire_type())
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

pub fn generate(sig: &Signature, body: &str) -> Generated {
    let mut s = String::new();
    s.push_str(
        "#![no_std]\n\
         #![deny(unsafe_code)]\n\
         extern crate plrust_std as std;\n\
         extern crate plrust_api as pgrx;\n\
         #[allow(unused_imports)]\n\
         use std::prelude::rust_2021::*;\n\
         #[allow(unused_imports)]\n\
         use std::{format, vec};\n\
         #[allow(unused_imports)]\n\
         use pgrx::prelude::*;\n\n",
    );
    let params: Vec<String> = sig
        .args
        .iter()
        .map(|a| format!("{}: {}", a.name, param_type(a.ty, sig.strict)))
        .collect();
    let _ = write!(
        s,
        "#[allow(unused_variables, unused_mut, unused_imports, dead_code, unreachable_code)]\n\
         fn plrust_body({}) -> ::core::result::Result<Option<{}>, pgrx::entry::BoxError> {{\n",
        params.join(", "),
        sig.ret.wire_type()
    );
    let body_first_line = s.lines().count() + 1;
    s.push_str(body);
    s.push_str("\n}\n\n");

    let names: Vec<&str> = sig.args.iter().map(|a| a.name.as_str()).collect();
    let types: Vec<String> = sig
        .args
        .iter()
        .map(|a| wire_type(a.ty, sig.strict))
        .collect();
    let passes: Vec<String> = sig.args.iter().map(|a| pass(a, sig.strict)).collect();
    // A one-element tuple needs its trailing comma.
    let tuple = |items: &[String]| {
        if items.len() == 1 {
            format!("({},)", items[0])
        } else {
            format!("({})", items.join(", "))
        }
    };
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let _ = write!(
        s,
        "/// The function's one exported symbol; see trusted-api/src/entry.rs.\n\
         #[allow(unsafe_code)]\n\
         #[no_mangle]\n\
         pub unsafe extern \"C\" fn plrust_entry(args: *const u8, args_len: usize, out: *mut u8, out_cap: usize) -> usize {{\n    \
             // SAFETY: the executor passes its channel's request and reply areas,\n    \
             // which meet run()'s contract.\n    \
             unsafe {{ pgrx::entry::run(args, args_len, out, out_cap, |{}: {}| plrust_body({})) }}\n\
         }}\n",
        tuple(&names),
        tuple(&types),
        passes.join(", ")
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

    #[test]
    fn names() {
        assert!(check_arg_name("a_1").is_ok());
        assert!(check_arg_name("_x").is_ok());
        assert!(check_arg_name("1a").is_err());
        assert!(check_arg_name("a-b").is_err());
        assert!(check_arg_name("").is_err());
        assert!(check_arg_name("fn").is_err());
        assert!(check_arg_name("plrust_body").is_err());
        assert!(check_arg_name("héllo").is_err());
    }

    #[test]
    fn body_lines_map_back() {
        let sig = Signature {
            args: vec![
                Arg {
                    name: "a".into(),
                    ty: SqlType::Int4,
                },
                Arg {
                    name: "s".into(),
                    ty: SqlType::Text,
                },
            ],
            ret: SqlType::Text,
            strict: false,
        };
        let g = generate(&sig, "let x = 1;\nOk(None)");
        let lines: Vec<&str> = g.source.lines().collect();
        assert_eq!(lines[g.body_first_line - 1], "let x = 1;");
        assert_eq!(lines[g.body_first_line], "Ok(None)");
        assert!(g
            .source
            .contains("fn plrust_body(a: Option<i32>, s: Option<&str>)"));
        assert!(g
            .source
            .contains("|(a, s): (Option<i32>, Option<String>)| plrust_body(a, s.as_deref())"));
    }

    #[test]
    fn strict_and_single_argument_tuples() {
        let sig = Signature {
            args: vec![Arg {
                name: "b".into(),
                ty: SqlType::Bytea,
            }],
            ret: SqlType::Void,
            strict: true,
        };
        let g = generate(&sig, "Ok(Some(()))");
        assert!(g
            .source
            .contains("fn plrust_body(b: &[u8]) -> ::core::result::Result<Option<()>"));
        assert!(g.source.contains("|(b,): (Vec<u8>,)| plrust_body(&b)"));
        let none = Signature {
            args: vec![],
            ret: SqlType::Int8,
            strict: true,
        };
        assert!(generate(&none, "Ok(None)")
            .source
            .contains("|(): ()| plrust_body()"));
    }
}
