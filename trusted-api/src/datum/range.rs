//! Range types: int4range, int8range, numrange, daterange, tsrange and
//! tstzrange.
//!
//! Values are not canonicalized here: the backend's range_recv does that
//! (and rejects lower > upper) when a range goes back to it, and what it
//! sends is already canonical.

use core::fmt;
use core::ops::{Deref, DerefMut};

use super::oids::*;
use super::reader::Reader;
use super::{datum, Datum, FromDatum, IntoDatum, TryFromDatumError, TypeOid};
use super::{AnyNumeric, Date, Timestamp, TimestampWithTimeZone};

const RANGE_EMPTY: u8 = 0x01;
const RANGE_LB_INC: u8 = 0x02;
const RANGE_UB_INC: u8 = 0x04;
const RANGE_LB_INF: u8 = 0x08;
const RANGE_UB_INF: u8 = 0x10;
const RANGE_LB_NULL: u8 = 0x20;
const RANGE_UB_NULL: u8 = 0x40;

/// A Rust type that is the subtype of a built-in range type.
pub trait RangeSubType: FromDatum + IntoDatum + Sized {
    /// The range type over this element type (`T::type_oid()` is the
    /// element's).
    fn range_type_oid() -> TypeOid;
}

impl RangeSubType for i32 {
    fn range_type_oid() -> TypeOid {
        INT4RANGEOID
    }
}
impl RangeSubType for i64 {
    fn range_type_oid() -> TypeOid {
        INT8RANGEOID
    }
}
impl RangeSubType for AnyNumeric {
    fn range_type_oid() -> TypeOid {
        NUMRANGEOID
    }
}
impl RangeSubType for Date {
    fn range_type_oid() -> TypeOid {
        DATERANGEOID
    }
}
impl RangeSubType for Timestamp {
    fn range_type_oid() -> TypeOid {
        TSRANGEOID
    }
}
impl RangeSubType for TimestampWithTimeZone {
    fn range_type_oid() -> TypeOid {
        TSTZRANGEOID
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RangeBound<T> {
    Infinite,
    Inclusive(T),
    Exclusive(T),
}

impl<T> RangeBound<T> {
    pub fn get(&self) -> Option<&T> {
        match self {
            RangeBound::Infinite => None,
            RangeBound::Inclusive(v) | RangeBound::Exclusive(v) => Some(v),
        }
    }

    pub fn is_infinite(&self) -> bool {
        matches!(self, RangeBound::Infinite)
    }

    pub fn is_inclusive(&self) -> bool {
        matches!(self, RangeBound::Inclusive(_))
    }

    pub fn is_exclusive(&self) -> bool {
        matches!(self, RangeBound::Exclusive(_))
    }
}

impl<T> From<T> for RangeBound<T> {
    fn from(v: T) -> RangeBound<T> {
        RangeBound::Inclusive(v)
    }
}

impl<T> From<Option<T>> for RangeBound<T> {
    /// `None` is an unbounded side.
    fn from(v: Option<T>) -> RangeBound<T> {
        v.map_or(RangeBound::Infinite, RangeBound::Inclusive)
    }
}

/// A SQL range value: empty, or two bounds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Range<T> {
    /// None when empty.
    bounds: Option<(RangeBound<T>, RangeBound<T>)>,
}

impl<T> Range<T> {
    pub fn new(lower: impl Into<RangeBound<T>>, upper: impl Into<RangeBound<T>>) -> Range<T> {
        Range {
            bounds: Some((lower.into(), upper.into())),
        }
    }

    pub fn empty() -> Range<T> {
        Range { bounds: None }
    }

    /// `(,)`: no bounds at all.
    pub fn infinite() -> Range<T> {
        Range::new(RangeBound::Infinite, RangeBound::Infinite)
    }

    pub fn is_empty(&self) -> bool {
        self.bounds.is_none()
    }

    /// Both sides unbounded.
    pub fn is_infinite(&self) -> bool {
        matches!(
            &self.bounds,
            Some((RangeBound::Infinite, RangeBound::Infinite))
        )
    }

    /// None when the range is empty.
    pub fn lower(&self) -> Option<&RangeBound<T>> {
        self.bounds.as_ref().map(|(l, _)| l)
    }

    /// None when the range is empty.
    pub fn upper(&self) -> Option<&RangeBound<T>> {
        self.bounds.as_ref().map(|(_, u)| u)
    }

    pub fn into_inner(self) -> Option<(RangeBound<T>, RangeBound<T>)> {
        self.bounds
    }

    /// The bounds, leaving the range empty.
    pub fn take(&mut self) -> Option<(RangeBound<T>, RangeBound<T>)> {
        self.bounds.take()
    }

    /// New bounds (`None`: empty), returning the old ones.
    pub fn replace(
        &mut self,
        new: Option<(RangeBound<T>, RangeBound<T>)>,
    ) -> Option<(RangeBound<T>, RangeBound<T>)> {
        core::mem::replace(&mut self.bounds, new)
    }
}

/// The bounds themselves, as pgrx's `Range` derefs to them: `None` is
/// empty (`if let Some((lo, hi)) = &*range`).
impl<T> Deref for Range<T> {
    type Target = Option<(RangeBound<T>, RangeBound<T>)>;
    fn deref(&self) -> &Self::Target {
        &self.bounds
    }
}

impl<T> DerefMut for Range<T> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.bounds
    }
}

/// range_out's brackets, with the bounds as the subtype's `Display`
/// writes them.  Like pgrx's, bounds are never quoted: PostgreSQL quotes
/// one that holds a space, comma, bracket or quote (a timestamp's
/// space: `["2024-01-01 00:00:00",)`), this does not.
impl<T: fmt::Display> fmt::Display for Range<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((lower, upper)) = &self.bounds else {
            return f.write_str("empty");
        };
        match lower {
            RangeBound::Infinite => f.write_str("(")?,
            RangeBound::Inclusive(v) => write!(f, "[{v}")?,
            RangeBound::Exclusive(v) => write!(f, "({v}")?,
        }
        f.write_str(",")?;
        match upper {
            RangeBound::Infinite => f.write_str(")"),
            RangeBound::Inclusive(v) => write!(f, "{v}]"),
            RangeBound::Exclusive(v) => write!(f, "{v})"),
        }
    }
}

impl<T> From<core::ops::Range<T>> for Range<T> {
    /// `a..b` is `[a,b)`.
    fn from(r: core::ops::Range<T>) -> Range<T> {
        Range::new(RangeBound::Inclusive(r.start), RangeBound::Exclusive(r.end))
    }
}

impl<T> From<core::ops::RangeInclusive<T>> for Range<T> {
    /// `a..=b` is `[a,b]`.
    fn from(r: core::ops::RangeInclusive<T>) -> Range<T> {
        let (start, end) = r.into_inner();
        Range::new(RangeBound::Inclusive(start), RangeBound::Inclusive(end))
    }
}

impl<T> From<core::ops::RangeFrom<T>> for Range<T> {
    /// `a..` is `[a,)`.
    fn from(r: core::ops::RangeFrom<T>) -> Range<T> {
        Range::new(RangeBound::Inclusive(r.start), RangeBound::Infinite)
    }
}

impl<T> From<core::ops::RangeTo<T>> for Range<T> {
    /// `..b` is `(,b)`.
    fn from(r: core::ops::RangeTo<T>) -> Range<T> {
        Range::new(RangeBound::Infinite, RangeBound::Exclusive(r.end))
    }
}

impl<T> From<core::ops::RangeToInclusive<T>> for Range<T> {
    /// `..=b` is `(,b]`.
    fn from(r: core::ops::RangeToInclusive<T>) -> Range<T> {
        Range::new(RangeBound::Infinite, RangeBound::Inclusive(r.end))
    }
}

impl<T> From<core::ops::RangeFull> for Range<T> {
    /// `..` is `(,)`.
    fn from(_: core::ops::RangeFull) -> Range<T> {
        Range::infinite()
    }
}

impl<T: RangeSubType> FromDatum for Range<T> {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        if oid != T::range_type_oid() {
            return Err(super::incompatible::<Range<T>>(oid));
        }
        let mut r = Reader::new(bytes, core::any::type_name::<Range<T>>());
        // range_recv ignores the NULL-bound flags and anything unknown.
        let flags = r.u8()? & !(RANGE_LB_NULL | RANGE_UB_NULL | 0x80);
        let mut bound = |inf: u8, inc: u8| -> Result<RangeBound<T>, TryFromDatumError> {
            if flags & (RANGE_EMPTY | inf) != 0 {
                return Ok(RangeBound::Infinite);
            }
            let Some(b) = r.framed()? else {
                return Err(r.malformed("range bound of length -1"));
            };
            let v = T::from_binary(b, T::type_oid())?;
            Ok(if flags & inc != 0 {
                RangeBound::Inclusive(v)
            } else {
                RangeBound::Exclusive(v)
            })
        };
        let lower = bound(RANGE_LB_INF, RANGE_LB_INC)?;
        let upper = bound(RANGE_UB_INF, RANGE_UB_INC)?;
        r.finish()?;
        if flags & RANGE_EMPTY != 0 {
            Ok(Range::empty())
        } else {
            Ok(Range::new(lower, upper))
        }
    }
}

fn put_bound(out: &mut Vec<u8>, d: Option<Datum>) {
    // A subtype value is never NULL (no `Option` subtypes exist), so
    // `None` cannot happen; an empty value is the closest harmless stand-in.
    let bytes = d.map(|d| d.bytes).unwrap_or_default();
    let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes);
}

impl<T: RangeSubType> IntoDatum for Range<T> {
    fn into_datum(self) -> Option<Datum> {
        let Some((lower, upper)) = self.bounds else {
            return datum(T::range_type_oid(), vec![RANGE_EMPTY]);
        };
        let side = |b: &RangeBound<T>, inf: u8, inc: u8| match b {
            RangeBound::Infinite => inf,
            RangeBound::Inclusive(_) => inc,
            RangeBound::Exclusive(_) => 0,
        };
        let flags =
            side(&lower, RANGE_LB_INF, RANGE_LB_INC) | side(&upper, RANGE_UB_INF, RANGE_UB_INC);
        let mut out = vec![flags];
        for b in [lower, upper] {
            if let RangeBound::Inclusive(v) | RangeBound::Exclusive(v) = b {
                put_bound(&mut out, v.into_datum());
            }
        }
        datum(T::range_type_oid(), out)
    }
    fn type_oid() -> TypeOid {
        T::range_type_oid()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{round_trip, strict};
    use super::*;

    #[test]
    fn pinned_int4range() {
        let r: Range<i32> = (1..4).into();
        let b = round_trip(r.clone());
        assert_eq!(b, [0x02, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 4]);
        strict::<Range<i32>>(&b, INT4RANGEOID, INT8RANGEOID);
        assert_eq!(r.lower(), Some(&RangeBound::Inclusive(1)));
        assert_eq!(r.upper(), Some(&RangeBound::Exclusive(4)));
        assert_eq!(round_trip(Range::<i32>::empty()), [0x01]);
        assert!(Range::<i32>::from_binary(&[0x01], INT4RANGEOID)
            .unwrap()
            .is_empty());
        assert_eq!(round_trip(Range::<i32>::infinite()), [0x18]);
        let r = Range::<i32>::new(RangeBound::Infinite, RangeBound::Inclusive(7));
        assert_eq!(round_trip(r), [0x0c, 0, 0, 0, 4, 0, 0, 0, 7]);
        let r: Range<i32> = (5..=6).into();
        assert_eq!(round_trip(r)[0], 0x06);
        let r: Range<i64> = (i64::MIN..).into();
        strict::<Range<i64>>(&round_trip(r), INT8RANGEOID, INT4RANGEOID);
        let r: Range<i32> = (..3).into();
        assert_eq!(round_trip(r)[0], 0x08);
    }

    #[test]
    fn std_ranges_and_text() {
        let cases: [(Range<i32>, &str); 7] = [
            ((1..4).into(), "[1,4)"),
            ((1..=4).into(), "[1,4]"),
            ((1..).into(), "[1,)"),
            ((..4).into(), "(,4)"),
            ((..=4).into(), "(,4]"),
            ((..).into(), "(,)"),
            (Range::empty(), "empty"),
        ];
        for (r, text) in cases {
            assert_eq!(r.to_string(), text);
        }
        let r = Range::<i32>::new(RangeBound::Exclusive(1), RangeBound::Infinite);
        assert_eq!(r.to_string(), "(1,)");
        let r = Range::<AnyNumeric>::new(
            RangeBound::Exclusive("1.5".parse::<AnyNumeric>().unwrap()),
            RangeBound::Inclusive("2".parse::<AnyNumeric>().unwrap()),
        );
        assert_eq!(r.to_string(), "(1.5,2]");
    }

    #[test]
    fn bounds_in_place() {
        let mut r: Range<i32> = (1..4).into();
        assert_eq!(
            *r,
            Some((RangeBound::Inclusive(1), RangeBound::Exclusive(4)))
        );
        if let Some((_, upper)) = &mut *r {
            *upper = RangeBound::Inclusive(9);
        }
        assert_eq!(r.to_string(), "[1,9]");
        let old = r.replace(Some((RangeBound::Infinite, RangeBound::Exclusive(0))));
        assert_eq!(
            old,
            Some((RangeBound::Inclusive(1), RangeBound::Inclusive(9)))
        );
        assert_eq!(r.to_string(), "(,0)");
        assert_eq!(
            r.take(),
            Some((RangeBound::Infinite, RangeBound::Exclusive(0)))
        );
        assert!(r.is_empty());
        assert_eq!(round_trip(r), [0x01]);
        assert_eq!(
            round_trip(Range::<i32>::from(..=7)),
            [0x0c, 0, 0, 0, 4, 0, 0, 0, 7]
        );
    }

    #[test]
    fn decoding_follows_range_recv() {
        // NULL-bound flags are ignored, as range_recv does.
        let r = Range::<i32>::from_binary(&[0x18 | 0x60], INT4RANGEOID).unwrap();
        assert!(r.is_infinite());
        // Bad bound lengths and bad bound contents are errors.
        assert!(
            Range::<i32>::from_binary(&[0x02, 0xff, 0xff, 0xff, 0xff, 0x18], INT4RANGEOID).is_err()
        );
        assert!(Range::<i32>::from_binary(&[0x12, 0, 0, 0, 3, 0, 0, 1], INT4RANGEOID).is_err());
        assert!(
            Range::<i32>::from_binary(&[0x12, 0x7f, 0xff, 0xff, 0xff, 0, 0, 1], INT4RANGEOID)
                .is_err()
        );
        assert!(Range::<i32>::from_binary(&[], INT4RANGEOID).is_err());
    }

    #[test]
    fn other_subtypes() {
        let n: Range<AnyNumeric> =
            Range::new("1.50".parse::<AnyNumeric>().unwrap(), RangeBound::Infinite);
        let b = round_trip(n);
        strict::<Range<AnyNumeric>>(&b, NUMRANGEOID, INT4RANGEOID);
        let d: Range<Date> = (Date::new(2024, 1, 1).unwrap()..Date::positive_infinity()).into();
        strict::<Range<Date>>(&round_trip(d), DATERANGEOID, TSRANGEOID);
        let t: Range<Timestamp> =
            (Timestamp::negative_infinity()..=Timestamp::from_pg_epoch_micros(0)).into();
        strict::<Range<Timestamp>>(&round_trip(t), TSRANGEOID, TSTZRANGEOID);
        let t: Range<TimestampWithTimeZone> = Range::new(
            RangeBound::Exclusive(TimestampWithTimeZone::from_pg_epoch_micros(5)),
            RangeBound::Infinite,
        );
        strict::<Range<TimestampWithTimeZone>>(&round_trip(t), TSTZRANGEOID, TSRANGEOID);
        assert_eq!(<Range<Date>>::type_oid(), DATERANGEOID);
    }
}
