//! SPI's status codes as pgrx 0.11 names them (`SpiOkCodes`, `SpiErrorCodes`),
//! with PostgreSQL's values (`executor/spi.h`, the same on every supported
//! major).  A body's SPI calls run in its backend, which reports failures as
//! SQL errors (`SpiError::Sql`); these exist for bodies written against
//! pgrx that match on them or call `Spi::check_status`.

use std::fmt;

/// A status code that is neither an `SpiOkCodes` nor an `SpiErrorCodes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownVariant;

impl fmt::Display for UnknownVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown SPI status code")
    }
}

impl std::error::Error for UnknownVariant {}

macro_rules! status_codes {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(i32)]
        pub enum $name {
            $($variant = $value,)*
        }

        impl TryFrom<i32> for $name {
            type Error = UnknownVariant;

            fn try_from(code: i32) -> Result<Self, UnknownVariant> {
                match code {
                    $($value => Ok($name::$variant),)*
                    _ => Err(UnknownVariant),
                }
            }
        }
    };
}

status_codes! {
    /// SPI_OK_*: what a successful SPI call did.
    SpiOkCodes {
        Connect = 1,
        Finish = 2,
        Fetch = 3,
        Utility = 4,
        Select = 5,
        SelInto = 6,
        Insert = 7,
        Delete = 8,
        Update = 9,
        Cursor = 10,
        InsertReturning = 11,
        DeleteReturning = 12,
        UpdateReturning = 13,
        Rewritten = 14,
        RelRegister = 15,
        RelUnregister = 16,
        TdRegister = 17,
        Merge = 18,
    }
}

status_codes! {
    /// SPI_ERROR_*: why an SPI call failed without raising an ERROR.
    SpiErrorCodes {
        Connect = -1,
        Copy = -2,
        OpUnknown = -3,
        Unconnected = -4,
        Cursor = -5,
        Argument = -6,
        Param = -7,
        Transaction = -8,
        NoAttribute = -9,
        NoOutFunc = -10,
        TypUnknown = -11,
        RelDuplicate = -12,
        RelNotFound = -13,
    }
}

impl fmt::Display for SpiErrorCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for SpiErrorCodes {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_postgresql_values_and_unknown_ones_are_refused() {
        assert_eq!(SpiOkCodes::try_from(5), Ok(SpiOkCodes::Select));
        assert_eq!(SpiOkCodes::try_from(18), Ok(SpiOkCodes::Merge));
        assert_eq!(SpiErrorCodes::try_from(-13), Ok(SpiErrorCodes::RelNotFound));
        assert_eq!(SpiOkCodes::try_from(0), Err(UnknownVariant));
        assert_eq!(SpiErrorCodes::try_from(1), Err(UnknownVariant));
        assert_eq!(SpiErrorCodes::Param.to_string(), "Param");
    }
}
