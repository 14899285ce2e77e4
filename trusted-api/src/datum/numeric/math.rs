//! pgrx's numeric functions on `AnyNumeric`: `ceil`, `floor`, `sqrt`,
//! `gcd`, `exp` and `log`, each giving what PostgreSQL's function of that
//! name gives (pgrx calls numeric_ceil, numeric_floor, ... directly).
//!
//! Two ways, chosen by whether PostgreSQL's result is a pure function of
//! the digits that can be reproduced exactly:
//!
//! - `ceil`, `floor`, `gcd` and `sqrt` are computed here.  The first three
//!   are integer arithmetic with PostgreSQL's result scales.  `sqrt` is too:
//!   since PostgreSQL 14, sqrt_var computes the truncated integer square
//!   root (Karatsuba) to at least one digit past the result scale and then
//!   rounds half up, which is exactly the correctly rounded square root;
//!   the integer square root here gives the same digits, on every major the
//!   kit serves (15 and later), without a round trip to the backend.
//! - `exp` and `log` run PostgreSQL's own function through SPI, in the
//!   calling backend.  Their digits come from numeric.c's series and
//!   guard-digit choices (log_var divides two approximated logarithms, so
//!   its last digit is not the correctly rounded one), and their result
//!   scales from float estimates of the logarithm's weight; none of that
//!   is specified beyond numeric.c's code, and it has changed between
//!   majors.  Asking the backend gives its exact answer, errors (SQLSTATE
//!   2201E for the logarithm of zero, 22003 on overflow) included.

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::num_traits::{Signed, Zero};

use super::{pow10, weight_and_first_digit, AnyNumeric, Repr, DEC_DIGITS};
use super::{NUMERIC_MAX_DISPLAY_SCALE, NUMERIC_MIN_DISPLAY_SCALE, NUMERIC_MIN_SIG_DIGITS};
use crate::datum::{IntoDatum, PgBuiltInOids};
use crate::spi::Spi;

/// PostgreSQL's ERRCODE_INVALID_ARGUMENT_FOR_POWER_FUNCTION, which
/// sqrt of a negative number raises.
const INVALID_ARGUMENT_FOR_POWER_FUNCTION: [u8; 5] = *b"2201F";

impl AnyNumeric {
    /// The smallest integer not less than this value, at scale 0 (`ceil(1.50)`
    /// is `2`, `ceil(-0.5)` is `0`); NaN and the infinities are returned as
    /// they are, as PostgreSQL's ceil(numeric).
    pub fn ceil(&self) -> AnyNumeric {
        self.to_integer(|remainder| remainder.sign() == Sign::Plus)
    }

    /// The largest integer not greater than this value, at scale 0
    /// (`floor(-1.5)` is `-2`); NaN and the infinities are returned as they
    /// are, as PostgreSQL's floor(numeric).
    pub fn floor(&self) -> AnyNumeric {
        self.to_integer(|remainder| remainder.sign() == Sign::Minus)
    }

    /// The value truncated to an integer, moved one away from zero when
    /// `step(remainder)` says so (the remainder has the value's sign).
    fn to_integer(&self, step: impl Fn(&BigInt) -> bool) -> AnyNumeric {
        let Some((m, s)) = self.parts() else {
            return self.clone();
        };
        let unit = pow10(u64::from(s));
        let truncated = m.as_ref() / &unit;
        let remainder = m.as_ref() % &unit;
        let integer = if !step(&remainder) {
            truncated
        } else if remainder.sign() == Sign::Plus {
            truncated + 1u32
        } else {
            truncated - 1u32
        };
        AnyNumeric::result(integer, 0)
    }

    /// The square root, with PostgreSQL's result scale: at least 16
    /// significant digits and not less than the input's scale
    /// (`sqrt(2)` is `1.414213562373095`), rounded half up.  `Infinity`
    /// gives `Infinity`, NaN NaN; a negative value (`-Infinity` too) is an
    /// ERROR, SQLSTATE 2201F, as in PostgreSQL.
    pub fn sqrt(&self) -> AnyNumeric {
        let negative = || -> ! {
            crate::log::raise(
                Some(INVALID_ARGUMENT_FOR_POWER_FUNCTION),
                "cannot take square root of a negative number".to_string(),
                None,
            )
        };
        let (m, s) = match (&self.0, self.parts()) {
            (Repr::NegInf, _) => negative(),
            (_, None) => return self.clone(),
            (_, Some(p)) => p,
        };
        if m.sign() == Sign::Minus {
            negative();
        }
        // numeric_sqrt's scale: the result's decimal weight is about half
        // the input's base-10000 weight (zero has weight 0).
        let weight = if m.is_zero() {
            0
        } else {
            weight_and_first_digit(&m, s).0
        };
        let result_weight = (weight + 1) * DEC_DIGITS / 2 - 1;
        let rscale = (NUMERIC_MIN_SIG_DIGITS - result_weight)
            .max(i64::from(s))
            .clamp(NUMERIC_MIN_DISPLAY_SCALE, NUMERIC_MAX_DISPLAY_SCALE);
        let rscale = u32::try_from(rscale).unwrap_or(0);
        // Want round_half_up(sqrt(x) * 10^r) with x = m * 10^-s, that is
        // floor(sqrt(y) + 1/2) for y = m * 10^(2r - s), which equals
        // floor((isqrt(floor(4y)) + 1) / 2): floor(sqrt(t)) is
        // isqrt(floor(t)), and floor(z / 2) = floor(floor(z) / 2).
        let shift = 2 * i64::from(rscale) - i64::from(s);
        let four_y = if shift >= 0 {
            m.as_ref() * pow10(shift.unsigned_abs()) * 4u32
        } else {
            m.as_ref() * 4u32 / pow10(shift.unsigned_abs())
        };
        let root = (four_y.sqrt() + 1u32) / 2u32;
        AnyNumeric::result(root, rscale)
    }

    /// The greatest common divisor of the two values, non-negative, at the
    /// larger of their scales (`gcd(0.5, 0.75)` is `0.25`, `gcd(-12, 18)`
    /// is `6`, `gcd(0, 0)` is `0`); NaN if either is NaN or infinite, as
    /// PostgreSQL's gcd(numeric, numeric).
    pub fn gcd(&self, n: &AnyNumeric) -> AnyNumeric {
        let (Some((m1, s1)), Some((m2, s2))) = (self.parts(), n.parts()) else {
            return AnyNumeric::nan();
        };
        let s = s1.max(s2);
        let mut a = super::rescale_mantissa(&m1, s1, s).abs();
        let mut b = super::rescale_mantissa(&m2, s2, s).abs();
        while !b.is_zero() {
            let r = &a % &b;
            a = b;
            b = r;
        }
        AnyNumeric::result(a, s)
    }

    /// e raised to the power `x`, as PostgreSQL's exp(numeric) computes it
    /// (`exp(1)` is `2.7182818284590452`), through SPI (see the top of
    /// this file).
    pub fn exp(x: &AnyNumeric) -> AnyNumeric {
        in_backend("exp", "SELECT pg_catalog.exp($1)", &[x])
    }

    /// PostgreSQL's log(`self`, `base`): the logarithm of `base` to the
    /// base `self`.  That is what pgrx 0.11 computes, whatever its
    /// documentation says (it passes `self` as numeric_log's first
    /// argument, the base), so PL/Rust bodies get the same numbers here:
    /// `AnyNumeric::from(2).log(AnyNumeric::from(8))` is `3.0000000000000000`.
    /// Through SPI (see the top of this file).
    pub fn log(&self, base: AnyNumeric) -> AnyNumeric {
        in_backend("log", "SELECT pg_catalog.log($1, $2)", &[self, &base])
    }
}

/// Run `query`, whose parameters are the `args` (all numeric) and whose
/// one result is a numeric, in the calling backend.  An ERROR there ends
/// the call with PostgreSQL's own SQLSTATE and message, as the function
/// called directly would.
fn in_backend(function: &str, query: &str, args: &[&AnyNumeric]) -> AnyNumeric {
    let spi_args = args
        .iter()
        .map(|a| (PgBuiltInOids::NUMERICOID.oid(), (*a).into_datum()))
        .collect();
    match Spi::get_one_with_args::<AnyNumeric>(query, spi_args) {
        Ok(Some(v)) => v,
        // The functions are strict and none of their arguments is NULL.
        Ok(None) => panic!("AnyNumeric::{function}: the backend returned NULL"),
        Err(e) => match crate::report::as_raised(&e) {
            Some(raised) => std::panic::panic_any(raised),
            None => panic!("AnyNumeric::{function}: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> AnyNumeric {
        s.parse().unwrap()
    }

    fn text(v: AnyNumeric) -> String {
        v.to_string()
    }

    #[test]
    fn ceil_and_floor_follow_postgres() {
        for (x, ceil, floor) in [
            ("1.50", "2", "1"),
            ("-1.5", "-1", "-2"),
            ("-0.5", "0", "-1"),
            ("0.000", "0", "0"),
            ("7", "7", "7"),
            ("7.000", "7", "7"),
            ("-7.000", "-7", "-7"),
            ("0.0000000001", "1", "0"),
            (
                "-99999999999999999999.9",
                "-99999999999999999999",
                "-100000000000000000000",
            ),
        ] {
            assert_eq!(text(n(x).ceil()), ceil, "ceil({x})");
            assert_eq!(text(n(x).floor()), floor, "floor({x})");
        }
        for special in ["NaN", "Infinity", "-Infinity"] {
            assert_eq!(text(n(special).ceil()), special);
            assert_eq!(text(n(special).floor()), special);
        }
    }

    #[test]
    fn sqrt_has_postgres_digits_and_scale() {
        // Values as PostgreSQL 15 prints them.
        for (x, root) in [
            ("2", "1.414213562373095"),
            ("2.0", "1.414213562373095"),
            ("4", "2.000000000000000"),
            ("0", "0.000000000000000"),
            ("0.00", "0.000000000000000"),
            ("1", "1.000000000000000"),
            ("100", "10.000000000000000"),
            ("10000", "100.0000000000000"),
            ("0.0001", "0.01000000000000000"),
            ("0.5", "0.70710678118654752"),
            ("0.01", "0.10000000000000000"),
            ("1e20", "10000000000.00000"),
            ("1e-20", "0.0000000001000000000000000"),
            ("123456789.123", "11111.11106609056"),
            ("2.00000000000000000000", "1.41421356237309504880"),
            ("Infinity", "Infinity"),
            ("NaN", "NaN"),
        ] {
            assert_eq!(text(n(x).sqrt()), root, "sqrt({x})");
        }
        // A large input: scale 0 and the correctly rounded integer root.
        let big = n(&format!("2{}", "0".repeat(100)));
        assert_eq!(
            text(big.sqrt()),
            "141421356237309504880168872420969807856967187537695"
        );
    }

    #[test]
    fn sqrt_of_a_negative_number_is_an_error_with_postgres_sqlstate() {
        for x in ["-1", "-0.0001", "-Infinity"] {
            let caught = std::panic::catch_unwind(|| n(x).sqrt()).unwrap_err();
            let e = caught
                .downcast_ref::<crate::entry::RaisedError>()
                .expect("a RaisedError");
            assert_eq!(e.sqlstate, Some(*b"2201F"), "sqrt({x})");
            assert_eq!(e.message, "cannot take square root of a negative number");
        }
    }

    #[test]
    fn gcd_follows_postgres() {
        for (a, b, g) in [
            ("12", "18", "6"),
            ("-12", "18", "6"),
            ("-12", "-18", "6"),
            ("0", "-5", "5"),
            ("0", "0", "0"),
            ("0.5", "0.75", "0.25"),
            ("1.50", "1", "0.50"),
            ("7", "0.000", "7.000"),
            ("132560717806043136", "7423400264784150528", "9663676416"),
        ] {
            assert_eq!(text(n(a).gcd(&n(b))), g, "gcd({a}, {b})");
            assert_eq!(text(n(b).gcd(&n(a))), g, "gcd({b}, {a})");
        }
        for special in ["NaN", "Infinity", "-Infinity"] {
            assert!(n(special).gcd(&n("4")).is_nan());
            assert!(n("4").gcd(&n(special)).is_nan());
        }
    }
}
