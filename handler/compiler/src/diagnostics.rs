//! rustc's JSON diagnostics, mapped back to the lines of the function body
//! the user wrote, so errors never point into generated code.

use serde::Deserialize;

#[derive(Deserialize)]
struct Message {
    message: String,
    code: Option<Code>,
    level: String,
    spans: Vec<Span>,
    #[serde(default)]
    children: Vec<Child>,
}

#[derive(Deserialize)]
struct Child {
    message: String,
}

#[derive(Deserialize)]
struct Code {
    code: String,
}

#[derive(Deserialize)]
struct Span {
    line_start: usize,
    column_start: usize,
    is_primary: bool,
    label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Option<String>,
    pub message: String,
    /// Position in the body (1-based), when the primary span is inside it.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub label: Option<String>,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(c) => write!(f, "error[{c}]: {}", self.message)?,
            None => write!(f, "error: {}", self.message)?,
        }
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, " (line {l}, column {c} of the function body")?;
            if let Some(label) = &self.label {
                write!(f, ": {label}")?;
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

/// The errors among rustc's JSON lines.  `body_first_line` is the line of
/// the generated source that holds the body's first line; `body_lines` how
/// many lines the body has (spans outside that range are generated code).
pub fn errors(json_lines: &str, body_first_line: usize, body_lines: usize) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for line in json_lines.lines() {
        let Ok(m) = serde_json::from_str::<Message>(line) else {
            continue;
        };
        if m.level != "error" || m.message.starts_with("aborting due to") {
            continue;
        }
        let primary = m.spans.iter().find(|s| s.is_primary);
        let (mut l, mut c, mut label) = (None, None, None);
        if let Some(s) = primary {
            if s.line_start >= body_first_line && s.line_start < body_first_line + body_lines {
                l = Some(s.line_start - body_first_line + 1);
                c = Some(s.column_start);
                label = s.label.clone();
            }
        }
        // A proc-macro's panic (a dependency's derive, at compile time)
        // says why in a child: "message: ...".
        let why = m
            .children
            .iter()
            .find_map(|c| c.message.strip_prefix("message: "));
        let message = match why {
            Some(why) if m.message == "proc macro panicked" => format!("{}: {why}", m.message),
            _ => m.message,
        };
        out.push(Diagnostic {
            code: m.code.map(|c| c.code),
            message,
            line: l,
            column: c,
            label,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_to_body_lines() {
        let json = r#"{"message":"mismatched types","code":{"code":"E0308","explanation":null},"level":"error","spans":[{"file_name":"lib.rs","line_start":14,"column_start":9,"is_primary":true,"label":"expected `i32`"}],"rendered":""}
{"message":"aborting due to 1 previous error","code":null,"level":"error","spans":[],"rendered":""}
{"message":"unused variable","code":null,"level":"warning","spans":[],"rendered":""}"#;
        let d = errors(json, 12, 5);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, Some(3));
        assert_eq!(d[0].column, Some(9));
        assert_eq!(
            d[0].to_string(),
            "error[E0308]: mismatched types (line 3, column 9 of the function body: expected `i32`)"
        );
    }

    #[test]
    fn a_proc_macro_panic_says_why() {
        let json = r#"{"message":"proc macro panicked","code":null,"level":"error","spans":[{"file_name":"lib.rs","line_start":13,"column_start":5,"is_primary":true,"label":null}],"children":[{"message":"message: cannot read /x: Permission denied (os error 13)","code":null,"level":"help","spans":[],"children":[],"rendered":null}],"rendered":""}"#;
        assert_eq!(
            errors(json, 12, 5)[0].to_string(),
            "error: proc macro panicked: cannot read /x: Permission denied (os error 13) (line 2, column 5 of the function body)"
        );
    }
}
