//! Functions of every kind plrust supports, for the suites that take a
//! database through a path a DBA takes (restore, standby, upgrade): a
//! scalar, a SETOF, a trigger, an aggregate's state and final functions,
//! a procedure (with SPI, which runs in the backend), and a function with
//! crate dependencies (its code links them: it needs no crate to run).

/// The SQL that creates them, every name starting with `prefix`_.
pub fn every_kind(prefix: &str) -> String {
    TEMPLATE.replace("{p}", prefix)
}

const TEMPLATE: &str = r#"
CREATE FUNCTION {p}_scalar(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Some(x * 2 + 1))
$$;
CREATE FUNCTION {p}_series(n int) RETURNS SETOF text STRICT LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new((1..=n).map(|i| Some(format!("row {i}"))))))
$$;
CREATE TABLE {p}_item (name text, loud text);
CREATE FUNCTION {p}_shout() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().unwrap().into_owned();
    let name = row.get_by_name::<String>("name")?.unwrap_or_default();
    row.set_by_name("loud", name.to_uppercase())?;
    Ok(Some(row))
$$;
CREATE TRIGGER {p}_shout BEFORE INSERT ON {p}_item FOR EACH ROW EXECUTE FUNCTION {p}_shout();
CREATE FUNCTION {p}_longest_step(best text, v text) RETURNS text LANGUAGE plrust AS $$
    Ok(match (best, v) {
        (Some(b), Some(v)) if v.len() > b.len() => Some(v.to_string()),
        (Some(b), _) => Some(b.to_string()),
        (None, v) => v.map(str::to_string),
    })
$$;
CREATE FUNCTION {p}_longest_final(best text) RETURNS text LANGUAGE plrust AS $$
    Ok(best.map(|b| format!("<{b}>")))
$$;
CREATE AGGREGATE {p}_longest(text) (sfunc = {p}_longest_step, stype = text, finalfunc = {p}_longest_final);
CREATE FUNCTION {p}_words(t text) RETURNS text STRICT LANGUAGE plrust AS $$
[dependencies]
regex = "1"
serde_json = "1"
[code]
let words: Vec<&str> = regex::Regex::new(r"\w+")?.find_iter(t).map(|m| m.as_str()).collect();
Ok(Some(serde_json::to_string(&words)?))
$$;
CREATE PROCEDURE {p}_double(INOUT v int) LANGUAGE plrust AS $$
    let two = Spi::get_one::<i32>("SELECT 2")?.unwrap_or(0);
    Ok(Some((v.map(|v| v * two),)))
$$;
"#;
