//! AST-level screening of plrust function bodies.
//!
//! Runs before any code generation so that a body trying to escape the sandbox
//! is refused with an error that points at the offending construct, instead of
//! relying on rustc diagnostics about generated code the user never wrote.
//! Macro arguments and `macro_rules!` bodies are not parsed by syn, so their
//! tokens are screened separately and more conservatively.

use std::fmt;

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::visit::{self, Visit};
use syn::{Attribute, Block, Expr, Meta, Type};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rejection {
    /// Short name of the construct, e.g. "unsafe block", "extern crate", "include_str!", "#[no_mangle]".
    pub construct: String,
    /// 1-based line within the body text as given, 1-based column (chars).
    pub line: usize,
    pub column: usize,
    /// One sentence for the user: what is forbidden and why.
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {} is not allowed: {}",
            self.line, self.column, self.construct, self.reason
        )
    }
}

#[rustfmt::skip]
const FORBIDDEN_MACROS: &[&str] = &[
    "asm", "global_asm", "naked_asm", "llvm_asm", "include", "include_str", "include_bytes",
    "env", "option_env", "concat_idents",
];

#[rustfmt::skip]
const FORBIDDEN_ATTRS: &[&str] = &[
    "path", "no_mangle", "export_name", "link_section", "link", "link_name", "link_ordinal",
    "used", "naked", "panic_handler", "global_allocator", "alloc_error_handler", "no_std",
    "no_main", "no_core", "start", "feature", "register_tool", "crate_type", "crate_name",
    "windows_subsystem", "unsafe", "target_feature", "instruction_set", "cfg_attr",
];

const UNSAFE: &str = "plrust functions may not use unsafe code";
const FFI: &str = "plrust functions may not declare or call foreign (FFI) code";

/// Check a function body (the text between $$ ... $$, verbatim; it often begins with a newline).
pub fn check_body(body: &str) -> Result<(), Rejection> {
    // The brace goes on the body's first line so that span lines equal body lines.
    // Parsing exactly one braced block means a stray `}` in the body cannot end the
    // function early and smuggle in crate-level items.
    let wrapped = format!("{{{body}\n}}");
    let parser = |input: ParseStream| {
        let content;
        syn::braced!(content in input);
        let attrs = content.call(Attribute::parse_inner)?;
        let stmts = content.call(Block::parse_within)?;
        Ok((attrs, stmts))
    };
    // Lexing separately gives a clearer message than syn's generic one for lex errors.
    let tokens: TokenStream = wrapped.parse().map_err(|e: proc_macro2::LexError| {
        let reason = "the body has an unbalanced delimiter or an unterminated literal or comment";
        rejection(body, e.span(), "syntax error".into(), reason)
    })?;
    let (attrs, stmts) = parser
        .parse2(tokens)
        .map_err(|e| rejection(body, e.span(), "syntax error".into(), &e.to_string()))?;

    let mut checker = Checker { body, found: None };
    attrs.iter().for_each(|a| checker.visit_attribute(a));
    stmts.iter().for_each(|s| checker.visit_stmt(s));
    checker.found.map_or(Ok(()), Err)
}

fn rejection(body: &str, span: Span, construct: String, reason: &str) -> Rejection {
    let start = span.start();
    let last_line = body.split('\n').count();
    let line = start.line.clamp(1, last_line);
    // On line 1 the wrapper's `{` shifts everything right by one char, which exactly
    // cancels the conversion from 0-based to 1-based columns.
    let column = if start.line == 1 {
        start.column
    } else {
        start.column + 1
    };
    Rejection {
        construct,
        line,
        column: column.max(1),
        reason: reason.into(),
    }
}

fn macro_reason(name: &str) -> &'static str {
    match name {
        "asm" | "global_asm" | "naked_asm" | "llvm_asm" => {
            "plrust functions may not use inline assembly"
        }
        "env" | "option_env" => "plrust functions may not read the build environment",
        "concat_idents" => {
            "plrust functions may not assemble identifiers that would escape these checks"
        }
        _ => "plrust functions may not read files from the database server",
    }
}

fn is_forbidden_attr(name: &str) -> bool {
    FORBIDDEN_ATTRS.contains(&name) || name.starts_with("rustc_") || name.starts_with("ffi_")
}

/// Whether a lint list names an unsafe-code lint, or a macro variable (`$lint`)
/// that could stand for one.
fn names_unsafe_lint(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(id) => {
            let name = id.unraw().to_string();
            name == "unsafe_code" || name == "unsafe_op_in_unsafe_fn"
        }
        TokenTree::Punct(p) => p.as_char() == '$',
        TokenTree::Group(g) => names_unsafe_lint(g.stream()),
        TokenTree::Literal(_) => false,
    })
}

/// Shared by real attributes and attributes found in macro tokens.
fn attr_problem(inner: bool, meta: &Meta) -> Option<(String, &'static str)> {
    let segments: Vec<String> = meta
        .path()
        .segments
        .iter()
        .map(|s| s.ident.unraw().to_string())
        .collect();
    let name = segments.join("::");
    if segments.iter().any(|s| is_forbidden_attr(s)) {
        let reason = if name == "cfg_attr" {
            "it can apply any other attribute, including forbidden ones"
        } else {
            "it controls linking, symbols or compiler internals, which plrust functions may not change"
        };
        return Some((format!("#[{name}]"), reason));
    }
    // `//!` comments become inner `doc` attributes and are harmless.
    let inner_doc =
        name == "doc" && matches!(meta, Meta::NameValue(nv) if matches!(nv.value, Expr::Lit(_)));
    if inner && !inner_doc {
        return Some((format!("inner attribute #![{name}]"), "plrust functions may not use inner attributes, which change how the whole function is compiled"));
    }
    if let Meta::List(list) = meta {
        if ["allow", "warn", "expect"].contains(&name.as_str())
            && names_unsafe_lint(list.tokens.clone())
        {
            return Some((
                format!("#[{name}(unsafe_code)]"),
                "plrust functions may not relax the unsafe-code lints",
            ));
        }
    }
    None
}

/// Whether the tokens after `mod` are `name { ... }` (or `$name { ... }`).
fn is_inline_module(rest: &[TokenTree]) -> bool {
    let rest = match rest.first() {
        Some(TokenTree::Punct(p)) if p.as_char() == '$' => &rest[1..],
        _ => rest,
    };
    matches!(rest, [TokenTree::Ident(_), TokenTree::Group(g), ..] if g.delimiter() == Delimiter::Brace)
}

struct Checker<'b> {
    body: &'b str,
    /// Earliest rejection in the body, so the user is told about the first problem.
    found: Option<Rejection>,
}

impl Checker<'_> {
    fn reject(&mut self, span: Span, construct: impl Into<String>, reason: &str) {
        let r = rejection(self.body, span, construct.into(), reason);
        if self
            .found
            .as_ref()
            .is_none_or(|f| (r.line, r.column) < (f.line, f.column))
        {
            self.found = Some(r);
        }
    }

    /// Macro input is opaque to syn and may later be expanded into anything, so
    /// even bare mentions of forbidden macro names are refused: a helper macro
    /// could splice `env` into `$name!(...)`. For the same reason an attribute
    /// whose name comes from a macro variable (`#[$m]`) is refused.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let tts: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tt) in tts.iter().enumerate() {
            match tt {
                TokenTree::Group(g) => self.scan_tokens(g.stream()),
                TokenTree::Ident(id) => {
                    let name = id.unraw().to_string();
                    match name.as_str() {
                        "unsafe" => self.reject(id.span(), "unsafe", UNSAFE),
                        "extern" => self.reject(id.span(), "extern", FFI),
                        "mod" if !is_inline_module(&tts[i + 1..]) => self.reject(
                            id.span(),
                            "out-of-line module",
                            "plrust functions may not load modules from other files",
                        ),
                        n if FORBIDDEN_MACROS.contains(&n) => {
                            self.reject(id.span(), format!("{n}!"), macro_reason(n))
                        }
                        _ => {}
                    }
                }
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    let inner =
                        matches!(tts.get(i + 1), Some(TokenTree::Punct(b)) if b.as_char() == '!');
                    let Some(TokenTree::Group(g)) = tts.get(i + 1 + usize::from(inner)) else {
                        continue;
                    };
                    if g.delimiter() != Delimiter::Bracket {
                        continue;
                    }
                    match syn::parse2::<Meta>(g.stream()) {
                        Ok(meta) => {
                            if let Some((construct, reason)) = attr_problem(inner, &meta) {
                                self.reject(p.span(), construct, reason);
                            }
                        }
                        Err(_) => self.reject(
                            p.span(),
                            "attribute built from macro input",
                            "plrust cannot tell whether an attribute named by a macro variable is forbidden",
                        ),
                    }
                }
                _ => {}
            }
        }
    }

    fn check_import(&mut self, ident: &syn::Ident) {
        let name = ident.unraw().to_string();
        if FORBIDDEN_MACROS.contains(&name.as_str()) {
            self.reject(
                ident.span(),
                format!("import of {name}"),
                macro_reason(&name),
            );
        }
    }
}

/// Finds `&'static` anywhere inside an impl's self type.
struct StaticRef(Option<Span>);

impl<'ast> Visit<'ast> for StaticRef {
    fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
        if let Some(lt) = r.lifetime.as_ref().filter(|lt| lt.ident == "static") {
            self.0.get_or_insert(lt.apostrophe);
        }
        visit::visit_type_reference(self, r);
    }
}

/// syn keeps syntax it recognises but does not model as raw tokens, which the
/// visitor would otherwise skip.
macro_rules! verbatim_visits {
    ($($method:ident($ty:ty) => $variant:path;)*) => {$(
        fn $method(&mut self, node: &'ast $ty) {
            if let $variant(tokens) = node {
                self.scan_tokens(tokens.clone());
            }
            visit::$method(self, node);
        }
    )*};
}

impl<'ast> Visit<'ast> for Checker<'_> {
    verbatim_visits! {
        visit_item(syn::Item) => syn::Item::Verbatim;
        visit_impl_item(syn::ImplItem) => syn::ImplItem::Verbatim;
        visit_trait_item(syn::TraitItem) => syn::TraitItem::Verbatim;
        visit_foreign_item(syn::ForeignItem) => syn::ForeignItem::Verbatim;
        visit_expr(Expr) => Expr::Verbatim;
        visit_type(Type) => Type::Verbatim;
        visit_pat(syn::Pat) => syn::Pat::Verbatim;
        visit_type_param_bound(syn::TypeParamBound) => syn::TypeParamBound::Verbatim;
    }

    fn visit_expr_unsafe(&mut self, e: &'ast syn::ExprUnsafe) {
        self.reject(e.unsafe_token.span, "unsafe block", UNSAFE);
        visit::visit_expr_unsafe(self, e);
    }

    fn visit_signature(&mut self, sig: &'ast syn::Signature) {
        if let Some(u) = &sig.unsafety {
            self.reject(u.span, "unsafe fn", UNSAFE);
        }
        if let Some(abi) = &sig.abi {
            self.reject(abi.extern_token.span, "extern fn", FFI);
        }
        visit::visit_signature(self, sig);
    }

    fn visit_type_bare_fn(&mut self, f: &'ast syn::TypeBareFn) {
        if let Some(u) = &f.unsafety {
            self.reject(u.span, "unsafe fn pointer type", UNSAFE);
        }
        if let Some(abi) = &f.abi {
            self.reject(abi.extern_token.span, "extern fn pointer type", FFI);
        }
        visit::visit_type_bare_fn(self, f);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if let Some(u) = &item.unsafety {
            self.reject(u.span, "unsafe impl", UNSAFE);
        }
        if let Some(last) = item
            .trait_
            .as_ref()
            .and_then(|(_, path, _)| path.segments.last())
        {
            let name = last.ident.unraw().to_string();
            if ["Fn", "FnMut", "FnOnce"].contains(&name.as_str()) {
                self.reject(
                    last.ident.span(),
                    format!("impl {name}"),
                    "plrust functions may not implement the closure traits by hand",
                );
            } else if name == "Send" || name == "Sync" {
                self.reject(
                    last.ident.span(),
                    format!("impl {name}"),
                    "plrust functions may not assert thread safety for their own types",
                );
            }
        }
        let mut finder = StaticRef(None);
        finder.visit_type(&item.self_ty);
        if let Some(span) = finder.0 {
            self.reject(
                span,
                "impl for a &'static type",
                "such impls can exploit a known soundness bug in rustc",
            );
        }
        visit::visit_item_impl(self, item);
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        if let Some(u) = &item.unsafety {
            self.reject(u.span, "unsafe trait", UNSAFE);
        }
        visit::visit_item_trait(self, item);
    }

    fn visit_item_foreign_mod(&mut self, item: &'ast syn::ItemForeignMod) {
        match &item.unsafety {
            Some(u) => self.reject(u.span, "unsafe extern block", FFI),
            None => self.reject(item.abi.extern_token.span, "extern block", FFI),
        }
        visit::visit_item_foreign_mod(self, item);
    }

    fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
        self.reject(
            item.extern_token.span,
            "extern crate",
            "plrust functions may not link to other crates",
        );
        visit::visit_item_extern_crate(self, item);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if let Some(u) = &item.unsafety {
            self.reject(u.span, "unsafe mod", UNSAFE);
        }
        if item.content.is_none() {
            self.reject(
                item.mod_token.span,
                "out-of-line module",
                "plrust functions may not load modules from other files",
            );
        }
        visit::visit_item_mod(self, item);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if let Some(last) = mac.path.segments.last() {
            let name = last.ident.unraw().to_string();
            if FORBIDDEN_MACROS.contains(&name.as_str()) {
                self.reject(last.ident.span(), format!("{name}!"), macro_reason(&name));
            }
        }
        self.scan_tokens(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }

    fn visit_use_name(&mut self, u: &'ast syn::UseName) {
        self.check_import(&u.ident);
    }

    fn visit_use_rename(&mut self, u: &'ast syn::UseRename) {
        self.check_import(&u.ident);
    }

    fn visit_attribute(&mut self, attr: &'ast Attribute) {
        let inner = matches!(attr.style, syn::AttrStyle::Inner(_));
        if let Some((construct, reason)) = attr_problem(inner, &attr.meta) {
            self.reject(attr.pound_token.span, construct, reason);
        }
        if let Meta::List(list) = &attr.meta {
            self.scan_tokens(list.tokens.clone());
        }
        visit::visit_attribute(self, attr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn rejects(body: &str, construct: &str, line: usize) -> Rejection {
        let r = check_body(body).expect_err("body should be rejected");
        assert_eq!((r.construct.as_str(), r.line), (construct, line), "{r}");
        r
    }

    #[track_caller]
    fn passes(body: &str) {
        if let Err(r) = check_body(body) {
            panic!("body should pass, got {r}");
        }
    }

    #[test]
    fn unsafe_block_in_nested_closure() {
        let r = rejects(
            "\nlet f = |x: i32| {\n    let g = || unsafe { x };\n    g()\n};\nOk(Some(f(1)))",
            "unsafe block",
            3,
        );
        assert_eq!(r.column, 16);
        assert_eq!(r.to_string(), "line 3, column 16: unsafe block is not allowed: plrust functions may not use unsafe code");
    }

    #[test]
    fn unsafe_fn_in_impl_in_nested_fn() {
        rejects(
            "\nfn outer() {\n    struct S; impl S { unsafe fn f(&self) {} }\n}\nOk(None)",
            "unsafe fn",
            3,
        );
    }

    #[test]
    fn unsafe_everywhere_else() {
        assert_eq!(
            rejects("unsafe impl Send for X {}", "unsafe impl", 1).column,
            1
        );
        assert_eq!(
            rejects("let x = 1; unsafe {}", "unsafe block", 1).column,
            12
        );
        rejects("\n\nunsafe trait T {}", "unsafe trait", 3);
        rejects(
            "\nlet f: unsafe fn() = todo!();",
            "unsafe fn pointer type",
            2,
        );
        rejects(
            "\nlet f: extern \"C\" fn() = todo!();",
            "extern fn pointer type",
            2,
        );
        rejects("\n\nextern \"C\" fn f() {}", "extern fn", 3);
        rejects(
            "\n\nunsafe extern \"C\" { fn abort(); }",
            "unsafe extern block",
            3,
        );
    }

    #[test]
    fn unsafe_in_macro_rules() {
        rejects(
            "\nmacro_rules! m {\n    () => { unsafe { 1 } };\n}\nOk(Some(m!()))",
            "unsafe",
            3,
        );
    }

    #[test]
    fn include_str_in_format_args() {
        let r = rejects(
            "\nlet x = 1;\nlet s = format!(\"{}{}\", x, include_str!(\"/etc/passwd\"));",
            "include_str!",
            3,
        );
        assert_eq!(r.column, 28);
    }

    #[test]
    fn renamed_import_of_forbidden_macro() {
        rejects(
            "\n\nuse core::include_str as x;\nOk(Some(x!(\"/etc/passwd\").len() as i32))",
            "import of include_str",
            3,
        );
        rejects("\nuse std::{env as e};", "import of env", 2);
        rejects(
            "\nlet v = vec![{ use core::include_str as x; x!(\"/etc/passwd\") }];",
            "include_str!",
            2,
        );
    }

    #[test]
    fn macro_name_passed_into_helper_macro() {
        rejects(
            "\nmacro_rules! call { ($m:ident) => { $m!(\"HOME\") } }\nOk(Some(call!(env)))",
            "env!",
            3,
        );
        rejects(
            "\nmacro_rules! a { ($m:meta) => { #[$m] fn f() {} } }",
            "attribute built from macro input",
            2,
        );
        rejects(
            "\nmacro_rules! a { () => { #[no_mangle] fn f() {} } }",
            "#[no_mangle]",
            2,
        );
        rejects(
            "\nmacro_rules! a { ($l:ident) => { #[allow($l)] fn f() {} } }",
            "#[allow(unsafe_code)]",
            2,
        );
        rejects(
            "\nmacro_rules! a { () => { mod m; } }",
            "out-of-line module",
            2,
        );
    }

    #[test]
    fn inner_attributes() {
        rejects(
            "\n#![allow(unsafe_code)]\nOk(None)",
            "inner attribute #![allow]",
            2,
        );
        rejects(
            "\nlet x = { #![allow(unused)] 1 };",
            "inner attribute #![allow]",
            2,
        );
        passes("\n//! Adds one.\nOk(Some(1))");
    }

    #[test]
    fn modules() {
        rejects("\n\n#[path = \"/etc/passwd\"] mod m;", "#[path]", 3);
        rejects("\n\nmod m;", "out-of-line module", 3);
        passes("mod m { pub fn f() -> i32 { 1 } }\nOk(Some(m::f()))");
    }

    #[test]
    fn ffi() {
        rejects("\n\nextern \"C\" { fn abort(); }", "extern block", 3);
        rejects("\n\nextern crate std as s;", "extern crate", 3);
    }

    #[test]
    fn forbidden_macros() {
        rejects("\n\nasm!(\"nop\");", "asm!", 3);
        rejects("\n\nstd::arch::asm!(\"nop\");", "asm!", 3);
        rejects("\n\nlet h = env!(\"HOME\");", "env!", 3);
        rejects("\n\nlet h = option_env!(\"HOME\");", "option_env!", 3);
        rejects(
            "\n\nlet b: [u8; 1] = *include_bytes!(\"/x\");",
            "include_bytes!",
            3,
        );
        rejects(
            "\n\n/// x\n#[doc = include_str!(\"/etc/passwd\")]\nfn f() {}",
            "include_str!",
            4,
        );
    }

    #[test]
    fn forbidden_attributes() {
        rejects("\n\n#[no_mangle] fn f() {}", "#[no_mangle]", 3);
        rejects("\n\n#[export_name = \"x\"] fn f() {}", "#[export_name]", 3);
        rejects(
            "\n\n#[link_section = \".init_array\"] static X: u8 = 0;",
            "#[link_section]",
            3,
        );
        rejects("\n\n#[used] static Y: u8 = 0;", "#[used]", 3);
        rejects(
            "\n\n#[cfg_attr(all(), no_mangle)] fn f() {}",
            "#[cfg_attr]",
            3,
        );
        rejects(
            "\n\n#[rustc_layout_scalar_valid_range_start(1)] struct S(u8);",
            "#[rustc_layout_scalar_valid_range_start]",
            3,
        );
        rejects(
            "\n\n#[allow(unsafe_code)] fn f() {}",
            "#[allow(unsafe_code)]",
            3,
        );
        rejects("\nstruct S {\n    #[used] x: u8,\n}", "#[used]", 3);
        rejects("\n\n#[unsafe(no_mangle)] fn f() {}", "#[unsafe]", 3);
    }

    #[test]
    fn soundness_hole_shapes() {
        rejects("\nstruct F;\nimpl FnOnce<()> for F {}", "impl FnOnce", 3);
        rejects(
            "\ntrait T {}\nimpl T for &'static str {}",
            "impl for a &'static type",
            3,
        );
        passes("\ntrait T {}\nimpl<'a> T for &'a str {}\nOk(None)");
    }

    #[test]
    fn escaping_the_wrapper_is_a_syntax_error() {
        let r = rejects(
            "\nOk(None) } #[no_mangle] pub extern \"C\" fn evil() {",
            "syntax error",
            2,
        );
        assert_eq!(r.column, 12);
        rejects("\nlet x = ;", "syntax error", 2);
        rejects("\nOk(None)\n}", "syntax error", 3);
        rejects("\nlet x = 1;\n/* unterminated", "syntax error", 3);
    }

    #[test]
    fn ordinary_bodies_pass() {
        passes("\nOk(Some(a.unwrap_or(0) + 1))\n");
        passes("Ok(Some(a? + b?))");
        passes("\nlet v: Vec<i32> = vec![1, 2, 3];\nOk(Some(v.iter().sum()))");
        passes("\n#[derive(Debug, Clone)]\nstruct P { x: i32 }\nimpl P { fn get(&self) -> i32 { self.x } }\nOk(Some(P { x: 1 }.clone().get()))");
        passes("\nmacro_rules! double { ($e:expr) => { $e * 2 } }\nOk(Some(double!(21)))");
        passes("\nlet x = 5;\nOk(Some(format!(\"{}\", x)))");
        passes("\nlet add = |a: i32, b: i32| a + b;\nOk(Some(add(1, 2)))");
        passes("\nlet r = match a { Some(0) => 1, Some(n) => n, None => 0 };\nOk(Some(r))");
        passes("\n/// Helps.\nfn helper() -> i32 { 1 }\nOk(Some(helper()))");
        passes("\n#[allow(dead_code)] fn helper() {}\nOk(None)");
        passes("\nlet n: i32 = \"42\".parse()?;\nOk(Some(n))");
        passes("\nlet s = \"unsafe extern include_str!\";\nOk(Some(s.len() as i32))");
        passes("\n// unsafe { } is not used here\n/* extern crate */\nOk(None)");
        passes("\nlet path = \"x\"; let start = 1;\nprintln!(\"{path} {}\", start);\nOk(None)");
        passes(
            "\n#[inline] #[must_use] fn f() -> i32 { 1 }\n#[repr(C)] struct S(u8);\nOk(Some(f()))",
        );
    }
}
