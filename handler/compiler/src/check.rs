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
use syn::spanned::Spanned;
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

/// Auto and built-in marker traits. A hand-written impl asserts a property the
/// compiler would otherwise have to prove (thread, unwind or pinning safety), and
/// several such impls are known ways into safe-code unsoundness.
#[rustfmt::skip]
const AUTO_TRAITS: &[&str] = &[
    "Send", "Sync", "Unpin", "UnwindSafe", "RefUnwindSafe", "Freeze", "Sized",
];

/// Traits whose impls are refused; renaming one on import would hide it from that check.
const CLOSURE_TRAITS: &[&str] = &["Fn", "FnMut", "FnOnce"];

const UNSAFE: &str = "plrust functions may not use unsafe code";
const FFI: &str = "plrust functions may not declare or call foreign (FFI) code";
const IMPLIED_BOUNDS: &str = "it can exploit a known soundness bug in rustc (rust-lang/rust#25860) that stretches a borrow to outlive its data";
const TRAIT_OBJECT: &str = "it can exploit a known soundness bug in rustc (rust-lang/rust#57893) that lets safe code transmute between types";

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

    /// rustc infers outlives bounds from parameter types and then forgets them
    /// when a fn is coerced to a fn pointer, so `&'a &'b ()` in a signature is
    /// the usual way to build a lifetime-extending function.
    fn check_param_type(&mut self, ty: &Type) {
        let mut finder = NestedLifetimes(None);
        finder.visit_type(ty);
        if let Some(span) = finder.0 {
            self.reject(span, "nested lifetimes in a parameter", IMPLIED_BOUNDS);
        }
    }

    /// The rust-lang/rust#57893 exploit instantiates an unsized type parameter
    /// with a `dyn` type. Like PL/Rust's lint this looks only at top-level
    /// arguments, since nested ones (`Vec::<Box<dyn Any>>::new()`) are ordinary.
    fn check_turbofish(&mut self, path: &syn::Path) {
        for seg in &path.segments {
            let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
                continue;
            };
            for arg in &args.args {
                if let syn::GenericArgument::Type(Type::TraitObject(obj)) = arg {
                    self.reject(
                        trait_object_span(obj),
                        "trait object as a generic argument",
                        TRAIT_OBJECT,
                    );
                }
            }
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

fn is_named(lt: &syn::Lifetime) -> bool {
    lt.ident != "_"
}

/// Lifetimes that could be stretched: `'static` and `'_` name nothing a caller
/// can choose, so bounds involving them cannot be exploited.
fn is_free(lt: &syn::Lifetime) -> bool {
    is_named(lt) && lt.ident != "static"
}

/// Collects lifetimes mentioned inside a type, except those bound there by a
/// `for<...>` binder: a caller cannot choose those.
#[derive(Default)]
struct Lifetimes<'ast> {
    used: Vec<&'ast syn::Lifetime>,
    bound: Vec<&'ast syn::Ident>,
}

impl<'ast> Visit<'ast> for Lifetimes<'ast> {
    fn visit_lifetime(&mut self, lt: &'ast syn::Lifetime) {
        self.used.push(lt);
    }

    fn visit_bound_lifetimes(&mut self, b: &'ast syn::BoundLifetimes) {
        for param in &b.lifetimes {
            if let syn::GenericParam::Lifetime(l) = param {
                self.bound.push(&l.lifetime.ident);
            }
        }
    }
}

fn lifetimes_in<'ast>(visit: impl FnOnce(&mut Lifetimes<'ast>)) -> Vec<&'ast syn::Lifetime> {
    let mut found = Lifetimes::default();
    visit(&mut found);
    let bound = found.bound;
    found.used.retain(|lt| !bound.contains(&&lt.ident));
    found.used
}

/// Whether `lifetimes` name a caller-chosen lifetime other than `outer`.
fn names_other(lifetimes: &[&syn::Lifetime], outer: Option<&syn::Lifetime>) -> bool {
    lifetimes
        .iter()
        .any(|lt| is_free(lt) && outer.is_none_or(|o| o.ident != lt.ident))
}

/// Finds a named lifetime `'a` whose contents name a different, caller-chosen
/// lifetime `'b`: `&'a &'b T`, `&'a Foo<'b>`, `Foo<'a, 'b>`. Each makes rustc
/// assume `'b: 'a`. `&'a &'static T` and `Cow<'a, str>` assume nothing useful.
struct NestedLifetimes(Option<Span>);

impl<'ast> Visit<'ast> for NestedLifetimes {
    fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
        if let Some(outer) = r.lifetime.as_ref().filter(|lt| is_named(lt)) {
            if names_other(&lifetimes_in(|f| f.visit_type(&r.elem)), Some(outer)) {
                self.0.get_or_insert(outer.apostrophe);
            }
        }
        visit::visit_type_reference(self, r);
    }

    fn visit_angle_bracketed_generic_arguments(
        &mut self,
        args: &'ast syn::AngleBracketedGenericArguments,
    ) {
        let all = lifetimes_in(|f| f.visit_angle_bracketed_generic_arguments(args));
        for arg in &args.args {
            if let syn::GenericArgument::Lifetime(outer) = arg {
                if is_named(outer) && names_other(&all, Some(outer)) {
                    self.0.get_or_insert(outer.apostrophe);
                }
            }
        }
        visit::visit_angle_bracketed_generic_arguments(self, args);
    }
}

/// Finds, in a fn pointer's input, a reference to something that holds a
/// reference or a caller-chosen lifetime, or a `&'static`: the argument shapes
/// through which a pointer to a lifetime-extending fn is called.
struct NestedRefInput(Option<Span>);

impl<'ast> Visit<'ast> for NestedRefInput {
    fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
        if let Some(lt) = r.lifetime.as_ref().filter(|lt| lt.ident == "static") {
            self.0.get_or_insert(lt.apostrophe);
        }
        let mut inner = HasReference(false);
        inner.visit_type(&r.elem);
        let named = lifetimes_in(|f| f.visit_type(&r.elem));
        if inner.0 || names_other(&named, r.lifetime.as_ref()) {
            self.0.get_or_insert(r.and_token.spans[0]);
        }
        visit::visit_type_reference(self, r);
    }
}

struct HasReference(bool);

impl<'ast> Visit<'ast> for HasReference {
    fn visit_type_reference(&mut self, _: &'ast syn::TypeReference) {
        self.0 = true;
    }
}

struct InferredType(Option<Span>);

impl<'ast> Visit<'ast> for InferredType {
    fn visit_type_infer(&mut self, t: &'ast syn::TypeInfer) {
        self.0.get_or_insert(t.underscore_token.spans[0]);
    }
}

/// Finds a `dyn` trait object anywhere inside a type.
struct TraitObject(Option<Span>);

impl<'ast> Visit<'ast> for TraitObject {
    fn visit_type_trait_object(&mut self, obj: &'ast syn::TypeTraitObject) {
        self.0.get_or_insert(trait_object_span(obj));
        visit::visit_type_trait_object(self, obj);
    }
}

fn trait_object_span(obj: &syn::TypeTraitObject) -> Span {
    obj.dyn_token.map_or_else(|| obj.span(), |d| d.span)
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
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(r) => self.check_param_type(&r.ty),
                syn::FnArg::Typed(t) => self.check_param_type(&t.ty),
            }
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
        let mut finder = NestedRefInput(None);
        f.inputs.iter().for_each(|arg| finder.visit_type(&arg.ty));
        // cve-rs writes the nested input as `_`, so an inferred input is refused
        // when the output borrows for a lifetime the caller names.
        if let syn::ReturnType::Type(_, out) = &f.output {
            if lifetimes_in(|l| l.visit_type(out))
                .iter()
                .any(|lt| is_named(lt))
            {
                let mut infer = InferredType(None);
                f.inputs.iter().for_each(|arg| infer.visit_type(&arg.ty));
                finder.0 = finder.0.or(infer.0);
            }
        }
        if let Some(span) = finder.0 {
            self.reject(span, "fn pointer with nested references", IMPLIED_BOUNDS);
        }
        visit::visit_type_bare_fn(self, f);
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        for input in &c.inputs {
            if let syn::Pat::Type(t) = input {
                self.check_param_type(&t.ty);
            }
        }
        visit::visit_expr_closure(self, c);
    }

    fn visit_type_param(&mut self, p: &'ast syn::TypeParam) {
        let mut finder = TraitObject(None);
        if let Some(default) = &p.default {
            finder.visit_type(default);
        }
        if let Some(span) = finder.0 {
            self.reject(span, "trait object as a generic default", TRAIT_OBJECT);
        }
        visit::visit_type_param(self, p);
    }

    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        self.check_turbofish(&e.path);
        visit::visit_expr_path(self, e);
    }

    fn visit_expr_struct(&mut self, e: &'ast syn::ExprStruct) {
        self.check_turbofish(&e.path);
        visit::visit_expr_struct(self, e);
    }

    fn visit_expr_method_call(&mut self, e: &'ast syn::ExprMethodCall) {
        if let Some(args) = &e.turbofish {
            let path = syn::Path::from(syn::PathSegment {
                ident: e.method.clone(),
                arguments: syn::PathArguments::AngleBracketed(args.clone()),
            });
            self.check_turbofish(&path);
        }
        visit::visit_expr_method_call(self, e);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if let Some(u) = &item.unsafety {
            self.reject(u.span, "unsafe impl", UNSAFE);
        }
        if let Some((negative, path, _)) = &item.trait_ {
            let last = path.segments.last();
            let name = last.map_or(String::new(), |s| s.ident.unraw().to_string());
            if let Some(not) = negative {
                self.reject(
                    not.spans[0],
                    format!("impl !{name}"),
                    "negative impls are an unstable feature that changes which auto traits a type has",
                );
            }
            if let Some(last) = last {
                if CLOSURE_TRAITS.contains(&name.as_str()) {
                    self.reject(
                        last.ident.span(),
                        format!("impl {name}"),
                        "plrust functions may not implement the closure traits by hand",
                    );
                } else if AUTO_TRAITS.contains(&name.as_str()) {
                    self.reject(
                        last.ident.span(),
                        format!("impl {name}"),
                        "plrust functions may not implement auto or marker traits by hand, which asserts a safety property the compiler has not proved",
                    );
                }
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
        let name = u.ident.unraw().to_string();
        if AUTO_TRAITS.contains(&name.as_str()) || CLOSURE_TRAITS.contains(&name.as_str()) {
            self.reject(
                u.ident.span(),
                format!("renamed import of {name}"),
                "a renamed trait would hide a forbidden impl of it from these checks",
            );
        }
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

    #[test]
    fn nested_lifetimes_in_parameters() {
        const C: &str = "nested lifetimes in a parameter";
        // cve-rs's lifetime_translator.
        let r = rejects(
            "\nfn translate<'a, 'b, T>(_: &'a &'b (), v: &'b T) -> &'a T { v }",
            C,
            2,
        );
        assert_eq!(r.column, 29);
        assert!(r.reason.contains("rust-lang/rust#25860"), "{r}");
        rejects(
            "\nstruct S;\nimpl S {\n    fn t<'a, 'b, T>(&self, _: &'a Foo<'b>, v: &'b T) -> &'a T { v }\n}",
            C,
            4,
        );
        rejects(
            "\ntrait Tr {\n    fn t<'a, 'b, T>(_: &'a Vec<&'b T>) -> &'a T;\n}",
            C,
            3,
        );
        rejects(
            "\nfn t<'a, 'b, T>(\n    v: &'b T,\n    _: Option<(&'a &'b (),)>,\n) -> &'a T { v }",
            C,
            4,
        );
        rejects(
            "\nfn t<'b, T>(_: &'static &'b (), v: &'b T) -> &'static T { v }",
            C,
            2,
        );
        rejects(
            "\nstruct W<'a, 'b>(&'a &'b ());\nfn t<'a, 'b, T>(_: W<'a, 'b>, v: &'b T) -> &'a T { v }",
            C,
            3,
        );
        rejects(
            "\nstruct S<'s>(&'s ());\nimpl<'s> S<'s> {\n    fn t<'a, 'b>(self: &'a S<'b>) {}\n}",
            C,
            4,
        );
        rejects(
            "\nfn outer<'a, 'b>(x: &'b i32) {\n    let f = |_: &'a &'b (), v: &'b i32| -> &'a i32 { v };\n}",
            C,
            3,
        );
    }

    #[test]
    fn ordinary_lifetimes_pass() {
        passes("\nfn f(x: &&i32) -> i32 { **x }\nOk(Some(f(&&1)))");
        passes("\nfn f<'a>(x: &'a str) -> &'a str { x }\nOk(Some(f(\"x\").len() as i32))");
        passes("\nfn f<'a, T>(x: &'a [T]) -> &'a [T] { x }\nOk(None)");
        passes("\nfn f<'a>(x: &'a [&'a str]) -> &'a str { x[0] }\nOk(None)");
        passes("\nfn f<'a>(x: &'a [&str], y: &'a [&'static str]) {}\nOk(None)");
        passes("\nfn f<'a>(x: &'a mut std::fmt::Formatter<'_>) {}\nOk(None)");
        passes("\nuse std::borrow::Cow;\nfn f<'a>(x: Cow<'a, str>, y: &'a Cow<'static, str>) {}\nOk(None)");
        passes("\nstruct P<'s>(&'s str);\nimpl<'s> P<'s> { fn get<'a>(&'a self) -> &'s str { self.0 } }\nOk(None)");
        passes("\nfn f<'a, 'b>(x: &'a str, y: &'b str) -> &'a str { x }\nOk(None)");
        passes("\nlet add: fn(i32, i32) -> i32 = |a, b| a + b;\nOk(Some(add(1, 2)))");
        passes("\nlet len: fn(&str) -> usize = str::len;\nOk(Some(len(\"ab\") as i32))");
        passes("\nlet f: fn(_) -> i32 = |x: i32| x;\nOk(Some(f(1)))");
        passes("\nlet f = |x: &str, y: &&i32| x.len() as i32 + **y;\nOk(Some(f(\"a\", &&1)))");
        passes("\nfn f<'a>(g: &'a dyn for<'x> Fn(&'x str) -> &'x str) {}\nOk(None)");
        passes("\nstruct S<'s>(&'s str);\nlet g: for<'x> fn(&'x S<'x>) -> &'x str = |s| s.0;\nOk(None)");
    }

    #[test]
    fn fn_pointers_with_nested_references() {
        const C: &str = "fn pointer with nested references";
        rejects(
            "\nlet f: for<'x> fn(&'x &'static (), &'x T) -> &'static T = translate;",
            C,
            2,
        );
        let r = rejects("\nlet f: fn(&&(), &i32) -> &'static i32 = t;", C, 2);
        assert_eq!(r.column, 11);
        rejects("\nlet f: fn(&'static (), &i32) = t;", C, 2);
        rejects("\nlet f: fn(&Vec<&i32>) = t;", C, 2);
        rejects("\ntype F<'b> = fn(&S<'b>) -> i32;", C, 2);
        // cve-rs leaves the nested input to inference.
        rejects(
            "\nfn expand<'a, 'b, T>(x: &'a T) -> &'b T {\n    let f: for<'x> fn(_, &'x T) -> &'b T = translate;\n    f(&&(), x)\n}",
            C,
            3,
        );
        rejects("\nlet f: fn(_, &i32) -> &'static i32 = t;", C, 2);
    }

    #[test]
    fn auto_trait_impls() {
        rejects("\nstruct X;\nimpl Unpin for X {}", "impl Unpin", 3);
        rejects(
            "\nimpl std::panic::UnwindSafe for X {}",
            "impl UnwindSafe",
            2,
        );
        rejects("\nimpl RefUnwindSafe for X {}", "impl RefUnwindSafe", 2);
        rejects("\nimpl core::marker::Freeze for X {}", "impl Freeze", 2);
        rejects("\nimpl Sized for X {}", "impl Sized", 2);
        rejects("\nimpl Send for X {}", "impl Send", 2);
        rejects("\nimpl<T> Sync for X<T> {}", "impl Sync", 2);
        let r = rejects("\nimpl !Send for X {}", "impl !Send", 2);
        assert_eq!(r.column, 6);
        rejects("\n\nimpl !Clone for X {}", "impl !Clone", 3);
        rejects(
            "\nuse std::marker::Unpin as U;\nimpl U for X {}",
            "renamed import of Unpin",
            2,
        );
        passes("\nstruct X;\nimpl Clone for X { fn clone(&self) -> X { X } }\nimpl Default for X { fn default() -> X { X } }\nOk(None)");
        passes(
            "\nuse std::marker::Unpin;\nfn f<T: Send + Sync + Unpin + ?Sized>(_: &T) {}\nOk(None)",
        );
        passes(
            "\nuse std::fmt::Display as D;\nfn f(x: &dyn D) -> String { x.to_string() }\nOk(None)",
        );
    }

    #[test]
    fn trait_objects_as_generic_defaults() {
        const C: &str = "trait object as a generic default";
        let r = rejects(
            "\nuse std::any::Any;\nstruct S<T: ?Sized = dyn Any>(Box<T>);",
            C,
            3,
        );
        assert_eq!(r.column, 22);
        assert!(r.reason.contains("rust-lang/rust#57893"), "{r}");
        rejects("\nfn f<T = Box<dyn Any>>() {}", C, 2);
        rejects("\ntrait Tr<T: ?Sized = dyn Fn()> {}", C, 2);
        rejects("\nimpl<T: ?Sized = dyn Any> Tr for S<T> {}", C, 2);
        rejects("\ntype A<T = dyn Any> = Box<T>;", C, 2);
        rejects(
            "\nenum E<\n    A,\n    T: ?Sized = (dyn Object<A, Output = A>),\n> { X(Box<T>) }",
            C,
            4,
        );
        const G: &str = "trait object as a generic argument";
        rejects(
            "\nfn transmute<T, U>(x: T) -> U {\n    foo::<dyn Object<U, Output = T>, U>(x)\n}",
            G,
            3,
        );
        rejects("\nlet y = x.cast::<dyn Any>();", G, 2);
        rejects("\nlet s = S::<dyn Any> { p: PhantomData };", G, 2);
        passes("\nstruct S<T = i32>(T);\nOk(None)");
        passes("\nuse std::any::Any;\nlet v: Vec<Box<dyn Any>> = Vec::new();\nlet w = Vec::<Box<dyn Fn() -> i32>>::new();\nOk(Some((v.len() + w.len()) as i32))");
        passes("\nfn f(x: &dyn std::fmt::Debug) -> Result<(), Box<dyn std::error::Error>> { Ok(()) }\nOk(None)");
        passes("\nlet n = \"1\".parse::<i32>()?;\nOk(Some(n))");
    }

    #[test]
    fn attributes_inside_nested_items() {
        rejects(
            "\nfn outer() {\n    mod m {\n        #[no_mangle] pub fn f() {}\n    }\n}",
            "#[no_mangle]",
            4,
        );
        rejects(
            "\nstruct S;\nimpl S {\n    #[export_name = \"x\"] fn f() {}\n}",
            "#[export_name]",
            4,
        );
        rejects(
            "\ntrait T {\n    #[link_section = \".init_array\"] fn f() {}\n}",
            "#[link_section]",
            3,
        );
        rejects(
            "\nlet f = || {\n    #[used] static X: u8 = 0;\n};",
            "#[used]",
            3,
        );
        rejects(
            "\nfn f() {\n    #![allow(unused)]\n}",
            "inner attribute #![allow]",
            3,
        );
        rejects("\nmod m {\n    #![no_std]\n}", "#[no_std]", 3);
    }

    #[test]
    fn more_forbidden_macros_and_attributes() {
        rejects("\n\nnaked_asm!(\"ret\");", "naked_asm!", 3);
        rejects("\n\ncore::arch::global_asm!(\"nop\");", "global_asm!", 3);
        rejects("\n#[link(name = \"c\")]\nextern \"C\" {}", "#[link]", 2);
        rejects("\n\n#[naked] fn f() {}", "#[naked]", 3);
        rejects(
            "\n\n#[panic_handler] fn p(_: &core::panic::PanicInfo) -> ! { loop {} }",
            "#[panic_handler]",
            3,
        );
        rejects(
            "\n\n#[global_allocator] static A: std::alloc::System = std::alloc::System;",
            "#[global_allocator]",
            3,
        );
        rejects(
            "\nmacro_rules! m {\n    () => { include_str!(\"/etc/passwd\") };\n}\nOk(Some(m!().len() as i32))",
            "include_str!",
            3,
        );
    }
}
