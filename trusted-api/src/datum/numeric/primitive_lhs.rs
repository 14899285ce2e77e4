//! Arithmetic with a Rust number on the left and an `AnyNumeric` on the
//! right (`2 * x`, `1.5 - x`), as pgrx 0.11 has it for every primitive
//! number type.  The number converts to numeric exactly as it does on the
//! right-hand side (`From`), and the operation is the same one, so
//! `2 * x` and `x * 2` give the same value and scale, and each has
//! PostgreSQL's result scale (mod.rs).

use core::ops::{Add, Div, Mul, Rem, Sub};

use super::AnyNumeric;

macro_rules! primitive_on_the_left {
    ($($t:ty),*) => {$(
        impl Add<AnyNumeric> for $t {
            type Output = AnyNumeric;
            fn add(self, rhs: AnyNumeric) -> AnyNumeric {
                AnyNumeric::from(self).add_impl(&rhs, false)
            }
        }

        impl Sub<AnyNumeric> for $t {
            type Output = AnyNumeric;
            fn sub(self, rhs: AnyNumeric) -> AnyNumeric {
                AnyNumeric::from(self).add_impl(&rhs, true)
            }
        }

        impl Mul<AnyNumeric> for $t {
            type Output = AnyNumeric;
            fn mul(self, rhs: AnyNumeric) -> AnyNumeric {
                AnyNumeric::from(self).mul_impl(&rhs)
            }
        }

        impl Div<AnyNumeric> for $t {
            type Output = AnyNumeric;
            fn div(self, rhs: AnyNumeric) -> AnyNumeric {
                AnyNumeric::from(self).div_impl(&rhs)
            }
        }

        impl Rem<AnyNumeric> for $t {
            type Output = AnyNumeric;
            fn rem(self, rhs: AnyNumeric) -> AnyNumeric {
                AnyNumeric::from(self).rem_impl(&rhs)
            }
        }
    )*};
}

primitive_on_the_left!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> AnyNumeric {
        s.parse().unwrap()
    }

    #[test]
    fn each_operator_matches_its_right_hand_twin() {
        let x = n("2.50");
        let cases: [(AnyNumeric, AnyNumeric); 5] = [
            (7i32 + x.clone(), x.clone() + 7i32),
            (7u8 * x.clone(), x.clone() * 7u8),
            (1i64 - x.clone(), -(x.clone() - 1i64)),
            (
                u128::MAX - n("1"),
                n("340282366920938463463374607431768211454"),
            ),
            (1.5f64 * x.clone(), n("3.750")),
        ];
        for (got, want) in cases {
            assert_eq!(got.to_string(), want.to_string());
        }
    }

    #[test]
    fn scales_are_postgres() {
        let s = |v: AnyNumeric| v.to_string();
        assert_eq!(s(1i32 / n("3")), "0.33333333333333333333");
        assert_eq!(s(10usize / n("4")), "2.5000000000000000");
        assert_eq!(s(7isize % n("2.5")), "2.0");
        assert_eq!(s(-7i16 % n("2")), "-1");
        assert_eq!(s(3u16 - n("1.000")), "2.000");
        assert_eq!(s(0.5f32 + n("1")), "1.5");
        assert_eq!(s(i128::MIN + n("0")), i128::MIN.to_string());
        assert_eq!(s(2u64 * AnyNumeric::negative_infinity()), "-Infinity");
        let zero = 0i8;
        assert!((zero * AnyNumeric::positive_infinity()).is_nan());
        assert!((f64::NAN + n("1")).is_nan());
        assert_eq!(s(5u32 / AnyNumeric::positive_infinity()), "0");
    }

    #[test]
    fn dividing_by_zero_raises_as_on_the_right() {
        assert_eq!(
            super::super::tests::raised(|| drop(1i32 / n("0.0"))),
            Some(*b"22012")
        );
    }
}
