//! SQL `numeric` as `AnyNumeric`: arbitrary precision, with PostgreSQL's
//! NaN and infinities, its display scale, and its result-scale rules.
//!
//! Storage is a `BigDecimal` whose scale is always exactly the value's
//! PostgreSQL `dscale` (so `1.50` and `1.5` stay distinct in display while
//! comparing equal).  The arithmetic itself is done on the integer
//! mantissas, because PostgreSQL's scale selection and rounding (half away
//! from zero) have to be reproduced digit for digit.

use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};
use core::str::FromStr;
use std::borrow::Cow;

use bigdecimal::num_bigint::{BigInt, Sign as BigSign};
use bigdecimal::num_traits::{Signed, ToPrimitive, Zero};
use bigdecimal::BigDecimal;

mod math;
mod primitive_lhs;

use super::oids::NUMERICOID;
use super::reader::Reader;
use super::{datum, expect_oid, Datum, FromDatum, IntoDatum, TryFromDatumError, TypeOid};

// PostgreSQL's numeric.c constants.
const NBASE: i16 = 10000;
const DEC_DIGITS: i64 = 4;
const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;
const NUMERIC_DSCALE_MAX: u32 = 0x3FFF;
/// What numeric_send puts in the dscale field of ±Infinity.
const INF_DSCALE: u16 = 0x20;
const NUMERIC_WEIGHT_MAX: i64 = i16::MAX as i64;
const NUMERIC_MIN_SIG_DIGITS: i64 = 16;
const NUMERIC_MIN_DISPLAY_SCALE: i64 = 0;
const NUMERIC_MAX_DISPLAY_SCALE: i64 = 1000;
/// numeric_in's limit on the exponent of `1.5e10`-style input.
const NUMERIC_MAX_PRECISION: i64 = 1000;
/// round()'s limit on the requested scale.
const NUMERIC_MAX_RESULT_SCALE: u16 = 2000;

/// numeric_div's ERROR, 22012, as pgrx's operators (which call it) raise.
#[track_caller]
fn division_by_zero() -> ! {
    crate::log::raise(Some(*b"22012"), "division by zero".into(), None)
}

/// Which way an `AnyNumeric` faces (`AnyNumeric::sign`), as pgrx's.
#[derive(Debug, PartialEq, Eq, Hash)]
pub enum Sign {
    Negative,
    Positive,
    Zero,
    NaN,
}

/// Why a conversion to or from `AnyNumeric` failed (pgrx's numeric `Error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumericError {
    /// The value does not fit the target.
    OutOfRange(String),
    /// The input is not a valid numeric.
    Invalid(String),
    /// The value (NaN, say) has no counterpart in the target type.
    ConversionNotSupported(String),
}

impl fmt::Display for NumericError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumericError::OutOfRange(s)
            | NumericError::Invalid(s)
            | NumericError::ConversionNotSupported(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for NumericError {}

#[derive(Clone)]
enum Repr {
    NaN,
    PosInf,
    NegInf,
    /// Scale is the dscale: in `0..=NUMERIC_DSCALE_MAX`.
    Finite(BigDecimal),
}

/// A SQL `numeric` of any precision and scale.
#[derive(Clone)]
pub struct AnyNumeric(Repr, NormalizedText);

/// `normalize()`'s text, made on first use.  pgrx's `normalize(&self) ->
/// &str` borrows a string PostgreSQL allocated; here the value itself has
/// to own it for the borrow to live as long as `&self`.  A `OnceLock`
/// (not a `OnceCell`) keeps `AnyNumeric` `Sync`; every constructor starts
/// it empty, and a value is never changed in place (assignment operators
/// replace it whole), so the text cannot go stale.
#[derive(Clone, Default)]
struct NormalizedText(std::sync::OnceLock<Box<str>>);

fn pow10(n: u64) -> BigInt {
    // Exponents here are bounded by the format (a few hundred thousand at
    // most), so u32 always suffices.
    num_pow(BigInt::from(10u32), u32::try_from(n).unwrap_or(u32::MAX))
}

fn num_pow(b: BigInt, e: u32) -> BigInt {
    bigdecimal::num_traits::Pow::pow(b, e)
}

/// `num / den` rounded half away from zero, as PostgreSQL's round_var.
fn div_round(num: &BigInt, den: &BigInt) -> BigInt {
    let q = num / den;
    let r = num - &q * den;
    if (r.abs() * 2u32) >= den.abs() {
        if (num.sign() == BigSign::Minus) == (den.sign() == BigSign::Minus) {
            q + 1u32
        } else {
            q - 1u32
        }
    } else {
        q
    }
}

/// `m * 10^-from` expressed at scale `to`, rounding half away from zero.
fn rescale_mantissa(m: &BigInt, from: u32, to: u32) -> BigInt {
    match to.cmp(&from) {
        Ordering::Equal => m.clone(),
        Ordering::Greater => m * pow10(u64::from(to - from)),
        Ordering::Less => div_round(m, &pow10(u64::from(from - to))),
    }
}

/// Base-10000 weight and leading digit of `m * 10^-s` (m != 0), as
/// PostgreSQL's NumericVar would hold them.
fn weight_and_first_digit(m: &BigInt, s: u32) -> (i64, u32) {
    let digits = m.magnitude().to_string();
    let nd = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    // Power of ten of the most significant decimal digit.
    let p = nd - 1 - i64::from(s);
    let weight = p.div_euclid(DEC_DIGITS);
    // Decimal places the first base-10000 digit spans (1 to 4); when the
    // number ends inside it (0.1 is the group 1000), the rest are zeros.
    let in_first = usize::try_from(p - weight * DEC_DIGITS + 1).unwrap_or(1);
    let have = in_first.min(digits.len());
    let lead: u32 = digits[..have].parse().unwrap_or(0);
    let first = lead * 10u32.pow(u32::try_from(in_first - have).unwrap_or(0));
    (weight, first)
}

impl AnyNumeric {
    fn from_repr(repr: Repr) -> AnyNumeric {
        AnyNumeric(repr, NormalizedText::default())
    }

    fn finite(m: BigInt, scale: u32) -> AnyNumeric {
        AnyNumeric::from_repr(Repr::Finite(BigDecimal::new(m, i64::from(scale))))
    }

    /// Mantissa and dscale of a finite value.
    fn parts(&self) -> Option<(Cow<'_, BigInt>, u32)> {
        match &self.0 {
            Repr::Finite(d) => {
                let (m, s) = d.as_bigint_and_scale();
                Some((m, u32::try_from(s).unwrap_or(0)))
            }
            _ => None,
        }
    }

    /// PostgreSQL's make_result limits: the weight must fit an int16 and
    /// the dscale 14 bits.
    fn checked(m: BigInt, scale: u32) -> Result<AnyNumeric, NumericError> {
        let overflow = || NumericError::OutOfRange("value overflows numeric format".into());
        if scale > NUMERIC_DSCALE_MAX {
            return Err(overflow());
        }
        // 400k bits is ~120k decimal digits, under the 131072 integer
        // digits a weight of 32767 allows: skip the exact check below that.
        if !m.is_zero() && m.bits() > 400_000 {
            let (weight, _) = weight_and_first_digit(&m, scale);
            if weight > NUMERIC_WEIGHT_MAX {
                return Err(overflow());
            }
        }
        Ok(AnyNumeric::finite(m, scale))
    }

    /// Arithmetic results: PostgreSQL raises an ERROR on overflow, which a
    /// panic becomes here.
    fn result(m: BigInt, scale: u32) -> AnyNumeric {
        match AnyNumeric::checked(m, scale) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    pub fn is_nan(&self) -> bool {
        matches!(self.0, Repr::NaN)
    }

    /// Which way the value faces (pgrx's `sign()`); the infinities are
    /// Positive and Negative.
    pub fn sign(&self) -> Sign {
        match &self.0 {
            Repr::NaN => Sign::NaN,
            Repr::PosInf => Sign::Positive,
            Repr::NegInf => Sign::Negative,
            Repr::Finite(d) if d.is_zero() => Sign::Zero,
            Repr::Finite(d) if d.is_negative() => Sign::Negative,
            Repr::Finite(_) => Sign::Positive,
        }
    }

    /// `Infinity` or `-Infinity`.
    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Repr::PosInf | Repr::NegInf)
    }

    pub fn is_finite(&self) -> bool {
        matches!(self.0, Repr::Finite(_))
    }

    pub fn nan() -> AnyNumeric {
        AnyNumeric::from_repr(Repr::NaN)
    }

    pub fn positive_infinity() -> AnyNumeric {
        AnyNumeric::from_repr(Repr::PosInf)
    }

    pub fn negative_infinity() -> AnyNumeric {
        AnyNumeric::from_repr(Repr::NegInf)
    }

    /// The display scale (digits after the decimal point); 0 for NaN and
    /// the infinities.
    pub fn scale(&self) -> u16 {
        self.parts()
            .map_or(0, |(_, s)| u16::try_from(s).unwrap_or(u16::MAX))
    }

    /// -1, 0 or 1 (NaN gives NaN, as PostgreSQL's sign()).
    pub fn signum(&self) -> AnyNumeric {
        match &self.0 {
            Repr::NaN => AnyNumeric::nan(),
            Repr::PosInf => AnyNumeric::from(1),
            Repr::NegInf => AnyNumeric::from(-1),
            Repr::Finite(_) => {
                let (m, _) = self.parts().unwrap_or((Cow::Owned(BigInt::zero()), 0));
                AnyNumeric::from(match m.sign() {
                    BigSign::Minus => -1,
                    BigSign::NoSign => 0,
                    BigSign::Plus => 1,
                })
            }
        }
    }

    pub fn abs(&self) -> AnyNumeric {
        match &self.0 {
            Repr::NegInf => AnyNumeric::positive_infinity(),
            Repr::Finite(_) => {
                let (m, s) = self.parts().unwrap_or((Cow::Owned(BigInt::zero()), 0));
                AnyNumeric::finite(m.abs(), s)
            }
            _ => self.clone(),
        }
    }

    /// The same value with trailing fractional zeros removed, as
    /// PostgreSQL's trim_scale().
    pub fn trim_scale(&self) -> AnyNumeric {
        match self.parts() {
            None => self.clone(),
            Some((m, mut s)) => {
                let mut m = m.into_owned();
                let ten = BigInt::from(10u32);
                if m.is_zero() {
                    return AnyNumeric::finite(m, 0);
                }
                while s > 0 && (&m % &ten).is_zero() {
                    m /= &ten;
                    s -= 1;
                }
                AnyNumeric::finite(m, s)
            }
        }
    }

    /// The value's text without insignificant trailing zeros (nor a
    /// trailing decimal point), as PostgreSQL's numeric_normalize, which
    /// pgrx calls: equal values give equal strings (`1.50` and `1.5`
    /// both give `1.5`; `0.00` gives `0`; NaN `NaN`, the infinities
    /// `Infinity` and `-Infinity`).
    pub fn normalize(&self) -> &str {
        self.1
             .0
            .get_or_init(|| self.trim_scale().to_string().into_boxed_str())
    }

    /// Rounded (half away from zero) or zero-extended to `scale` fraction
    /// digits, as PostgreSQL's round(numeric, int) (which also caps the
    /// scale at 2000).
    pub fn rescale(&self, scale: u16) -> AnyNumeric {
        match self.parts() {
            None => self.clone(),
            Some((m, s)) => {
                let to = u32::from(scale.min(NUMERIC_MAX_RESULT_SCALE));
                AnyNumeric::finite(rescale_mantissa(&m, s, to), to)
            }
        }
    }

    /// PostgreSQL's binary send format.
    fn to_binary(&self) -> Vec<u8> {
        let header = |ndigits: u16, weight: i16, sign: u16, dscale: u16| {
            let mut b = Vec::with_capacity(8 + 2 * usize::from(ndigits));
            b.extend_from_slice(&ndigits.to_be_bytes());
            b.extend_from_slice(&weight.to_be_bytes());
            b.extend_from_slice(&sign.to_be_bytes());
            b.extend_from_slice(&dscale.to_be_bytes());
            b
        };
        let (m, s) = match (&self.0, self.parts()) {
            (Repr::NaN, _) => return header(0, 0, NUMERIC_NAN, 0),
            // numeric_send reads the infinities' dscale out of their short
            // header, where the sign bits overlap the scale field: 0x20.
            (Repr::PosInf, _) => return header(0, 0, NUMERIC_PINF, INF_DSCALE),
            (Repr::NegInf, _) => return header(0, 0, NUMERIC_NINF, INF_DSCALE),
            (_, Some(p)) => p,
            (_, None) => return header(0, 0, NUMERIC_NAN, 0),
        };
        let dscale = u16::try_from(s).unwrap_or(u16::MAX);
        if m.is_zero() {
            return header(0, 0, NUMERIC_POS, dscale);
        }
        let sign = if m.sign() == BigSign::Minus {
            NUMERIC_NEG
        } else {
            NUMERIC_POS
        };
        // Align the fraction to whole base-10000 digits, then cut the
        // decimal digit string into groups of four.
        let s4 = s.div_ceil(4) * 4;
        let mag = BigInt::from(m.magnitude().clone()) * pow10(u64::from(s4 - s));
        let dec = mag.to_string();
        let pad = (4 - dec.len() % 4) % 4;
        let padded: Vec<u8> = core::iter::repeat_n(b'0', pad).chain(dec.bytes()).collect();
        let mut groups: Vec<i16> = padded
            .chunks(4)
            .map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0')))
            .collect();
        let n = i64::try_from(groups.len()).unwrap_or(i64::MAX);
        let weight = n - 1 - i64::from(s4 / 4);
        while groups.last() == Some(&0) {
            groups.pop();
        }
        // Values are kept within the weight limit by `checked`.
        let weight = i16::try_from(weight).unwrap_or(i16::MAX);
        let ndigits = u16::try_from(groups.len()).unwrap_or(u16::MAX);
        let mut b = header(ndigits, weight, sign, dscale);
        for g in groups {
            b.extend_from_slice(&g.to_be_bytes());
        }
        b
    }

    fn from_binary_format(bytes: &[u8]) -> Result<AnyNumeric, TryFromDatumError> {
        let mut r = Reader::new(bytes, "AnyNumeric");
        let ndigits = usize::from(r.u16()?);
        let weight = i64::from(r.i16()?);
        let sign = r.u16()?;
        let dscale = r.u16()?;
        if !matches!(
            sign,
            NUMERIC_POS | NUMERIC_NEG | NUMERIC_NAN | NUMERIC_PINF | NUMERIC_NINF
        ) {
            return Err(r.malformed(format!("invalid sign 0x{sign:04x}")));
        }
        if u32::from(dscale) > NUMERIC_DSCALE_MAX {
            return Err(r.malformed(format!("invalid scale {dscale}")));
        }
        // Read (and bound) all digits before allocating anything for them.
        let raw = r.bytes(
            ndigits
                .checked_mul(2)
                .ok_or_else(|| r.malformed("digit count"))?,
        )?;
        r.finish()?;
        let mut dec = String::with_capacity(raw.len() * 2);
        for pair in raw.chunks_exact(2) {
            let d = i16::from_be_bytes([pair[0], pair[1]]);
            if !(0..NBASE).contains(&d) {
                return Err(TryFromDatumError::Malformed {
                    rust_type: "AnyNumeric",
                    why: format!("invalid digit {d}"),
                });
            }
            dec.push_str(&format!("{d:04}"));
        }
        match sign {
            NUMERIC_NAN => return Ok(AnyNumeric::nan()),
            NUMERIC_PINF => return Ok(AnyNumeric::positive_infinity()),
            NUMERIC_NINF => return Ok(AnyNumeric::negative_infinity()),
            _ => {}
        }
        let scale = u32::from(dscale);
        if ndigits == 0 {
            return Ok(AnyNumeric::finite(BigInt::zero(), scale));
        }
        let digits: BigInt = dec.parse().map_err(|_| TryFromDatumError::Malformed {
            rust_type: "AnyNumeric",
            why: "digits".into(),
        })?;
        // value = digits * 10^e; we want it as m * 10^-scale.  Digits the
        // dscale would hide are truncated, as numeric_recv's trunc_var does.
        let n = i64::try_from(ndigits).unwrap_or(i64::MAX);
        let e = DEC_DIGITS * (weight - (n - 1));
        let shift = e + i64::from(scale);
        let mut m = if shift >= 0 {
            digits * pow10(shift.unsigned_abs())
        } else {
            digits / pow10(shift.unsigned_abs())
        };
        if sign == NUMERIC_NEG {
            m = -m;
        }
        Ok(AnyNumeric::finite(m, scale))
    }

    fn parse(s: &str) -> Result<AnyNumeric, NumericError> {
        let invalid =
            || NumericError::Invalid(format!("invalid input syntax for type numeric: \"{s}\""));
        // C's isspace, which numeric_in uses for the surrounding blanks.
        let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c');
        let t = s.trim_matches(is_space);
        let lower = t.to_ascii_lowercase();
        match lower.as_str() {
            "nan" => return Ok(AnyNumeric::nan()),
            "infinity" | "+infinity" | "inf" | "+inf" => return Ok(AnyNumeric::positive_infinity()),
            "-infinity" | "-inf" => return Ok(AnyNumeric::negative_infinity()),
            _ => {}
        }
        let b = t.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            neg = b[i] == b'-';
            i += 1;
        }
        let mut digits = String::new();
        let mut frac: i64 = 0;
        let mut have_dp = false;
        if i < b.len() && b[i] == b'.' {
            have_dp = true;
            i += 1;
        }
        if i >= b.len() || !b[i].is_ascii_digit() {
            return Err(invalid());
        }
        while i < b.len() {
            match b[i] {
                d @ b'0'..=b'9' => {
                    digits.push(char::from(d));
                    if have_dp {
                        frac += 1;
                    }
                }
                b'.' if !have_dp => have_dp = true,
                _ => break,
            }
            i += 1;
        }
        let mut exponent: i64 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            // strtol, which numeric_in uses here, skips blanks first.
            while i < b.len() && is_space(char::from(b[i])) {
                i += 1;
            }
            let mut eneg = false;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                eneg = b[i] == b'-';
                i += 1;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                exponent = exponent
                    .saturating_mul(10)
                    .saturating_add(i64::from(b[i] - b'0'));
                i += 1;
            }
            if i == start {
                return Err(invalid());
            }
            if eneg {
                exponent = -exponent;
            }
            if !(-NUMERIC_MAX_PRECISION..=NUMERIC_MAX_PRECISION).contains(&exponent) {
                return Err(invalid());
            }
        }
        if i != b.len() {
            return Err(invalid());
        }
        let mut m: BigInt = digits.parse().map_err(|_| invalid())?;
        if neg {
            m = -m;
        }
        // value = m * 10^(exponent - frac); dscale never goes below 0.
        let natural = frac - exponent;
        let dscale = natural.max(0);
        m *= pow10((dscale - natural).unsigned_abs());
        let scale = u32::try_from(dscale)
            .map_err(|_| NumericError::OutOfRange("value overflows numeric format".into()))?;
        AnyNumeric::checked(m, scale)
    }

    /// PostgreSQL's select_div_scale.
    fn div_scale(m1: &BigInt, s1: u32, m2: &BigInt, s2: u32) -> u32 {
        let (w1, f1) = if m1.is_zero() {
            (0, 0)
        } else {
            weight_and_first_digit(m1, s1)
        };
        let (w2, f2) = if m2.is_zero() {
            (0, 0)
        } else {
            weight_and_first_digit(m2, s2)
        };
        let mut qweight = w1 - w2;
        if f1 <= f2 {
            qweight -= 1;
        }
        let rscale = (NUMERIC_MIN_SIG_DIGITS - qweight * DEC_DIGITS)
            .max(i64::from(s1))
            .max(i64::from(s2))
            .clamp(NUMERIC_MIN_DISPLAY_SCALE, NUMERIC_MAX_DISPLAY_SCALE);
        u32::try_from(rscale).unwrap_or(0)
    }

    fn sign_of(&self) -> i8 {
        match &self.0 {
            Repr::PosInf => 1,
            Repr::NegInf => -1,
            Repr::NaN => 0,
            Repr::Finite(d) => match d.sign() {
                BigSign::Minus => -1,
                BigSign::NoSign => 0,
                BigSign::Plus => 1,
            },
        }
    }

    fn add_impl(&self, rhs: &AnyNumeric, negate_rhs: bool) -> AnyNumeric {
        use Repr::*;
        let rhs_neg;
        let rhs = if negate_rhs {
            rhs_neg = -rhs;
            &rhs_neg
        } else {
            rhs
        };
        match (&self.0, &rhs.0) {
            (NaN, _) | (_, NaN) => AnyNumeric::nan(),
            (PosInf, NegInf) | (NegInf, PosInf) => AnyNumeric::nan(),
            (PosInf, _) | (_, PosInf) => AnyNumeric::positive_infinity(),
            (NegInf, _) | (_, NegInf) => AnyNumeric::negative_infinity(),
            (Finite(_), Finite(_)) => {
                let (Some((m1, s1)), Some((m2, s2))) = (self.parts(), rhs.parts()) else {
                    return AnyNumeric::nan();
                };
                let s = s1.max(s2);
                AnyNumeric::result(
                    rescale_mantissa(&m1, s1, s) + rescale_mantissa(&m2, s2, s),
                    s,
                )
            }
        }
    }

    fn mul_impl(&self, rhs: &AnyNumeric) -> AnyNumeric {
        use Repr::*;
        match (&self.0, &rhs.0) {
            (NaN, _) | (_, NaN) => AnyNumeric::nan(),
            (Finite(_), Finite(_)) => {
                let (Some((m1, s1)), Some((m2, s2))) = (self.parts(), rhs.parts()) else {
                    return AnyNumeric::nan();
                };
                let m = m1.as_ref() * m2.as_ref();
                let s = s1 + s2;
                if s > NUMERIC_DSCALE_MAX {
                    AnyNumeric::result(
                        rescale_mantissa(&m, s, NUMERIC_DSCALE_MAX),
                        NUMERIC_DSCALE_MAX,
                    )
                } else {
                    AnyNumeric::result(m, s)
                }
            }
            // An infinity times anything: the sign of the product, with
            // 0 * Inf undefined.
            _ => match self.sign_of() * rhs.sign_of() {
                0 => AnyNumeric::nan(),
                1 => AnyNumeric::positive_infinity(),
                _ => AnyNumeric::negative_infinity(),
            },
        }
    }

    fn div_impl(&self, rhs: &AnyNumeric) -> AnyNumeric {
        use Repr::*;
        match (&self.0, &rhs.0) {
            (NaN, _) | (_, NaN) => AnyNumeric::nan(),
            (PosInf | NegInf, PosInf | NegInf) => AnyNumeric::nan(),
            (PosInf | NegInf, Finite(_)) => match self.sign_of() * rhs.sign_of() {
                0 => division_by_zero(),
                1 => AnyNumeric::positive_infinity(),
                _ => AnyNumeric::negative_infinity(),
            },
            // numeric doesn't underflow: finite / infinity is plain zero.
            (Finite(_), PosInf | NegInf) => AnyNumeric::from(0),
            (Finite(_), Finite(_)) => {
                let (Some((m1, s1)), Some((m2, s2))) = (self.parts(), rhs.parts()) else {
                    return AnyNumeric::nan();
                };
                if m2.is_zero() {
                    division_by_zero();
                }
                let rscale = AnyNumeric::div_scale(&m1, s1, &m2, s2);
                // q = m1/m2 * 10^(s2-s1), wanted at rscale.
                let k = i64::from(rscale) + i64::from(s2) - i64::from(s1);
                let q = if k >= 0 {
                    div_round(&(m1.as_ref() * pow10(k.unsigned_abs())), &m2)
                } else {
                    div_round(&m1, &(m2.as_ref() * pow10(k.unsigned_abs())))
                };
                AnyNumeric::result(q, rscale)
            }
        }
    }

    fn rem_impl(&self, rhs: &AnyNumeric) -> AnyNumeric {
        use Repr::*;
        match (&self.0, &rhs.0) {
            (NaN, _) | (_, NaN) => AnyNumeric::nan(),
            (PosInf | NegInf, _) => {
                if rhs.sign_of() == 0 {
                    division_by_zero();
                }
                AnyNumeric::nan()
            }
            (Finite(_), PosInf | NegInf) => self.clone(),
            (Finite(_), Finite(_)) => {
                let (Some((m1, s1)), Some((m2, s2))) = (self.parts(), rhs.parts()) else {
                    return AnyNumeric::nan();
                };
                if m2.is_zero() {
                    division_by_zero();
                }
                // a - b * trunc(a / b), at the larger scale: BigInt's `%`
                // truncates and takes the dividend's sign, as mod_var does.
                let s = s1.max(s2);
                AnyNumeric::result(
                    rescale_mantissa(&m1, s1, s) % rescale_mantissa(&m2, s2, s),
                    s,
                )
            }
        }
    }
}

impl Default for AnyNumeric {
    fn default() -> AnyNumeric {
        AnyNumeric::from(0)
    }
}

impl fmt::Display for AnyNumeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0, self.parts()) {
            (Repr::NaN, _) => f.write_str("NaN"),
            (Repr::PosInf, _) => f.write_str("Infinity"),
            (Repr::NegInf, _) => f.write_str("-Infinity"),
            (_, None) => f.write_str("NaN"),
            (_, Some((m, s))) => {
                let mut digits = m.magnitude().to_string();
                let s = usize::try_from(s).unwrap_or(0);
                if digits.len() <= s {
                    digits = format!("{}{digits}", "0".repeat(s + 1 - digits.len()));
                }
                if m.sign() == BigSign::Minus {
                    f.write_str("-")?;
                }
                let (int, frac) = digits.split_at(digits.len() - s);
                f.write_str(int)?;
                if s > 0 {
                    f.write_str(".")?;
                    f.write_str(frac)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for AnyNumeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnyNumeric({self})")
    }
}

impl FromStr for AnyNumeric {
    type Err = NumericError;
    fn from_str(s: &str) -> Result<AnyNumeric, NumericError> {
        AnyNumeric::parse(s)
    }
}

impl TryFrom<&str> for AnyNumeric {
    type Error = NumericError;
    fn try_from(s: &str) -> Result<AnyNumeric, NumericError> {
        AnyNumeric::parse(s)
    }
}

/// As pgrx: bytes that are not UTF-8 become U+FFFD first (so such input is
/// simply invalid numeric syntax).
impl TryFrom<&core::ffi::CStr> for AnyNumeric {
    type Error = NumericError;
    fn try_from(s: &core::ffi::CStr) -> Result<AnyNumeric, NumericError> {
        AnyNumeric::parse(&s.to_string_lossy())
    }
}

/// PostgreSQL's cmp_numerics: NaN equals itself and sorts above
/// everything, including Infinity; scale does not matter (1.0 = 1.00).
impl Ord for AnyNumeric {
    fn cmp(&self, other: &AnyNumeric) -> Ordering {
        use Repr::*;
        match (&self.0, &other.0) {
            (NaN, NaN) | (PosInf, PosInf) | (NegInf, NegInf) => Ordering::Equal,
            (NaN, _) => Ordering::Greater,
            (_, NaN) => Ordering::Less,
            (PosInf, _) | (_, NegInf) => Ordering::Greater,
            (NegInf, _) | (_, PosInf) => Ordering::Less,
            (Finite(_), Finite(_)) => match (self.parts(), other.parts()) {
                (Some((m1, s1)), Some((m2, s2))) => {
                    let s = s1.max(s2);
                    rescale_mantissa(&m1, s1, s).cmp(&rescale_mantissa(&m2, s2, s))
                }
                _ => Ordering::Equal,
            },
        }
    }
}

impl PartialOrd for AnyNumeric {
    fn partial_cmp(&self, other: &AnyNumeric) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for AnyNumeric {
    fn eq(&self, other: &AnyNumeric) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for AnyNumeric {}

/// Consistent with `Eq`: equal values hash alike whatever their scale.
impl Hash for AnyNumeric {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            Repr::NaN => 0u8.hash(state),
            Repr::PosInf => 1u8.hash(state),
            Repr::NegInf => 2u8.hash(state),
            Repr::Finite(_) => {
                3u8.hash(state);
                if let Some((m, s)) = self.trim_scale().parts() {
                    m.hash(state);
                    s.hash(state);
                }
            }
        }
    }
}

impl FromDatum for AnyNumeric {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<AnyNumeric>(oid, &[NUMERICOID])?;
        AnyNumeric::from_binary_format(bytes)
    }
}

impl IntoDatum for AnyNumeric {
    fn into_datum(self) -> Option<Datum> {
        datum(NUMERICOID, self.to_binary())
    }
    fn type_oid() -> TypeOid {
        NUMERICOID
    }
}

impl IntoDatum for &AnyNumeric {
    fn into_datum(self) -> Option<Datum> {
        datum(NUMERICOID, self.to_binary())
    }
    fn type_oid() -> TypeOid {
        NUMERICOID
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for AnyNumeric {
            fn from(v: $t) -> AnyNumeric {
                AnyNumeric::finite(BigInt::from(v), 0)
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

/// C's `printf("%.*g", significant, v)` for a finite `v`, in a form
/// numeric's input reads: `significant` digits, correctly rounded (ties to
/// even on the exact binary value, as glibc), trailing fractional zeros
/// dropped.  Where %g would choose fixed notation this keeps the exponent,
/// which changes neither the digits nor the scale numeric_in gives them.
fn printf_g(v: f64, significant: usize) -> String {
    let sci = format!("{:.*e}", significant.saturating_sub(1), v);
    match sci.split_once('e') {
        Some((mantissa, exponent)) => {
            let mantissa = if mantissa.contains('.') {
                mantissa.trim_end_matches('0').trim_end_matches('.')
            } else {
                mantissa
            };
            format!("{mantissa}e{exponent}")
        }
        None => sci,
    }
}

macro_rules! from_float {
    ($($t:ty => $digits:expr),*) => {$(
        /// As PostgreSQL's float4_numeric and float8_numeric, which pgrx
        /// calls: NaN and the infinities map to their numeric
        /// counterparts, anything else goes through its text with
        /// FLT_DIG (6) or DBL_DIG (15) significant digits, so
        /// `1.0 / 3.0` becomes 0.333333333333333 and `0.1 + 0.2`
        /// becomes 0.3, as `(0.1::float8 + 0.2)::numeric` does.
        impl From<$t> for AnyNumeric {
            fn from(v: $t) -> AnyNumeric {
                if v.is_nan() {
                    AnyNumeric::nan()
                } else if v.is_infinite() {
                    if v > 0.0 { AnyNumeric::positive_infinity() } else { AnyNumeric::negative_infinity() }
                } else {
                    // A finite float's exponent (|e| <= 324) is well
                    // inside numeric_in's limit of 1000.
                    AnyNumeric::parse(&printf_g(f64::from(v), $digits)).unwrap_or_else(|_| AnyNumeric::nan())
                }
            }
        }
    )*};
}
// FLT_DIG and DBL_DIG.
from_float!(f32 => 6, f64 => 15);

impl From<&AnyNumeric> for AnyNumeric {
    fn from(v: &AnyNumeric) -> AnyNumeric {
        v.clone()
    }
}

macro_rules! to_int {
    ($($t:ty => $conv:ident),*) => {$(
        /// Only integral values in range convert.
        impl TryFrom<AnyNumeric> for $t {
            type Error = NumericError;
            fn try_from(v: AnyNumeric) -> Result<$t, NumericError> {
                TryFrom::try_from(&v)
            }
        }

        impl TryFrom<&AnyNumeric> for $t {
            type Error = NumericError;
            fn try_from(v: &AnyNumeric) -> Result<$t, NumericError> {
                let name = stringify!($t);
                match &v.0 {
                    Repr::NaN => return Err(NumericError::ConversionNotSupported(format!("cannot convert NaN to {name}"))),
                    Repr::PosInf | Repr::NegInf => return Err(NumericError::ConversionNotSupported(format!("cannot convert infinity to {name}"))),
                    Repr::Finite(_) => {}
                }
                let Some((m, s)) = v.parts() else {
                    return Err(NumericError::Invalid(format!("{v}")));
                };
                let unit = pow10(u64::from(s));
                if !(m.as_ref() % &unit).is_zero() {
                    return Err(NumericError::Invalid(format!("{v} is not an integer")));
                }
                (m.as_ref() / &unit)
                    .$conv()
                    .ok_or_else(|| NumericError::OutOfRange(format!("{v} is out of range for {name}")))
            }
        }
    )*};
}
to_int!(i8 => to_i8, i16 => to_i16, i32 => to_i32, i64 => to_i64, i128 => to_i128, isize => to_isize, u8 => to_u8, u16 => to_u16, u32 => to_u32, u64 => to_u64, u128 => to_u128, usize => to_usize);

macro_rules! to_float {
    ($($t:ty),*) => {$(
        /// NaN and the infinities convert to their float counterparts;
        /// finite values round to nearest, and are out of range only if
        /// that overflows or underflows to zero.
        impl TryFrom<AnyNumeric> for $t {
            type Error = NumericError;
            fn try_from(v: AnyNumeric) -> Result<$t, NumericError> {
                TryFrom::try_from(&v)
            }
        }

        impl TryFrom<&AnyNumeric> for $t {
            type Error = NumericError;
            fn try_from(v: &AnyNumeric) -> Result<$t, NumericError> {
                match &v.0 {
                    Repr::NaN => Ok(<$t>::NAN),
                    Repr::PosInf => Ok(<$t>::INFINITY),
                    Repr::NegInf => Ok(<$t>::NEG_INFINITY),
                    Repr::Finite(_) => {
                        let out_of_range = || NumericError::OutOfRange(format!("{v} is out of range for {}", stringify!($t)));
                        let f: $t = v.to_string().parse().map_err(|_| out_of_range())?;
                        if f.is_infinite() || (f == 0.0 && v.sign_of() != 0) {
                            Err(out_of_range())
                        } else {
                            Ok(f)
                        }
                    }
                }
            }
        }
    )*};
}
to_float!(f32, f64);

impl Neg for AnyNumeric {
    type Output = AnyNumeric;
    fn neg(self) -> AnyNumeric {
        -&self
    }
}

impl Neg for &AnyNumeric {
    type Output = AnyNumeric;
    fn neg(self) -> AnyNumeric {
        match &self.0 {
            Repr::NaN => AnyNumeric::nan(),
            Repr::PosInf => AnyNumeric::negative_infinity(),
            Repr::NegInf => AnyNumeric::positive_infinity(),
            Repr::Finite(_) => match self.parts() {
                Some((m, s)) => AnyNumeric::finite(-m.into_owned(), s),
                None => AnyNumeric::nan(),
            },
        }
    }
}

// Right-hand sides: anything that converts to AnyNumeric (another
// AnyNumeric, a reference to one, an integer or a float).
macro_rules! binop {
    ($tr:ident, $method:ident, $atr:ident, $amethod:ident, |$a:ident, $b:ident| $body:expr) => {
        impl<T: Into<AnyNumeric>> $tr<T> for AnyNumeric {
            type Output = AnyNumeric;
            fn $method(self, rhs: T) -> AnyNumeric {
                let $a = &self;
                let $b = &rhs.into();
                $body
            }
        }

        impl<T: Into<AnyNumeric>> $tr<T> for &AnyNumeric {
            type Output = AnyNumeric;
            fn $method(self, rhs: T) -> AnyNumeric {
                let $a = self;
                let $b = &rhs.into();
                $body
            }
        }

        impl<T: Into<AnyNumeric>> $atr<T> for AnyNumeric {
            fn $amethod(&mut self, rhs: T) {
                let $a = &*self;
                let $b = &rhs.into();
                *self = $body;
            }
        }
    };
}

binop!(Add, add, AddAssign, add_assign, |a, b| a.add_impl(b, false));
binop!(Sub, sub, SubAssign, sub_assign, |a, b| a.add_impl(b, true));
binop!(Mul, mul, MulAssign, mul_assign, |a, b| a.mul_impl(b));
binop!(Div, div, DivAssign, div_assign, |a, b| a.div_impl(b));
binop!(Rem, rem, RemAssign, rem_assign, |a, b| a.rem_impl(b));

impl core::iter::Sum for AnyNumeric {
    fn sum<I: Iterator<Item = AnyNumeric>>(iter: I) -> AnyNumeric {
        iter.fold(AnyNumeric::from(0), |a, b| a + b)
    }
}

impl<'a> core::iter::Sum<&'a AnyNumeric> for AnyNumeric {
    fn sum<I: Iterator<Item = &'a AnyNumeric>>(iter: I) -> AnyNumeric {
        iter.fold(AnyNumeric::from(0), |a, b| a + b)
    }
}

impl core::iter::Product for AnyNumeric {
    fn product<I: Iterator<Item = AnyNumeric>>(iter: I) -> AnyNumeric {
        iter.fold(AnyNumeric::from(1), |a, b| a * b)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{round_trip, strict};
    use super::*;

    fn n(s: &str) -> AnyNumeric {
        s.parse().unwrap()
    }

    #[test]
    fn sign_as_pgrx_gives_it() {
        assert_eq!(n("-0.5").sign(), Sign::Negative);
        assert_eq!(n("0.000").sign(), Sign::Zero);
        assert_eq!(n("12").sign(), Sign::Positive);
        assert_eq!(n("NaN").sign(), Sign::NaN);
        assert_eq!(n("-Infinity").sign(), Sign::Negative);
        assert_eq!(n("Infinity").sign(), Sign::Positive);
    }

    fn enc(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [ndigits, weight as u16, sign, dscale] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    /// Round trip that also checks the scale survived (Eq ignores it).
    fn rt(v: &AnyNumeric) -> Vec<u8> {
        let bytes = round_trip(v.clone());
        let back = AnyNumeric::from_binary(&bytes, NUMERICOID).unwrap();
        assert_eq!(back.to_string(), v.to_string());
        bytes
    }

    #[test]
    fn pinned_encodings() {
        assert_eq!(rt(&n("1.50")), enc(2, 0, 0, 2, &[1, 5000]));
        assert_eq!(rt(&n("0")), enc(0, 0, 0, 0, &[]));
        assert_eq!(rt(&n("0.00")), enc(0, 0, 0, 2, &[]));
        assert_eq!(rt(&n("-12345.678")), enc(3, 1, 0x4000, 3, &[1, 2345, 6780]));
        assert_eq!(rt(&n("10000")), enc(1, 1, 0, 0, &[1]));
        assert_eq!(rt(&n("0.0001")), enc(1, -1, 0, 4, &[1]));
        assert_eq!(rt(&n("0.00001")), enc(1, -2, 0, 5, &[1000]));
        assert_eq!(rt(&n("1e-20")), enc(1, -5, 0, 20, &[1]));
        assert_eq!(rt(&AnyNumeric::nan()), enc(0, 0, 0xC000, 0, &[]));
        assert_eq!(
            rt(&AnyNumeric::positive_infinity()),
            enc(0, 0, 0xD000, 0x20, &[])
        );
        assert_eq!(
            rt(&AnyNumeric::negative_infinity()),
            enc(0, 0, 0xF000, 0x20, &[])
        );
        // Any dscale is accepted on the way in, as numeric_recv does.
        assert_eq!(
            AnyNumeric::from_binary(&enc(0, 0, 0xD000, 0, &[]), NUMERICOID).unwrap(),
            AnyNumeric::positive_infinity()
        );
        // Negative zero is zero.
        assert_eq!(rt(&n("-0.0")), enc(0, 0, 0, 1, &[]));
        assert_eq!(n("-0.0").to_string(), "0.0");
    }

    #[test]
    fn decoding_follows_numeric_recv() {
        // Non-canonical input: leading/trailing zero digits are fine.
        let v = AnyNumeric::from_binary(&enc(3, 1, 0, 1, &[0, 12, 0]), NUMERICOID).unwrap();
        assert_eq!(v.to_string(), "12.0");
        // Digits hidden by dscale are truncated, not rounded.
        let v = AnyNumeric::from_binary(&enc(2, 0, 0x4000, 2, &[1, 5678]), NUMERICOID).unwrap();
        assert_eq!(v.to_string(), "-1.56");
        let v = AnyNumeric::from_binary(&enc(1, 0, 0, 0, &[9999]), NUMERICOID).unwrap();
        assert_eq!(v.to_string(), "9999");
        // Bad digits, signs and scales are rejected.
        for bad in [
            enc(1, 0, 0, 0, &[10000]),
            enc(1, 0, 0, 0, &[-1]),
            enc(0, 0, 0x1234, 0, &[]),
            enc(0, 0, 0, 0x4000, &[]),
            enc(2, 0, 0, 0, &[1]),
            enc(0xffff, 0, 0, 0, &[]),
        ] {
            assert!(
                AnyNumeric::from_binary(&bad, NUMERICOID).is_err(),
                "{bad:?}"
            );
        }
        // Extreme weights stay within a bounded amount of work.
        let v = AnyNumeric::from_binary(&enc(1, i16::MAX, 0, 0, &[1]), NUMERICOID).unwrap();
        assert_eq!(v.to_string().len(), 4 * 32767 + 1);
        let v = AnyNumeric::from_binary(&enc(1, i16::MIN, 0, 0x3fff, &[1]), NUMERICOID).unwrap();
        assert_eq!(v, n("0"));
        for s in ["1.50", "NaN", "-Infinity", "-123456789.000000001"] {
            strict::<AnyNumeric>(&rt(&n(s)), NUMERICOID, INT4OID_FOR_TEST);
        }
    }

    const INT4OID_FOR_TEST: TypeOid = super::super::oids::INT4OID;

    #[test]
    fn large_values_round_trip() {
        let thousand = format!("{}.{}", "7".repeat(1000), "1234567".repeat(100));
        let v = n(&thousand);
        assert_eq!(v.to_string(), thousand);
        rt(&v);
        rt(&-v);
        let big = num_pow(BigInt::from(2u32), 3000);
        let v = AnyNumeric::finite(big.clone(), 0);
        assert_eq!(v.to_string(), big.to_string());
        rt(&v);
        rt(&AnyNumeric::finite(big, 999));
        rt(&n(&format!("0.{}1", "0".repeat(16381))));
    }

    #[test]
    fn parsing() {
        assert_eq!(n(" 1.50 ").to_string(), "1.50");
        assert_eq!(n("+.5").to_string(), "0.5");
        assert_eq!(n("5.").to_string(), "5");
        assert_eq!(n("1.5e3").to_string(), "1500");
        assert_eq!(n("1.5E-3").to_string(), "0.0015");
        assert_eq!(n("-1e-20").to_string(), "-0.00000000000000000001");
        assert_eq!(n("0001.000").to_string(), "1.000");
        for s in ["NaN", "nan", " NAN "] {
            assert!(n(s).is_nan());
        }
        for s in ["Infinity", "+infinity", "inf", "+INF"] {
            assert_eq!(n(s), AnyNumeric::positive_infinity());
        }
        for s in ["-Infinity", "-inf"] {
            assert_eq!(n(s), AnyNumeric::negative_infinity());
        }
        for s in [
            "", ".", "-", "1e", "e5", "1.2.3", "abc", "1e1001", "1 2", "-nan", "0x10", "1_000",
        ] {
            assert!(s.parse::<AnyNumeric>().is_err(), "{s:?}");
        }
        assert_eq!(n("1e1000").to_string().len(), 1001);
    }

    #[test]
    fn display() {
        assert_eq!(n("-0.05").to_string(), "-0.05");
        assert_eq!(AnyNumeric::nan().to_string(), "NaN");
        assert_eq!(AnyNumeric::positive_infinity().to_string(), "Infinity");
        assert_eq!(AnyNumeric::negative_infinity().to_string(), "-Infinity");
        assert_eq!(format!("{:?}", n("1.0")), "AnyNumeric(1.0)");
    }

    #[test]
    fn ordering() {
        let mut v = [
            AnyNumeric::nan(),
            AnyNumeric::positive_infinity(),
            n("1.5"),
            AnyNumeric::negative_infinity(),
            n("-2"),
            n("0"),
        ];
        v.sort();
        let s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        assert_eq!(s, ["-Infinity", "-2", "0", "1.5", "Infinity", "NaN"]);
        assert_eq!(AnyNumeric::nan(), AnyNumeric::nan());
        assert_eq!(n("1.0"), n("1.00"));
        let h = |x: &AnyNumeric| {
            use std::collections::hash_map::DefaultHasher;
            let mut s = DefaultHasher::new();
            x.hash(&mut s);
            s.finish()
        };
        assert_eq!(h(&n("1.0")), h(&n("1.00")));
        assert_eq!(h(&n("0")), h(&n("0.000")));
        assert!(n("0.1") < n("0.11"));
    }

    #[test]
    fn arithmetic_scales() {
        let s = |v: AnyNumeric| v.to_string();
        assert_eq!(s(n("1") / n("3")), "0.33333333333333333333");
        assert_eq!(s(n("10") / n("4")), "2.5000000000000000");
        assert_eq!(s(n("2") / n("3")), "0.66666666666666666667");
        assert_eq!(s(n("-2") / n("3")), "-0.66666666666666666667");
        assert_eq!(
            s(n("1e-20") / n("3")),
            "0.0000000000000000000033333333333333333333"
        );
        assert_eq!(s(n("1.5") * n("2.25")), "3.375");
        assert_eq!(s(n("1.50") + n("1")), "2.50");
        assert_eq!(s(n("1") - n("1.000")), "0.000");
        assert_eq!(s(n("7.5") % n("2")), "1.5");
        assert_eq!(s(n("-7.5") % n("2")), "-1.5");
        assert_eq!(s(n("100000") / n("3")), "33333.333333333333");
        assert_eq!(
            s(n("1.000000000000000000000000") / n("3")),
            "0.333333333333333333333333"
        );
        assert_eq!(s(n("9999") / n("9999")), "1.00000000000000000000");
        assert_eq!(s(n("0") / n("5")), "0.00000000000000000000");
        assert_eq!(s(n("12345678") / n("2")), "6172839.000000000000");
        // 0.1's first base-10000 digit is 1000, not 1.
        assert_eq!(s(n("0.1") / n("33")), "0.00303030303030303030");
        assert_eq!(s(n("100000") / n("0.5")), "200000.000000000000");
        assert_eq!(s(n("0.5") * 3), "1.5");
        assert_eq!(s(n("0.5") + 1.25f64), "1.75");
        assert_eq!(s(&n("2") * &n("0.5")), "1.0");
        assert_eq!(s(-n("2")), "-2");
        assert_eq!(s(n("-2.50").abs()), "2.50");
        let mut x = n("1");
        x += 2i64;
        x *= n("1.5");
        assert_eq!(s(x), "4.5");
        let total: AnyNumeric = [n("1.1"), n("2.22")].into_iter().sum();
        assert_eq!(s(total), "3.32");
    }

    #[test]
    fn special_arithmetic() {
        let inf = AnyNumeric::positive_infinity;
        let ninf = AnyNumeric::negative_infinity;
        let nan = AnyNumeric::nan;
        assert_eq!(inf() + inf(), inf());
        assert!((inf() - inf()).is_nan());
        assert_eq!(inf() - ninf(), inf());
        assert_eq!(n("1") - inf(), ninf());
        let zero = AnyNumeric::from(0);
        assert!((inf() * &zero).is_nan());
        assert!((&zero * ninf()).is_nan());
        assert_eq!(ninf() * -2, inf());
        assert_eq!((n("5") / inf()).to_string(), "0");
        assert!((inf() / ninf()).is_nan());
        assert_eq!(inf() / -3, ninf());
        assert!((nan() + 1).is_nan());
        assert!((nan() / 0).is_nan());
        assert!((inf() % 3).is_nan());
        assert_eq!((n("2.5") % inf()).to_string(), "2.5");
        assert_eq!(-ninf(), inf());
    }

    /// The SQLSTATE `f` raises its ERROR with.
    pub(super) fn raised(f: impl FnOnce() + std::panic::UnwindSafe) -> Option<[u8; 5]> {
        let payload = std::panic::catch_unwind(f).expect_err("an ERROR");
        payload
            .downcast_ref::<crate::entry::RaisedError>()
            .expect("an ERROR, not a plain panic")
            .sqlstate
    }

    #[test]
    fn division_by_zero_is_22012() {
        assert_eq!(raised(|| drop(n("1") / n("0.00"))), Some(*b"22012"));
        assert_eq!(raised(|| drop(n("1") % 0)), Some(*b"22012"));
        assert_eq!(
            raised(|| drop(AnyNumeric::positive_infinity() / 0)),
            Some(*b"22012")
        );
    }

    #[test]
    fn rescale_and_normalize() {
        assert_eq!(n("2.5").rescale(0).to_string(), "3");
        assert_eq!(n("-2.5").rescale(0).to_string(), "-3");
        assert_eq!(n("2.449").rescale(1).to_string(), "2.4");
        assert_eq!(n("2.45").rescale(1).to_string(), "2.5");
        assert_eq!(n("2").rescale(3).to_string(), "2.000");
        assert_eq!(n("1.5000").trim_scale().to_string(), "1.5");
        assert_eq!(n("100").trim_scale().to_string(), "100");
        assert_eq!(n("0.000").trim_scale().to_string(), "0");
        assert_eq!(n("1.5000").trim_scale().scale(), 1);
        assert!(AnyNumeric::nan().rescale(2).is_nan());
        assert_eq!(n("1.50").scale(), 2);
    }

    #[test]
    fn normalize_is_numeric_normalize() {
        for (x, text) in [
            ("1.5000", "1.5"),
            ("1.5", "1.5"),
            ("100", "100"),
            ("100.00", "100"),
            ("0.000", "0"),
            ("-0.0500", "-0.05"),
            ("-120", "-120"),
            ("1e-20", "0.00000000000000000001"),
            ("NaN", "NaN"),
            ("Infinity", "Infinity"),
            ("-Infinity", "-Infinity"),
        ] {
            assert_eq!(n(x).normalize(), text, "normalize({x})");
        }
        // Equal values, equal text; the text is made once and kept.
        let v = n("2.50");
        assert_eq!(v.normalize(), n("2.5000").normalize());
        assert!(core::ptr::eq(v.normalize(), v.normalize()));
        // A clone or a new value from an operator is not stale.
        let mut w = v.clone();
        assert_eq!(w.normalize(), "2.5");
        w += 1;
        assert_eq!(w.normalize(), "3.5");
        assert_eq!(w.to_string(), "3.50");
    }

    #[test]
    fn from_c_strings() {
        assert_eq!(AnyNumeric::try_from(c" 1.50 ").unwrap().to_string(), "1.50");
        assert!(AnyNumeric::try_from(c"NaN").unwrap().is_nan());
        assert!(AnyNumeric::try_from(c"1.5x").is_err());
        let not_utf8 = c"1\xff";
        assert!(matches!(
            AnyNumeric::try_from(not_utf8),
            Err(NumericError::Invalid(_))
        ));
    }

    #[test]
    fn to_isize_and_usize() {
        assert_eq!(isize::try_from(n("-42.00")).unwrap(), -42);
        assert_eq!(usize::try_from(n("42")).unwrap(), 42);
        assert_eq!(
            usize::try_from(AnyNumeric::from(usize::MAX)).unwrap(),
            usize::MAX
        );
        assert!(usize::try_from(n("-1")).is_err());
        assert!(isize::try_from(n("1e30")).is_err());
        assert!(isize::try_from(AnyNumeric::nan()).is_err());
        assert!(usize::try_from(&n("0.5")).is_err());
    }

    #[test]
    fn conversions() {
        assert_eq!(AnyNumeric::from(i64::MIN).to_string(), i64::MIN.to_string());
        assert_eq!(
            AnyNumeric::from(u128::MAX).to_string(),
            u128::MAX.to_string()
        );
        assert_eq!(AnyNumeric::from(0.1f64).to_string(), "0.1");
        assert_eq!(AnyNumeric::from(-1.5e-7f64).to_string(), "-0.00000015");
        assert_eq!(AnyNumeric::from(1e300f64).to_string().len(), 301);
        assert_eq!(AnyNumeric::from(0.1f32).to_string(), "0.1");
        // float8_numeric's and float4_numeric's digits, as PostgreSQL 15
        // prints `(x::float8)::numeric` and `(x::float4)::numeric`.
        for (f, text) in [
            (1.0 / 3.0, "0.333333333333333"),
            (0.1 + 0.2, "0.3"),
            (2.0 / 3.0, "0.666666666666667"),
            (123456789.12345679, "123456789.123457"),
            (1e15, "1000000000000000"),
            (1.2345678901234568e18, "1234567890123460000"),
            (2.5, "2.5"),
            (-0.5, "-0.5"),
            (100.0, "100"),
        ] {
            assert_eq!(AnyNumeric::from(f).to_string(), text, "{f:e}");
        }
        let tiny = format!("0.{}494065645841247", "0".repeat(323));
        assert_eq!(AnyNumeric::from(5e-324).to_string(), tiny);
        for (f, text) in [
            (1.0f32 / 3.0, "0.333333"),
            (16777217.0f32, "16777200"),
            (1.1f32, "1.1"),
            (3.4028235e38f32, "340282000000000000000000000000000000000"),
        ] {
            assert_eq!(AnyNumeric::from(f).to_string(), text, "{f:e}");
        }
        // Ties go to even, as glibc's printf: 0.125 is exact in binary.
        assert_eq!(printf_g(0.125, 2), "1.2e-1");
        assert_eq!(printf_g(0.375, 2), "3.8e-1");
        assert!(AnyNumeric::from(f64::NAN).is_nan());
        assert_eq!(
            AnyNumeric::from(f64::NEG_INFINITY),
            AnyNumeric::negative_infinity()
        );
        assert_eq!(AnyNumeric::from(-0.0f64).to_string(), "0");
        assert_eq!(i32::try_from(n("42.000")).unwrap(), 42);
        assert!(i32::try_from(n("42.5")).is_err());
        assert!(i32::try_from(n("3000000000")).is_err());
        assert_eq!(i64::try_from(n("3000000000")).unwrap(), 3_000_000_000);
        assert!(i64::try_from(AnyNumeric::nan()).is_err());
        assert!(u8::try_from(n("-1")).is_err());
        assert_eq!(f64::try_from(n("0.1")).unwrap(), 0.1);
        assert!(f64::try_from(AnyNumeric::nan()).unwrap().is_nan());
        assert_eq!(
            f64::try_from(AnyNumeric::positive_infinity()).unwrap(),
            f64::INFINITY
        );
        assert!(f64::try_from(n("1e400")).is_err());
        assert!(f64::try_from(n(&format!("0.{}1", "0".repeat(400)))).is_err());
    }
}
