//! What depends on the calling session's settings, asked of the backend.
//!
//! A timestamptz's local date, time of day and field values, its
//! truncation to a unit, its text in ISO form and `age` all depend on the
//! session's TimeZone (with its daylight-saving rules, from the backend's
//! zone database), and interval input depends on IntervalStyle.  The
//! executor has neither, so these run as SQL in the calling backend (an
//! SPI upcall), where PostgreSQL's own functions give exactly what pgrx's
//! direct calls of them give.  The other types' operations are computed
//! here (arith.rs, parts.rs), as PostgreSQL computes them.

use super::super::{AnyNumeric, PgOid};
use super::interval::interval_out_of_range;
use super::*;
use crate::spi::{Spi, SpiArgs, SpiError};

/// An SPI argument of `v`'s own SQL type.
pub(super) fn arg<T: IntoDatum>(v: T) -> (PgOid, Option<Datum>) {
    (PgOid::from(T::type_oid()), v.into_datum())
}

/// An SQL ERROR of the query raised again, SQLSTATE and all, as the
/// backend function would have raised it in pgrx; any other failure is
/// an internal error.
#[track_caller]
fn raise_again(e: SpiError) -> ! {
    match crate::report::as_raised(&e) {
        Some(raised) => std::panic::panic_any(raised),
        None => crate::log::raise(None, e.to_string(), None),
    }
}

/// The one value `query` gives in the calling backend (None for NULL); an
/// ERROR ends the call, as it would in pgrx.
#[track_caller]
pub(super) fn backend_value<T: FromDatum>(query: &str, args: SpiArgs) -> Option<T> {
    Spi::get_one_with_args(query, args).unwrap_or_else(|e| raise_again(e))
}

/// A cast the backend may answer with NULL (an infinite timestamptz to
/// time or timetz): pgrx's `.unwrap()` of it panics; here it is an ERROR.
#[track_caller]
fn cast_of<T: FromDatum>(query: &str, t: TimestampWithTimeZone, to: &str) -> T {
    backend_value(query, vec![arg(t)]).unwrap_or_else(|| {
        sql_error(
            crate::errcodes::PgSqlErrorCode::ERRCODE_DATETIME_VALUE_OUT_OF_RANGE,
            &format!("cannot convert infinite timestamp with time zone to {to}"),
        )
    })
}

/// timestamptz_date: the date in the session's time zone.
impl From<TimestampWithTimeZone> for Date {
    fn from(t: TimestampWithTimeZone) -> Date {
        cast_of("SELECT $1::pg_catalog.date", t, "date")
    }
}

/// timestamptz_time: the time of day in the session's time zone.
impl From<TimestampWithTimeZone> for Time {
    fn from(t: TimestampWithTimeZone) -> Time {
        cast_of("SELECT $1::pg_catalog.time", t, "time")
    }
}

/// timestamptz_timetz: the time of day and offset in the session's time
/// zone.
impl From<TimestampWithTimeZone> for TimeWithTimeZone {
    fn from(t: TimestampWithTimeZone) -> TimeWithTimeZone {
        cast_of("SELECT $1::pg_catalog.timetz", t, "time with time zone")
    }
}

impl TimestampWithTimeZone {
    /// date_trunc(units, self), in the session's time zone.
    pub fn truncate(self, units: DateTimeParts) -> TimestampWithTimeZone {
        let units: &'static str = units.into();
        backend_value(
            "SELECT pg_catalog.date_trunc($1, $2)",
            vec![arg(units), arg(self)],
        )
        .unwrap_or(self)
    }

    /// age(self, other): the symbolic difference (years, months, days) of
    /// the two as read in the session's time zone.
    pub fn age(&self, other: &TimestampWithTimeZone) -> Interval {
        backend_value(
            "SELECT pg_catalog.age($1, $2)",
            vec![arg(*self), arg(*other)],
        )
        .unwrap_or_else(|| interval_out_of_range())
    }
}

/// EXTRACT(field FROM value) in the calling backend, as numeric (its type
/// from PostgreSQL 14, the type pgrx gives; cast for 13, where it is
/// float8).  EXTRACT's syntax takes the field as a constant, not a
/// parameter: it is written into the query, quoted, from DateTimeParts'
/// fixed list of names (never from the body).
pub(super) fn extract<T: IntoDatum>(field: DateTimeParts, value: T) -> Option<AnyNumeric> {
    let field: &'static str = field.into();
    backend_value(
        &format!("SELECT EXTRACT('{field}' FROM $1)::pg_catalog.numeric"),
        vec![arg(value)],
    )
}

/// to_json's ISO 8601 text of a timestamptz, in the session's zone.
pub(super) fn iso_string(t: TimestampWithTimeZone) -> String {
    backend_value("SELECT pg_catalog.to_json($1) #>> '{}'", vec![arg(t)]).unwrap_or_default()
}

/// interval_in: every form PostgreSQL accepts (`1 day 02:03`, `P1Y2M`,
/// `1-2`, `@ 1 hour ago`), as the session's IntervalStyle reads them.
/// The errors are pgrx's mapping of interval_in's SQLSTATEs.
impl FromStr for Interval {
    type Err = DateTimeConversionError;
    fn from_str(s: &str) -> Result<Interval, DateTimeConversionError> {
        match Spi::get_one_with_args::<Interval>("SELECT $1::pg_catalog.interval", vec![arg(s)]) {
            Ok(Some(i)) => Ok(i),
            Ok(None) => Err(DateTimeConversionError::InvalidFormat),
            Err(SpiError::Sql { sqlstate, .. }) if &sqlstate == b"22008" => {
                Err(DateTimeConversionError::FieldOverflow)
            }
            Err(SpiError::Sql { sqlstate, .. }) if &sqlstate == b"22007" => {
                Err(DateTimeConversionError::InvalidFormat)
            }
            Err(SpiError::Sql { sqlstate, .. }) if &sqlstate == b"22023" => {
                Err(DateTimeConversionError::CannotParseTimezone)
            }
            Err(e) => raise_again(e),
        }
    }
}

/// A time zone function's ERROR as pgrx maps it: an unknown zone
/// (22023) is `UnknownTimezone`, bad fields `FieldOverflow` or
/// `InvalidFormat`; anything else ends the call.
fn zone_result<T>(
    answer: crate::spi::Result<Option<T>>,
    timezone: &str,
) -> Result<T, DateTimeConversionError> {
    match answer {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(DateTimeConversionError::OutOfRange),
        Err(SpiError::Sql { sqlstate, .. }) if &sqlstate == b"22023" => Err(
            DateTimeConversionError::UnknownTimezone(timezone.to_string()),
        ),
        Err(SpiError::Sql { sqlstate, .. }) if &sqlstate == b"22008" => {
            Err(DateTimeConversionError::FieldOverflow)
        }
        Err(SpiError::Sql { sqlstate, .. }) if &sqlstate == b"22007" => {
            Err(DateTimeConversionError::InvalidFormat)
        }
        Err(e) => raise_again(e),
    }
}

impl TimestampWithTimeZone {
    /// make_timestamptz(year, month, day, hour, minute, second, timezone):
    /// the instant of that reading in the zone (a name, an abbreviation
    /// or an offset; the zone database is the backend's).
    pub fn with_timezone<Tz: AsRef<str> + std::panic::UnwindSafe + std::panic::RefUnwindSafe>(
        year: i32,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: f64,
        timezone: Tz,
    ) -> Result<TimestampWithTimeZone, DateTimeConversionError> {
        let timezone = timezone.as_ref();
        zone_result(
            Spi::get_one_with_args(
                "SELECT pg_catalog.make_timestamptz($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    arg(year),
                    arg(i32::from(month)),
                    arg(i32::from(day)),
                    arg(i32::from(hour)),
                    arg(i32::from(minute)),
                    arg(second),
                    arg(timezone),
                ],
            ),
            timezone,
        )
    }

    /// self AT TIME ZONE timezone: the instant's reading in the zone.
    pub fn at_timezone<Tz: AsRef<str> + std::panic::UnwindSafe + std::panic::RefUnwindSafe>(
        &self,
        timezone: Tz,
    ) -> Result<Timestamp, DateTimeConversionError> {
        let timezone = timezone.as_ref();
        zone_result(
            Spi::get_one_with_args(
                "SELECT pg_catalog.timezone($1, $2)",
                vec![arg(timezone), arg(*self)],
            ),
            timezone,
        )
    }
}

/// The timestamp's reading taken in the zone (`with_timezone`).
impl<Tz: AsRef<str> + std::panic::UnwindSafe + std::panic::RefUnwindSafe> TryFrom<(Timestamp, Tz)>
    for TimestampWithTimeZone
{
    type Error = DateTimeConversionError;
    fn try_from(
        (ts, tz): (Timestamp, Tz),
    ) -> Result<TimestampWithTimeZone, DateTimeConversionError> {
        TimestampWithTimeZone::with_timezone(
            ts.year(),
            ts.month(),
            ts.day(),
            ts.hour(),
            ts.minute(),
            ts.second(),
            tz,
        )
    }
}

impl TimestampWithTimeZone {
    /// date_trunc(units, self, zone): truncated as read in `zone`.
    pub fn truncate_with_time_zone<Tz: AsRef<str>>(
        self,
        units: DateTimeParts,
        zone: Tz,
    ) -> TimestampWithTimeZone {
        let units: &'static str = units.into();
        backend_value(
            "SELECT pg_catalog.date_trunc($1, $2, $3)",
            vec![arg(units), arg(self), arg(zone.as_ref())],
        )
        .unwrap_or(self)
    }
}

impl TimeWithTimeZone {
    /// pgrx's: the time `hour:minute:second` given the offset `timezone`
    /// has now (at the transaction's start; a name, an abbreviation or an
    /// offset), the reading kept as it is.
    pub fn with_timezone<Tz: AsRef<str> + std::panic::UnwindSafe + std::panic::RefUnwindSafe>(
        hour: u8,
        minute: u8,
        second: f64,
        timezone: Tz,
    ) -> Result<TimeWithTimeZone, DateTimeConversionError> {
        let time = TimeWithTimeZone::new(hour, minute, second)?;
        let timezone = timezone.as_ref();
        // The zone's offset east of UTC now: its wall clock minus UTC's.
        let east: i32 = zone_result(
            Spi::get_one_with_args(
                "SELECT EXTRACT(epoch FROM (pg_catalog.now() AT TIME ZONE $1) \
                 - (pg_catalog.now() AT TIME ZONE 'UTC'))::pg_catalog.int4",
                vec![arg(timezone)],
            ),
            timezone,
        )?;
        let zone = -east;
        if zone <= -TZDISP_LIMIT || zone >= TZDISP_LIMIT {
            return Err(DateTimeConversionError::UnknownTimezone(
                timezone.to_string(),
            ));
        }
        Ok(TimeWithTimeZone {
            time: time.time,
            zone,
        })
    }

    /// self AT TIME ZONE timezone (timetz_zone): the same instant at the
    /// offset `timezone` has now.
    pub fn at_timezone<Tz: AsRef<str> + std::panic::UnwindSafe + std::panic::RefUnwindSafe>(
        &self,
        timezone: Tz,
    ) -> Result<TimeWithTimeZone, DateTimeConversionError> {
        let timezone = timezone.as_ref();
        zone_result(
            Spi::get_one_with_args(
                "SELECT pg_catalog.timezone($1, $2)",
                vec![arg(timezone), arg(*self)],
            ),
            timezone,
        )
    }
}
