//! SQL `interval`: the type, its comparison, text form and binary format.

use super::*;

/// SQL `interval`: months, days and microseconds, kept apart as
/// PostgreSQL keeps them.  Compared (and hashed) as PostgreSQL compares
/// them, with a month as 30 days and a day as 24 hours, so `1 mon` equals
/// `30 days`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Interval {
    pub(super) months: i32,
    pub(super) days: i32,
    pub(super) micros: i64,
}

impl Interval {
    /// Never fails (any combination is a valid interval); the `Result`
    /// is kept for pgrx compatibility.
    pub fn new(months: i32, days: i32, micros: i64) -> Result<Interval, IntervalConversionError> {
        Ok(Interval {
            months,
            days,
            micros,
        })
    }

    pub const fn from_micros(micros: i64) -> Interval {
        Interval {
            months: 0,
            days: 0,
            micros,
        }
    }

    pub const fn from_days(days: i32) -> Interval {
        Interval {
            months: 0,
            days,
            micros: 0,
        }
    }

    pub const fn from_months(months: i32) -> Interval {
        Interval {
            months,
            days: 0,
            micros: 0,
        }
    }

    pub const fn months(&self) -> i32 {
        self.months
    }

    pub const fn days(&self) -> i32 {
        self.days
    }

    pub const fn micros(&self) -> i64 {
        self.micros
    }

    /// PostgreSQL's interval_cmp_value.
    fn span(&self) -> i128 {
        i128::from(self.micros)
            + (i128::from(self.months) * 30 + i128::from(self.days)) * i128::from(USECS_PER_DAY)
    }

    pub fn checked_add(&self, other: &Interval) -> Option<Interval> {
        Some(Interval {
            months: self.months.checked_add(other.months)?,
            days: self.days.checked_add(other.days)?,
            micros: self.micros.checked_add(other.micros)?,
        })
    }

    pub fn checked_neg(&self) -> Option<Interval> {
        Some(Interval {
            months: self.months.checked_neg()?,
            days: self.days.checked_neg()?,
            micros: self.micros.checked_neg()?,
        })
    }
}

impl PartialEq for Interval {
    fn eq(&self, other: &Interval) -> bool {
        self.span() == other.span()
    }
}

impl Eq for Interval {}

impl Ord for Interval {
    fn cmp(&self, other: &Interval) -> Ordering {
        self.span().cmp(&other.span())
    }
}

impl PartialOrd for Interval {
    fn partial_cmp(&self, other: &Interval) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash for Interval {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.span().hash(state);
    }
}

impl Add for Interval {
    type Output = Interval;
    fn add(self, other: Interval) -> Interval {
        self.checked_add(&other)
            .unwrap_or_else(|| panic!("interval out of range"))
    }
}

impl Sub for Interval {
    type Output = Interval;
    fn sub(self, other: Interval) -> Interval {
        self + -other
    }
}

impl Neg for Interval {
    type Output = Interval;
    fn neg(self) -> Interval {
        self.checked_neg()
            .unwrap_or_else(|| panic!("interval out of range"))
    }
}

/// PostgreSQL's default IntervalStyle (`postgres`):
/// `1 year 2 mons 3 days 04:05:06.5`.
impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let year = self.months / 12;
        let mon = self.months % 12;
        let mday = self.days;
        let hour = self.micros / USECS_PER_HOUR;
        let rest = self.micros - hour * USECS_PER_HOUR;
        let min = rest / USECS_PER_MINUTE;
        let sec_micros = rest - min * USECS_PER_MINUTE;

        let mut is_zero = true;
        let mut is_before = false;
        for (value, unit) in [(year, "year"), (mon, "mon"), (mday, "day")] {
            if value == 0 {
                continue;
            }
            write!(
                f,
                "{}{}{} {}{}",
                if is_zero { "" } else { " " },
                if is_before && value > 0 { "+" } else { "" },
                value,
                unit,
                if value != 1 { "s" } else { "" }
            )?;
            is_before = value < 0;
            is_zero = false;
        }
        if is_zero || hour != 0 || min != 0 || sec_micros != 0 {
            let minus = hour < 0 || min < 0 || sec_micros < 0;
            write!(
                f,
                "{}{}{:02}:{:02}:",
                if is_zero { "" } else { " " },
                if minus {
                    "-"
                } else if is_before {
                    "+"
                } else {
                    ""
                },
                hour.unsigned_abs(),
                min.unsigned_abs()
            )?;
            write_seconds(f, sec_micros)?;
        }
        Ok(())
    }
}

impl FromDatum for Interval {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<Interval>(oid, &[INTERVALOID])?;
        let mut r = Reader::new(bytes, "Interval");
        let micros = r.i64()?;
        let days = r.i32()?;
        let months = r.i32()?;
        r.finish()?;
        Ok(Interval {
            months,
            days,
            micros,
        })
    }
}

impl IntoDatum for Interval {
    fn into_datum(self) -> Option<Datum> {
        let mut b = Vec::with_capacity(16);
        b.extend_from_slice(&self.micros.to_be_bytes());
        b.extend_from_slice(&self.days.to_be_bytes());
        b.extend_from_slice(&self.months.to_be_bytes());
        datum(INTERVALOID, b)
    }
    fn type_oid() -> TypeOid {
        INTERVALOID
    }
}
