#!/usr/bin/env python3
"""Generate the inventory of PL/Rust 1.2.8's API surface and the probe that
names each item with PL/Rust's signature (tests/probe/README.md).

  generate.py PLRUST_JSON PGRX_JSON PG_SYS_JSON

They are rustdoc's JSON (format 57) of plrust-trusted-pgrx 1.2.8, pgrx 0.11.0
and pgrx-pg-sys 0.11.0, as README.md says how to make.
Writes surface.txt (one line per item) and probe.rs (a body that names every
item not listed in gaps.txt) beside this file.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Type parameters of generic impls are probed at one concrete type.
CONCRETE = "i32"
STD_TRAITS = {
    "Debug": "std::fmt::Debug", "Display": "std::fmt::Display", "Clone": "Clone", "Copy": "Copy",
    "PartialEq": "PartialEq", "Eq": "Eq", "PartialOrd": "PartialOrd", "Ord": "Ord",
    "Hash": "std::hash::Hash", "Default": "Default", "From": "From", "TryFrom": "TryFrom",
    "FromStr": "std::str::FromStr", "Iterator": "Iterator", "IntoIterator": "IntoIterator",
    "Add": "std::ops::Add", "Sub": "std::ops::Sub", "Mul": "std::ops::Mul", "Div": "std::ops::Div",
    "Rem": "std::ops::Rem", "Neg": "std::ops::Neg", "AddAssign": "std::ops::AddAssign",
    "SubAssign": "std::ops::SubAssign", "MulAssign": "std::ops::MulAssign",
    "DivAssign": "std::ops::DivAssign", "RemAssign": "std::ops::RemAssign",
    "Deref": "std::ops::Deref", "DerefMut": "std::ops::DerefMut", "Index": "std::ops::Index",
    "Error": "std::error::Error", "Sum": "std::iter::Sum", "Product": "std::iter::Product",
    "ExactSizeIterator": "ExactSizeIterator", "DoubleEndedIterator": "DoubleEndedIterator",
    "FusedIterator": "std::iter::FusedIterator", "AsRef": "AsRef", "Borrow": "std::borrow::Borrow",
    "Into": "Into", "ToString": "ToString", "Drop": None,
    # pgrx's own traits a body can name
    "FromDatum": "pgrx::FromDatum", "IntoDatum": "pgrx::IntoDatum",
    "HasExtractableParts": "pgrx::HasExtractableParts", "ToIsoString": "pgrx::ToIsoString",
    "RangeSubType": "pgrx::RangeSubType", "FnCallArg": "pgrx::FnCallArg",
}
# Traits of pgrx's machinery no body names (schema generation, SQL
# translation, unsafe datum plumbing, serde).
NOT_SURFACE_TRAITS = {"SqlTranslatable", "UnboxDatum", "BorrowDatum", "Serialize", "Deserialize",
                      "PostgresType", "ArgAbi", "BoxRet", "WithTypeIds", "WithVarlenaTypeIds",
                      "WithSizedTypeIds", "WithArrayTypeIds", "PostgresEq", "PostgresOrd",
                      "PostgresHash", "Drop", "Unpin", "Send", "Sync", "IntoHeapTuple",
                      "PgBoxWhoAllocated", "Sealed", "StructuralPartialEq", "ToSql", "FromSql", "PgDatum"}


def load(p):
    with open(p) as f:
        return json.load(f)


class Printer:
    """Renders rustdoc JSON types as Rust source, with Self and the impl's
    generics replaced by concrete types."""

    def __init__(self, self_ty, subst, static_refs=False):
        # In a where clause, unlike a fn pointer, a reference needs a lifetime.
        self.self_ty, self.subst, self.static_refs = self_ty, subst, static_refs
        # A name for the elided lifetimes of a fn pointer whose result
        # borrows (`for<'r> fn(&'r A<'static>) -> I<'r>`): elision alone
        # fails once an argument names another lifetime.
        self.elided = None

    def lifetime(self, lt):
        # In a fn pointer, `'_` (a result borrowing the one argument
        # reference) elides as in the signature; in a where clause it
        # cannot, and is probed at 'static.
        if lt == "'_" and not self.static_refs:
            return self.elided or lt
        return self.subst.get(lt, "'static") if lt != "'static" else lt

    def args(self, a):
        if not a:
            return ""
        if "angle_bracketed" in a:
            parts = []
            for x in a["angle_bracketed"]["args"]:
                if "lifetime" in x:
                    parts.append(self.lifetime(x["lifetime"]))
                elif "type" in x:
                    parts.append(self.ty(x["type"]))
                elif "const" in x:
                    parts.append(str(x["const"].get("expr", "_")))
            for c in a["angle_bracketed"].get("constraints", []):
                binding = c.get("binding", {})
                if "equality" in binding and "type" in binding["equality"]:
                    parts.append(f"{c['name']} = {self.ty(binding['equality']['type'])}")
                else:
                    raise Unprintable("bound constraint")
            return "<" + ", ".join(parts) + ">" if parts else ""
        if "parenthesized" in a:
            p = a["parenthesized"]
            out = "(" + ", ".join(self.ty(t) for t in p["inputs"]) + ")"
            return out + (" -> " + self.ty(p["output"]) if p.get("output") else "")
        raise Unprintable("args")

    def ty(self, t):
        if t is None:
            return "()"
        k, v = next(iter(t.items()))
        if k == "primitive":
            return v
        if k == "generic":
            if v == "Self":
                return self.self_ty
            if v in self.subst:
                return self.subst[v]
            raise Unprintable(f"generic {v}")
        if k == "resolved_path":
            return qualify(v["path"], v.get("id")) + self.args(v.get("args"))
        if k == "borrowed_ref":
            lt = (self.lifetime(v["lifetime"]) + " ") if v.get("lifetime") else (
                "'static " if self.static_refs else (self.elided + " " if self.elided else ""))
            return "&" + lt + ("mut " if v["is_mutable"] else "") + self.ty(v["type"])
        if k == "tuple":
            inner = ", ".join(self.ty(x) for x in v)
            return "(" + inner + ("," if len(v) == 1 else "") + ")"
        if k == "slice":
            return "[" + self.ty(v) + "]"
        if k == "array":
            return "[" + self.ty(v["type"]) + "; " + v["len"] + "]"
        if k == "raw_pointer":
            raise Unprintable("raw pointer")
        raise Unprintable(k)


class Unprintable(Exception):
    pass


# (public module, private module inside it) of std's defining paths.
PRIVATE_STD_MODULES = {("ops", "range"), ("str", "error"), ("num", "error"), ("num", "nonzero"), ("ffi", "primitives"),
                       ("ffi", "c_str")}

PRELUDE = {"Option", "Result", "String", "Vec", "Box", "Clone", "Copy", "PartialEq", "Eq",
           "PartialOrd", "Ord", "Default", "From", "Into", "TryFrom", "TryInto", "Iterator",
           "IntoIterator", "ExactSizeIterator", "DoubleEndedIterator", "AsRef", "ToString",
           "Send", "Sync", "Sized", "Fn", "FnMut", "FnOnce"}


def qualify(path, id=None):
    """A path as a body names it: std's names, pgrx's items by the path
    plrust-trusted-pgrx re-exports them under.  Raises Unprintable for an
    item a body cannot name."""
    p = PATHS.get(id) if id is not None else None
    if p is None:
        raise Unprintable(f"unresolved {path}")
    crate, full = p
    if crate in ("std", "core", "alloc"):
        if full[-1] in PRELUDE:
            return full[-1]
        if STD_TRAITS.get(full[-1]):
            return STD_TRAITS[full[-1]]
        # rustdoc gives std's items by the private module that defines
        # them (core::ops::range::Range); a body names them by the public
        # one that re-exports them (std::ops::Range).
        inner = [m for m in full[1:-1] if (full[1], m) not in PRIVATE_STD_MODULES]
        return "::".join(["std"] + inner + [full[-1]])
    body = REEXPORTED.get(tuple(full))
    if body is None:
        raise Unprintable(f"{'::'.join(full)} is not re-exported")
    return body


# The paths of the crate whose items are being printed (ids are per crate).
PATHS = {}
PGRX_PATHS = {}
REEXPORTED = {}


def main():
    plrust, pgrx, pg_sys = (load(a) for a in sys.argv[1:4])
    own = lambda j: {tuple(p["path"]): int(k) for k, p in j["paths"].items() if p["crate_id"] == 0}
    by_path = {"pgrx": own(pgrx), "pgrx_pg_sys": own(pg_sys)}
    crate_names = {int(k): v["name"] for k, v in plrust["external_crates"].items()}

    # 1. What the re-export crate makes nameable, and where.
    exported = []  # (body path, kind, pgrx id or None)
    ix = plrust["index"]

    def walk(mid, prefix):
        for c in ix[str(mid)]["inner"]["module"]["items"]:
            item = ix[str(c)]
            kind = next(iter(item["inner"]))
            if kind == "module":
                walk(c, prefix + [item["name"]])
            elif kind == "use":
                u = item["inner"]["use"]
                p = plrust["paths"].get(str(u["id"])) if u["id"] is not None else None
                if p is None or p["crate_id"] == 0 or u["is_glob"]:
                    continue
                crate = crate_names.get(p["crate_id"])
                found = by_path.get(crate, {}).get(tuple(p["path"]))
                target = None if found is None else (crate, found)
                exported.append(("::".join(prefix + [u["name"]]), p["kind"], crate, target))
    walk(plrust["root"], ["pgrx"])
    # The shortest path a body can name each item by.
    shortest = {}
    for path, kind, crate, target in exported:
        key = (kind, path.split("::")[-1])
        if key not in shortest or len(path) < len(shortest[key][0]):
            shortest[key] = (path, kind, crate, target)
    pgrx_crates = {int(k): v["name"] for k, v in pgrx["external_crates"].items()}
    pgrx_crates[0] = "pgrx"
    for k, p in pgrx["paths"].items():
        PGRX_PATHS[int(k)] = (pgrx_crates.get(p["crate_id"], "?"), p["path"])
    pg_sys_crates = {int(k): v["name"] for k, v in pg_sys["external_crates"].items()}
    pg_sys_crates[0] = "pgrx_pg_sys"
    PG_SYS_PATHS = {int(k): (pg_sys_crates.get(p["crate_id"], "?"), p["path"])
                    for k, p in pg_sys["paths"].items()}
    crates = {"pgrx": (pgrx, PGRX_PATHS), "pgrx_pg_sys": (pg_sys, PG_SYS_PATHS)}
    for path, kind, crate, target in exported:
        full = None
        if target is not None and target[0] == "pgrx":
            full = tuple(pgrx["paths"][str(target[1])]["path"])
        if full is not None and (full not in REEXPORTED or len(path) < len(REEXPORTED[full])):
            REEXPORTED[full] = path
    # pg_sys items: pgrx's paths name them by their pgrx_pg_sys path.
    for path, kind, crate, target in exported:
        if crate == "pgrx_pg_sys":
            for k, (c, f) in PGRX_PATHS.items():
                if c == "pgrx_pg_sys" and f[-1] == path.split("::")[-1]:
                    t = tuple(f)
                    if t not in REEXPORTED or len(path) < len(REEXPORTED[t]):
                        REEXPORTED[t] = path

    lines = []  # (inventory line, probe statement or None)
    for (kind, name), (path, kind, crate, target) in sorted(shortest.items(), key=lambda x: x[1][0]):
        if kind == "macro":
            lines.append((f"macro {path}!", None))  # forms: probe/macros.rs
            continue
        if kind == "module":
            continue
        if target is None or kind == "type_alias":
            lines.append((f"{kind} {path}", f"{{ #[allow(unused_imports)] use {path}; }}"))
            continue
        source, paths = crates[target[0]]
        pix = source["index"]
        PATHS.clear()
        PATHS.update(paths)
        item = pix[str(target[1])]
        if kind == "function":
            lines.append(function_line(path, item, Printer("", {})))
            continue
        lines.append((f"{kind} {path}", f"{{ #[allow(unused_imports)] use {path}; }}"))
        if kind in ("struct", "enum"):
            inner = item["inner"][kind]
            params = inner["generics"]["params"]
            subst, self_args = {}, []
            # A closure type parameter (PgTryBuilder's F: FnOnce() -> R) cannot
            # be probed at i32: such a type's methods are named only.
            bounded = any(b.get("trait_bound", {}).get("trait", {}).get("path") in ("Fn", "FnMut", "FnOnce")
                          for g in params if "type" in g["kind"]
                          for b in g["kind"]["type"].get("bounds", []))
            for g in params:
                if "lifetime" in g["kind"]:
                    subst[g["name"]] = "'static"
                    self_args.append("'static")
                elif "type" in g["kind"]:
                    d = g["kind"]["type"].get("default")
                    subst[g["name"]] = CONCRETE if d is None else Printer("", {}).ty(d)
                    self_args.append(subst[g["name"]])
            self_ty = path + ("<" + ", ".join(self_args) + ">" if self_args else "")
            pr = Printer(self_ty, subst)
            if kind == "enum":
                for v in inner["variants"]:
                    vname = pix[str(v)]["name"]
                    lines.append((f"variant {path}::{vname}",
                                  f"{{ #[allow(unused)] fn v(x: {self_ty}) {{ if let {path}::{vname} {{ .. }} = x {{}} }} }}"))
            for i in inner["impls"]:
                imp = pix[str(i)]["inner"]["impl"]
                if imp["is_synthetic"] or imp["blanket_impl"] is not None:
                    continue
                if imp["trait"] is None:
                    # The impl's own Self (`impl PgHeapTuple<'a, AllocatedByRust>`).
                    try:
                        isub = impl_subst(imp, subst)
                        impl_self = Printer(self_ty, isub, True).ty(imp["for"])
                        ipr = Printer(impl_self, isub)
                        unnameable = None
                    except Unprintable as e:
                        unnameable = str(e)
                    for m in imp["items"]:
                        mi = pix[str(m)]
                        if mi["visibility"] != "public" or "function" not in mi["inner"]:
                            continue
                        if unnameable:
                            lines.append((f"fn {path}::{mi['name']}(...)  [named only: {unnameable}]", None))
                        elif bounded:
                            lines.append((f"fn {path}::{mi['name']}(...)  [named only: closure type parameter]", None))
                        else:
                            lines.append(method_line(path, impl_self, mi, ipr))
                else:
                    tname = imp["trait"]["path"].split("::")[-1]
                    if tname in NOT_SURFACE_TRAITS or imp["is_negative"]:
                        continue
                    try:
                        sub = impl_subst(imp, subst)
                        p2 = Printer(Printer(self_ty, sub, True).ty(imp["for"]), sub, True)
                        trait = qualify(imp["trait"]["path"], imp["trait"].get("id")) + p2.args(imp["trait"].get("args"))
                        for_ty = p2.self_ty
                    except Unprintable as e:
                        lines.append((f"impl {tname} for {path} (generic: {e})", None))
                        continue
                    lines.append((f"impl {trait} for {for_ty}",
                                  f"{{ #[allow(unused)] fn t() where {for_ty}: {trait} {{}} }}"))
    write(lines)


def impl_subst(imp, base):
    sub = dict(base)
    for g in imp["generics"]["params"]:
        if "lifetime" in g["kind"]:
            sub[g["name"]] = "'static"
        elif "type" in g["kind"]:
            # One concrete type that meets the bounds: i32, or a String
            # where the impl wants text (`Tz: AsRef<str>`).
            bounds = [b.get("trait_bound", {}).get("trait", {}).get("path")
                      for b in g["kind"]["type"].get("bounds", [])]
            sub[g["name"]] = "String" if "AsRef" in bounds else CONCRETE
    return sub


def fn_sig(item, pr):
    """(binder, argument types, result) of a function at pgrx's signature;
    `generic` says its type parameters were given concrete types."""
    f = item["inner"]["function"]
    if f["header"].get("is_unsafe"):
        # No plrust body may call it (unsafe code is refused before rustc
        # runs); left out on purpose.
        raise Unprintable("unsafe fn, which no plrust body may call")
    generic = any("type" in g["kind"] for g in f["generics"]["params"])
    pr = with_method_generics(f, pr)
    out = f["sig"]["output"]
    try:
        ret = "" if out is None else " -> " + pr.ty(out)
    except Unprintable:
        # A result of a type PL/Rust does not re-export (AnyNumeric::sign's
        # Sign): a body can still call it and use what it returns, so the
        # call is probed, its result unnamed.
        ins = [pr.ty(t) for _, t in f["sig"]["inputs"]]
        return False, ins, None, True
    binder = False
    if out is not None:
        # A result that borrows ('_ or an elided &) is tied to the one
        # borrowed argument by name.
        pr.elided = "'r"
        named = " -> " + pr.ty(out)
        if named != ret:
            ret, binder = named, True
        else:
            pr.elided = None
    ins = [pr.ty(t) for _, t in f["sig"]["inputs"]]
    pr.elided = None
    return binder, ins, ret, generic


def probe_of(callee, item, pr):
    """The statement that checks `callee` has pgrx's signature: a coercion
    to its fn pointer type; for a generic function, a call from a function
    of that signature (a generic function is one type per instantiation,
    which a higher-ranked pointer would not match, and the body check
    refuses a `&'static` argument in a pointer type)."""
    binder, ins, ret, generic = fn_sig(item, pr)
    if not generic:
        return f"let _: {'for<' + chr(39) + 'r> ' if binder else ''}fn({', '.join(ins)}){ret} = {callee};"
    params = ", ".join(f"a{i}: {t}" for i, t in enumerate(ins))
    args = ", ".join(f"a{i}" for i in range(len(ins)))
    if ret is None:
        return f"{{ #[allow(unused)] fn c({params}) {{ let _ = {callee}({args}); }} }}"
    lt = "<'r>" if binder else ""
    return f"{{ #[allow(unused)] fn c{lt}({params}){ret} {{ {callee}({args}) }} }}"


def trait_names(bounds):
    return [b.get("trait_bound", {}).get("trait", {}).get("path", "").split("::")[-1]
            for b in bounds]


def with_method_generics(f, pr):
    """`pr` with a generic method's type parameters at concrete types that
    meet their bounds: text (`&str`) for AsRef<str> and a query, i32 for
    the rest (FromDatum, IntoDatum, ...), a Vec of i32 for an IntoIterator.  A fn pointer of those types is
    what a body's call instantiates, so the probe coerces to it (without
    turbofish: plrust may spell the parameters differently).  A closure
    parameter or an `impl Trait` argument has no such type: named only."""
    params = [g for g in f["generics"]["params"] if "type" in g["kind"]]
    if not params:
        return pr
    bounds = {g["name"]: trait_names(g["kind"]["type"].get("bounds", [])) for g in params}
    for w in f["generics"].get("where_predicates", []):
        b = w.get("bound_predicate")
        if b and "generic" in b["type"] and b["type"]["generic"] in bounds:
            bounds[b["type"]["generic"]] += trait_names(b.get("bounds", []))
    subst = dict(pr.subst)
    for g in params:
        names = bounds[g["name"]]
        if g["kind"]["type"].get("is_synthetic"):
            raise Unprintable("impl Trait argument")
        if {"Fn", "FnMut", "FnOnce"} & set(names):
            raise Unprintable("closure argument")
        if {"AsRef", "Query"} & set(names):
            subst[g["name"]] = "&str"
        elif "IntoIterator" in names:
            subst[g["name"]] = f"Vec<{CONCRETE}>"
        else:
            subst[g["name"]] = CONCRETE
    p = Printer(pr.self_ty, subst, pr.static_refs)
    return p


def sig_text(item, pr):
    f = item["inner"]["function"]
    try:
        pr = with_method_generics(f, pr)
        ins = ", ".join(f"{n}: {pr.ty(t)}" for n, t in f["sig"]["inputs"])
        out = f["sig"]["output"]
    except Unprintable:
        return "(...)"
    try:
        return f"({ins})" + ("" if out is None else " -> " + pr.ty(out))
    except Unprintable:
        return f"({ins}) -> _  (a type PL/Rust does not re-export)"


def method_line(path, self_ty, item, pr):
    name = item["name"]
    inv = f"fn {path}::{name}{sig_text(item, pr)}"
    try:
        return (inv, probe_of(f"<{self_ty}>::{name}", item, pr))
    except Unprintable as e:
        return (inv + f"  [named only: {e}]", None)


def function_line(path, item, pr):
    inv = f"fn {path}{sig_text(item, pr)}"
    try:
        return (inv, probe_of(path, item, pr))
    except Unprintable as e:
        return (inv + f"  [named only: {e}]", f"{{ #[allow(unused_imports)] use {path}; }}")


def unprobed(name):
    """The items of gaps.txt or left-out.txt: one per line, `  # why` after it
    optional."""
    path = os.path.join(HERE, name)
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {l.split("  #")[0].rstrip("\n") for l in f if l.strip() and not l.startswith("#")}


def write(lines):
    gaps = unprobed("gaps.txt") | unprobed("left-out.txt")
    with open(os.path.join(HERE, "surface.txt"), "w") as f:
        f.write("# PL/Rust 1.2.8's surface (plrust-trusted-pgrx 1.2.8 over pgrx 0.11.0), generated\n"
                "# by generate.py: one item per line.  Lines in gaps.txt are not probed yet.\n")
        for inv, _ in lines:
            f.write(inv + "\n")
    with open(os.path.join(HERE, "probe.rs"), "w") as f:
        f.write("// Generated by generate.py from surface.txt: each statement names one item of\n"
                "// PL/Rust 1.2.8's surface with PL/Rust's signature.  Do not edit.\n"
                "use pgrx::prelude::*;\n")
        for inv, stmt in lines:
            if stmt is None or inv in gaps:
                continue
            f.write(f"{stmt} // {inv}\n")
        f.write("Ok(Some(true))\n")


if __name__ == "__main__":
    main()
