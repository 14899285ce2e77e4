//! ISO 8601 / PostgreSQL ISO-style text input of the date/time types.

use super::*;

/// A cursor over ISO 8601 / PostgreSQL ISO-style input.  Only the ISO
/// forms are accepted (what these types print, plus `T` and `Z`): the
/// full datetime parser of PostgreSQL (month names, other DateStyles,
/// zone names) needs the backend.
struct Iso<'a> {
    s: &'a [u8],
}

impl<'a> Iso<'a> {
    fn number(
        &mut self,
        min_digits: usize,
        max_digits: usize,
    ) -> Result<i64, DateTimeConversionError> {
        let n = self
            .s
            .iter()
            .take(max_digits)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n < min_digits {
            return Err(DateTimeConversionError::InvalidFormat);
        }
        let v = self.s[..n].iter().fold(0i64, |acc, c| {
            acc.saturating_mul(10).saturating_add(i64::from(c - b'0'))
        });
        self.s = &self.s[n..];
        Ok(v)
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.first() == Some(&c) {
            self.s = &self.s[1..];
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), DateTimeConversionError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(DateTimeConversionError::InvalidFormat)
        }
    }

    /// `YYYY-MM-DD` (astronomical-free: BC is handled by the caller).
    fn date(&mut self) -> Result<(i64, u8, u8), DateTimeConversionError> {
        let y = self.number(1, 9)?;
        self.expect(b'-')?;
        let m = self.number(1, 2)?;
        self.expect(b'-')?;
        let d = self.number(1, 2)?;
        let small = |v: i64| u8::try_from(v).map_err(|_| DateTimeConversionError::FieldOverflow);
        Ok((y, small(m)?, small(d)?))
    }

    /// `HH:MM[:SS[.fraction]]` as (hour, minute, seconds).
    fn time(&mut self) -> Result<(u8, u8, f64), DateTimeConversionError> {
        let small = |v: i64| u8::try_from(v).map_err(|_| DateTimeConversionError::FieldOverflow);
        let h = small(self.number(1, 2)?)?;
        self.expect(b':')?;
        let m = small(self.number(1, 2)?)?;
        let mut sec = 0.0;
        if self.eat(b':') {
            let start = self.s;
            self.number(1, 2)?;
            if self.eat(b'.') {
                self.number(0, usize::MAX)?;
            }
            let used = start.len() - self.s.len();
            let text = core::str::from_utf8(&start[..used])
                .map_err(|_| DateTimeConversionError::InvalidFormat)?;
            sec = text
                .parse()
                .map_err(|_| DateTimeConversionError::InvalidFormat)?;
        }
        Ok((h, m, sec))
    }

    /// `Z` or `±HH[:MM[:SS]]` / `±HHMM`, as seconds EAST of UTC.
    fn zone(&mut self) -> Result<i32, DateTimeConversionError> {
        if self.eat(b'Z') || self.eat(b'z') {
            return Ok(0);
        }
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return Err(DateTimeConversionError::CannotParseTimezone);
        };
        let h = self.number(1, 2)?;
        let mut m = 0;
        let mut sec = 0;
        if self.eat(b':') {
            m = self.number(2, 2)?;
            if self.eat(b':') {
                sec = self.number(2, 2)?;
            }
        } else if self.s.first().is_some_and(u8::is_ascii_digit) {
            m = self.number(2, 2)?;
        }
        if m > 59 || sec > 59 {
            return Err(DateTimeConversionError::CannotParseTimezone);
        }
        let secs = sign * (h * 3600 + m * 60 + sec);
        i32::try_from(secs)
            .ok()
            .filter(|z| -TZDISP_LIMIT < *z && *z < TZDISP_LIMIT)
            .ok_or(DateTimeConversionError::CannotParseTimezone)
    }

    fn bc(&mut self) -> bool {
        let t = self.s.trim_ascii_start();
        if t.len() >= 2 && t[..2].eq_ignore_ascii_case(b"BC") {
            self.s = &t[2..];
            true
        } else {
            false
        }
    }

    fn end(&self) -> Result<(), DateTimeConversionError> {
        if self.s.trim_ascii().is_empty() {
            Ok(())
        } else {
            Err(DateTimeConversionError::InvalidFormat)
        }
    }
}

fn sql_year_of(y: i64, bc: bool) -> Result<i32, DateTimeConversionError> {
    let y = i32::try_from(y).map_err(|_| DateTimeConversionError::FieldOverflow)?;
    if y == 0 {
        return Err(DateTimeConversionError::FieldOverflow);
    }
    Ok(if bc { -y } else { y })
}

/// Special inputs every date/time type accepts.
fn special(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" => Some(true),
        "-infinity" => Some(false),
        _ => None,
    }
}

/// `2024-02-29`, `0044-03-15 BC`, `infinity`, `-infinity`.
impl FromStr for Date {
    type Err = DateTimeConversionError;
    fn from_str(s: &str) -> Result<Date, DateTimeConversionError> {
        if let Some(pos) = special(s) {
            return Ok(if pos {
                Date::positive_infinity()
            } else {
                Date::negative_infinity()
            });
        }
        let mut p = Iso {
            s: s.trim().as_bytes(),
        };
        let (y, m, d) = p.date()?;
        let bc = p.bc();
        p.end()?;
        Date::new(sql_year_of(y, bc)?, m, d)
    }
}

/// `13:45`, `13:45:00.5`.
impl FromStr for Time {
    type Err = DateTimeConversionError;
    fn from_str(s: &str) -> Result<Time, DateTimeConversionError> {
        let mut p = Iso {
            s: s.trim().as_bytes(),
        };
        let (h, m, sec) = p.time()?;
        p.end()?;
        Time::new(h, m, sec)
    }
}

/// `13:45:00.5+05:30` (no zone means UTC).
impl FromStr for TimeWithTimeZone {
    type Err = DateTimeConversionError;
    fn from_str(s: &str) -> Result<TimeWithTimeZone, DateTimeConversionError> {
        let mut p = Iso {
            s: s.trim().as_bytes(),
        };
        let (h, m, sec) = p.time()?;
        let zone = if p.s.is_empty() { 0 } else { p.zone()? };
        p.end()?;
        TimeWithTimeZone::at_offset(h, m, sec, zone)
    }
}

/// Date, then ` ` or `T`, then time, then (when `zoned`) an optional zone,
/// then an optional ` BC`.  Returns microseconds since 2000-01-01 UTC.
fn parse_timestamp(s: &str, zoned: bool) -> Result<i64, DateTimeConversionError> {
    if let Some(pos) = special(s) {
        return Ok(if pos { i64::MAX } else { i64::MIN });
    }
    let mut p = Iso {
        s: s.trim().as_bytes(),
    };
    let (y, mo, d) = p.date()?;
    let (h, mi, sec) = if p.eat(b' ') || p.eat(b'T') || p.eat(b't') {
        p.time()?
    } else {
        (0, 0, 0.0)
    };
    let mut offset = 0;
    if zoned
        && p.s
            .first()
            .is_some_and(|c| matches!(c, b'+' | b'-' | b'Z' | b'z'))
    {
        offset = p.zone()?;
    }
    let bc = p.bc();
    p.end()?;
    let local = make_timestamp(sql_year_of(y, bc)?, mo, d, h, mi, sec)?;
    let t = local - i64::from(offset) * USECS_PER_SEC;
    if (TIMESTAMP_MIN..TIMESTAMP_END).contains(&t) {
        Ok(t)
    } else {
        Err(DateTimeConversionError::OutOfRange)
    }
}

/// `2024-02-29 13:45:00.5` (or with `T`), `... BC`, `infinity`.
impl FromStr for Timestamp {
    type Err = DateTimeConversionError;
    fn from_str(s: &str) -> Result<Timestamp, DateTimeConversionError> {
        parse_timestamp(s, false).map(Timestamp)
    }
}

/// As `Timestamp`, plus an optional `Z` or numeric offset (none is UTC).
impl FromStr for TimestampWithTimeZone {
    type Err = DateTimeConversionError;
    fn from_str(s: &str) -> Result<TimestampWithTimeZone, DateTimeConversionError> {
        parse_timestamp(s, true).map(TimestampWithTimeZone)
    }
}
