//! CPU time of another process (an executor), from /proc/PID/stat.

use std::time::Duration;

/// User + system CPU time of `pid`, or None if it cannot be read (the
/// process is gone).  /proc/PID/stat counts in clock ticks.
pub fn of_process(pid: i32) -> Option<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    ticks_to_duration(parse_stat(&text)?)
}

/// utime + stime: fields 14 and 15, counted after the command name, which
/// is parenthesised and may itself contain spaces and parentheses.
fn parse_stat(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn ticks_to_duration(ticks: u64) -> Option<Duration> {
    // SAFETY: sysconf only reads a constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| Duration::from_nanos(ticks.saturating_mul(1_000_000_000) / hz as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_name_with_spaces_and_parentheses() {
        let stat = "42 (a b) c)) R 1 42 42 0 -1 4194560 100 0 0 0 700 35 0 0 20 0 1 0";
        assert_eq!(parse_stat(stat), Some(735));
    }
}
