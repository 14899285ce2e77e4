//! point and box.

use super::oids::{BOXOID, POINTOID};
use super::reader::Reader;
use super::{datum, expect_oid, Datum, FromDatum, IntoDatum, TryFromDatumError, TypeOid};

/// SQL `point`.  Floats are carried bit for bit (NaN and -0.0 included).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// SQL `box`: two opposite corners.  `box_recv` on the backend puts the
/// larger coordinates in `high`; this side keeps whatever it is given.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BOX {
    pub high: Point,
    pub low: Point,
}

fn put(b: &mut Vec<u8>, p: Point) {
    b.extend_from_slice(&p.x.to_bits().to_be_bytes());
    b.extend_from_slice(&p.y.to_bits().to_be_bytes());
}

fn get(r: &mut Reader<'_>) -> Result<Point, TryFromDatumError> {
    Ok(Point {
        x: r.f64()?,
        y: r.f64()?,
    })
}

// pgrx's geometric types are Eq too (their equality is PostgreSQL's exact
// one, not point_eq's fuzzy one); a NaN coordinate is the caller's to mind.
impl Eq for Point {}
impl Eq for BOX {}

impl FromDatum for Point {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<Point>(oid, &[POINTOID])?;
        let mut r = Reader::new(bytes, "Point");
        let p = get(&mut r)?;
        r.finish()?;
        Ok(p)
    }
}

impl IntoDatum for Point {
    fn into_datum(self) -> Option<Datum> {
        let mut b = Vec::with_capacity(16);
        put(&mut b, self);
        datum(POINTOID, b)
    }
    fn type_oid() -> TypeOid {
        POINTOID
    }
}

impl FromDatum for BOX {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<BOX>(oid, &[BOXOID])?;
        let mut r = Reader::new(bytes, "BOX");
        let high = get(&mut r)?;
        let low = get(&mut r)?;
        r.finish()?;
        Ok(BOX { high, low })
    }
}

impl IntoDatum for BOX {
    fn into_datum(self) -> Option<Datum> {
        let mut b = Vec::with_capacity(32);
        put(&mut b, self.high);
        put(&mut b, self.low);
        datum(BOXOID, b)
    }
    fn type_oid() -> TypeOid {
        BOXOID
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{round_trip, strict};
    use super::*;

    #[test]
    fn point_and_box() {
        let p = Point { x: 1.0, y: -2.5 };
        let b = round_trip(p);
        assert_eq!(&b[..8], 1.0f64.to_be_bytes());
        assert_eq!(&b[8..], (-2.5f64).to_be_bytes());
        strict::<Point>(&b, POINTOID, BOXOID);
        let bx = BOX {
            high: Point { x: 3.0, y: 4.0 },
            low: p,
        };
        let b = round_trip(bx);
        assert_eq!(&b[..8], 3.0f64.to_be_bytes());
        assert_eq!(&b[24..], (-2.5f64).to_be_bytes());
        strict::<BOX>(&b, BOXOID, POINTOID);
        let odd = Point {
            x: f64::NAN,
            y: f64::NEG_INFINITY,
        };
        let back = Point::from_binary(&odd.into_datum().unwrap().bytes, POINTOID).unwrap();
        assert!(back.x.is_nan() && back.y == f64::NEG_INFINITY);
    }
}
