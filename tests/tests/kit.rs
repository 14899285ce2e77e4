//! What a compiled function holds, and what it needs from the kit: its own
//! code only, linked against the kit's one shared library
//! (`deps/libplrust_api.so`: plrust-api with std inside), which the
//! executor loads once; and code linked against another build of that
//! library never loads.

use plrust_tests::*;

/// The soname the kit's shared library gives itself and compiled
/// functions record as their dependency: `libplrust_api-<16 hex>.so`.
fn soname_in(bytes: &[u8]) -> Option<&[u8]> {
    let prefix = b"libplrust_api-";
    let len = prefix.len() + 16 + 3;
    bytes.windows(len).find(|w| {
        w.starts_with(prefix)
            && w.ends_with(b".so")
            && w[prefix.len()..prefix.len() + 16]
                .iter()
                .all(u8::is_ascii_hexdigit)
    })
}

fn stored_object(c: &mut postgres::Client, function: &str) -> Vec<u8> {
    c.query_one(
        "SELECT object FROM plrust.artifacts WHERE hash = plrust.code_hash($1::text::regprocedure::oid)",
        &[&function],
    )
    .unwrap()
    .get(0)
}

#[test]
fn a_trivial_function_stores_its_own_code_only() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_k_add_one(x int) RETURNS int STRICT LANGUAGE plrust
         AS $$ Ok(Some(x + 1)) $$",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT fn_k_add_one(41)"), 42);
    let bytes: i64 = one(
        &mut c,
        "SELECT object_bytes::bigint FROM plrust.functions WHERE fn_oid = 'fn_k_add_one(int)'::regprocedure",
    );
    // 12,920 bytes when this was written; 347,560 when every function
    // carried its own std and plrust-api.
    assert!(bytes <= 50_000, "a trivial function stores {bytes} bytes");
    // It names the kit's library, this very build of it, as a dependency.
    let kit_library = std::fs::read(kit().join("deps/libplrust_api.so")).unwrap();
    let object = stored_object(&mut c, "fn_k_add_one(int)");
    assert_eq!(object.len() as i64, bytes);
    let wanted = soname_in(&kit_library).expect("the kit library's soname");
    assert_eq!(soname_in(&object), Some(wanted));
}

#[test]
fn code_linked_against_another_build_of_the_kit_library_does_not_load() {
    let health = Health::before();
    let mut c = client();
    let owner = "plrust_kit_other_build";
    ensure_role(&mut c, owner);
    c.batch_execute(&format!(
        "SET ROLE {owner};
         CREATE OR REPLACE FUNCTION fn_k_good(x bigint) RETURNS bigint STRICT LANGUAGE plrust
         AS $$ Ok(Some(x * 2)) $$;
         CREATE OR REPLACE FUNCTION fn_k_other_build(x bigint) RETURNS bigint STRICT LANGUAGE plrust
         AS $$ let _salt = {}u128; Ok(Some(x)) $$;
         RESET ROLE;",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ))
    .unwrap();
    // The same code, as if linked against another build of the library:
    // another hash in the name of its dependency.
    let mut object = stored_object(&mut c, "fn_k_other_build(bigint)");
    let at = {
        let name = soname_in(&object).expect("a dependency on the kit library");
        name.as_ptr() as usize - object.as_ptr() as usize
    };
    let digits = &mut object[at + "libplrust_api-".len()..][..16];
    for d in digits.iter_mut() {
        *d = if *d == b'0' { b'1' } else { b'0' };
    }
    let n = c
        .execute(
            "UPDATE plrust.artifacts SET object = $1 WHERE hash = plrust.code_hash('fn_k_other_build(bigint)'::regprocedure::oid)",
            &[&object],
        )
        .unwrap();
    assert_eq!(n, 1);
    for _ in 0..2 {
        let e = error_of(&mut c, "SELECT fn_k_other_build(1)");
        assert_eq!(e.code().code(), "38000", "{e:?}");
        let detail = e.detail().unwrap_or_default();
        assert!(
            detail.contains("loading the function failed")
                && detail.contains("libplrust_api-")
                && detail.contains("cannot open shared object file"),
            "{e:?}"
        );
        // The owner's other functions are not harmed.
        assert_eq!(one::<i64>(&mut c, "SELECT fn_k_good(21)"), 42);
    }
    health.assert_unharmed();
}
