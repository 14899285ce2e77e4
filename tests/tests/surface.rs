//! The probe of PL/Rust 1.2.8's API surface (tests/probe/README.md): one
//! body that names every item of plrust-trusted-pgrx 1.2.8, pgrx 0.11.0 and
//! pgrx-pg-sys 0.11.0 a PL/Rust body can name, each with PL/Rust's
//! signature, except those left out on purpose (left-out.txt); one that
//! uses every macro form, and one every pure std module.  An item that goes
//! missing, or whose signature drifts from PL/Rust's, fails this test at
//! CREATE FUNCTION.

use plrust_tests::{client, one};

const PROBE: &str = include_str!("../probe/probe.rs");
const MACROS: &str = include_str!("../probe/macros.rs");
const GAPS: &str = include_str!("../probe/gaps.txt");
const STD: &str = include_str!("../probe/std.rs");

/// CREATE FUNCTION `name` with `body` (returning bool), then call it:
/// it must compile, and return true.
fn compiles_and_runs(name: &str, body: &str) {
    let mut c = client();
    let created = c.batch_execute(&format!(
        "CREATE OR REPLACE FUNCTION {name}() RETURNS bool LANGUAGE plrust AS $probe${body}$probe$"
    ));
    if let Err(e) = created {
        let db = e
            .as_db_error()
            .map(|d| (d.message().to_owned(), d.detail().map(str::to_owned)));
        panic!("{name} does not compile: {db:?}");
    }
    assert!(one::<bool>(&mut c, &format!("SELECT {name}()")));
}

#[test]
fn the_probe_of_plrust_1_2_8s_surface_compiles_and_runs() {
    compiles_and_runs("surface_probe", PROBE);
    // The probe is what it says: many hundred items, each on its own line,
    // and none of PL/Rust's surface is waiting in gaps.txt (an item that
    // regresses fails here, rather than being moved there).
    let items = PROBE.lines().filter(|l| l.contains(" // ")).count();
    assert!(items > 1000, "the probe names only {items} items");
    let gaps: Vec<&str> = GAPS
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    assert!(gaps.is_empty(), "PL/Rust items plrust lacks: {gaps:#?}");
}

/// Every form of pgrx 0.11's macros (rustdoc lists the macros, not the
/// forms they take): the message macros, ereport! with a level expression
/// or a bare name, name! and composite_type!, by their module paths too.
#[test]
fn the_macro_forms_of_pgrx_0_11_compile_and_run() {
    compiles_and_runs("surface_macros", MACROS);
}

/// The std modules a body computes with (postgrestd's table): one use of
/// each, compiled and run.
#[test]
fn the_std_of_a_body_has_each_pure_module() {
    compiles_and_runs("surface_std", STD);
}

#[test]
fn spi_status_codes_read_as_in_pgrx() {
    let mut c = client();
    c.batch_execute(
        r#"CREATE OR REPLACE FUNCTION surface_spi_status(code int) RETURNS text STRICT LANGUAGE plrust AS $$
    use pgrx::spi::{SpiErrorCodes, SpiOkCodes};
    Ok(Some(match Spi::check_status(code) {
        Ok(SpiOkCodes::Select) => "select".to_string(),
        Ok(other) => format!("ok {other:?}"),
        Err(pgrx::spi::Error::SpiError(SpiErrorCodes::Param)) => "param".to_string(),
        Err(e) => format!("err {e}"),
    }))
$$"#,
    )
    .unwrap();
    for (code, want) in [
        (5, "select"),
        (18, "ok Merge"),
        (-7, "param"),
        (-13, "err SPI error: RelNotFound"),
        (0, "err plrust: unexpected answer from the backend"),
    ] {
        let got: String = one(&mut c, &format!("SELECT surface_spi_status({code})"));
        assert_eq!(got, want, "check_status({code})");
    }
}
