//! Composite values (`CREATE TYPE ... AS (...)`, a table's row):
//! `PgHeapTuple<'a, W>`, with pgrx's `get_by_name`/`set_by_name`.
//!
//! A tuple is its type's attributes (names and types, from the function's
//! signature, the trigger, or the backend for `new_composite_type`) and
//! one binary value or NULL per attribute.  It travels in record_send's
//! format; the backend's record_recv checks every column's type.

use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::rc::Rc;

use plrust_ipc::message::{Answer, Attribute, Upcall};

use crate::datum::oids::{FIRST_NORMAL_OBJECT_ID, RECORDOID};
use crate::datum::{read_record, write_record, Datum, FromDatum, IntoDatum, TypeOid};
use crate::pgbox::{AllocatedByPostgres, AllocatedByRust};
use crate::upcall::upcall;

/// Where plrust-trusted-pgrx re-exports it.
pub use crate::datum::TryFromDatumError;

/// A composite value, owned.
///
/// pgrx's `PgHeapTuple<'a, W>` borrows its tuple descriptor for `'a` and
/// says by `W` whose memory the tuple is in.  Here the attributes are
/// shared by `Rc` and the values are the body's own, so neither parameter
/// constrains anything; they are there so that PL/Rust's spelling,
/// `PgHeapTuple<'a, AllocatedByRust>`, names this type, while the short
/// `PgHeapTuple` still elides `'a` wherever Rust allows and defaults `W`.
/// `W` is left unbounded (pgrx bounds it by `WhoAllocated`): nothing here
/// depends on it, and a looser bound refuses no body pgrx accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct PgHeapTuple<'a, W = AllocatedByRust> {
    type_oid: u32,
    attributes: Rc<[Attribute]>,
    values: Vec<Option<Vec<u8>>>,
    descriptor_lifetime: PhantomData<&'a ()>,
    /// `fn() -> W`: the marker is not owned data (no drop check, and the
    /// tuple's auto traits do not depend on it).
    allocated_by: PhantomData<fn() -> W>,
}

/// Why a composite value could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgHeapTupleError {
    /// No composite type by that name (or the lookup failed).
    NoSuchType(String),
}

impl std::fmt::Display for PgHeapTupleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PgHeapTupleError::NoSuchType(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for PgHeapTupleError {}

/// The SQL types whose values have text's binary format.
const TEXT_LIKE: &[u32] = &[25, 1043, 1042, 19, 705];

/// Whether a value of SQL type `value` can be stored in an attribute whose
/// binary format is that of `attr`.
fn compatible(value: u32, attr: u32) -> bool {
    value == attr
        || (TEXT_LIKE.contains(&value) && TEXT_LIKE.contains(&attr))
        // Enum labels are text; nested composites are records.
        || (attr >= FIRST_NORMAL_OBJECT_ID && (value == 25 || value == RECORDOID))
}

/// What pgrx makes only as Rust's own tuples.
impl<'a> PgHeapTuple<'a, AllocatedByRust> {
    /// A value of composite type `name` (as SQL would resolve it, e.g.
    /// `"person"` or `"myschema.person"`), every attribute NULL.
    pub fn new_composite_type(
        name: &str,
    ) -> Result<PgHeapTuple<'a, AllocatedByRust>, PgHeapTupleError> {
        match upcall(&Upcall::DescribeType { name }) {
            Answer::Type {
                type_oid,
                attributes,
            } => Ok(PgHeapTuple::with_attributes(type_oid, attributes.into())),
            Answer::Error { message, .. } => Err(PgHeapTupleError::NoSuchType(message)),
            _ => Err(PgHeapTupleError::NoSuchType(format!("type \"{name}\""))),
        }
    }

    fn with_attributes(type_oid: u32, attributes: Rc<[Attribute]>) -> PgHeapTuple<'a> {
        let nulls = vec![None; attributes.len()];
        PgHeapTuple::from_parts(type_oid, attributes, nulls)
    }

    fn from_parts(
        type_oid: u32,
        attributes: Rc<[Attribute]>,
        values: Vec<Option<Vec<u8>>>,
    ) -> PgHeapTuple<'a> {
        PgHeapTuple {
            type_oid,
            attributes,
            values,
            descriptor_lifetime: PhantomData,
            allocated_by: PhantomData,
        }
    }

    /// A value received in record format, with its type's attributes.
    pub fn from_record(
        bytes: &[u8],
        type_oid: u32,
        attributes: Rc<[Attribute]>,
    ) -> Result<PgHeapTuple<'a>, TryFromDatumError> {
        let fields = read_record(bytes)?;
        if fields.len() != attributes.len() {
            return Err(TryFromDatumError::Malformed {
                rust_type: "PgHeapTuple",
                why: format!(
                    "{} columns for a type of {}",
                    fields.len(),
                    attributes.len()
                ),
            });
        }
        let values = fields
            .into_iter()
            .map(|(_, v)| v.map(<[u8]>::to_vec))
            .collect();
        Ok(PgHeapTuple::from_parts(type_oid, attributes, values))
    }

    /// For the generated code: attributes as `(name, type, base type)`.
    pub fn attributes_of(list: &[(&str, u32, u32)]) -> Rc<[Attribute]> {
        list.iter()
            .map(|(name, type_oid, base_oid)| Attribute {
                name: name.to_string(),
                type_oid: *type_oid,
                base_oid: *base_oid,
            })
            .collect()
    }

    fn set_at<T: IntoDatum>(&mut self, i: usize, value: T) -> Result<(), TryFromDatumError> {
        let base = self.attributes[i].base_oid;
        match value.into_datum() {
            None => self.values[i] = None,
            Some(Datum { oid, bytes }) => {
                if !compatible(oid, base) {
                    return Err(TryFromDatumError::IncompatibleTypes {
                        rust_type: std::any::type_name::<T>(),
                        sql_oid: base,
                    });
                }
                self.values[i] = Some(bytes);
            }
        }
        Ok(())
    }

    pub fn set_by_name<T: IntoDatum>(
        &mut self,
        name: &str,
        value: T,
    ) -> Result<(), TryFromDatumError> {
        let i = self.index_of(name)?;
        self.set_at(i, value)
    }

    pub fn set_by_index<T: IntoDatum>(
        &mut self,
        attno: NonZeroUsize,
        value: T,
    ) -> Result<(), TryFromDatumError> {
        let i = self.checked_index(attno)?;
        self.set_at(i, value)
    }
}

/// What pgrx has only on tuples PostgreSQL handed over (a trigger's rows).
impl<'a> PgHeapTuple<'a, AllocatedByPostgres> {
    /// The tuple as one the body may change.  Every tuple is the body's
    /// own already (`AllocatedByPostgres` is `AllocatedByRust`: pgbox.rs),
    /// so this is the identity.
    pub fn into_owned(self) -> PgHeapTuple<'a, AllocatedByRust> {
        self
    }
}

/// What pgrx has on every tuple, whoever allocated it.
impl<W> PgHeapTuple<'_, W> {
    fn index_of(&self, name: &str) -> Result<usize, TryFromDatumError> {
        self.attributes
            .iter()
            .position(|a| a.name == name)
            .ok_or_else(|| TryFromDatumError::NoSuchAttributeName(name.to_string()))
    }

    fn checked_index(&self, attno: NonZeroUsize) -> Result<usize, TryFromDatumError> {
        let i = attno.get() - 1;
        if i < self.values.len() {
            Ok(i)
        } else {
            Err(TryFromDatumError::NoSuchAttributeNumber(attno.get()))
        }
    }

    fn get_at<T: FromDatum>(&self, i: usize) -> Result<Option<T>, TryFromDatumError> {
        match &self.values[i] {
            None => Ok(None),
            Some(bytes) => T::from_binary(bytes, self.attributes[i].base_oid).map(Some),
        }
    }

    pub fn get_by_name<T: FromDatum>(&self, name: &str) -> Result<Option<T>, TryFromDatumError> {
        self.get_at(self.index_of(name)?)
    }

    pub fn get_by_index<T: FromDatum>(
        &self,
        attno: NonZeroUsize,
    ) -> Result<Option<T>, TryFromDatumError> {
        self.get_at(self.checked_index(attno)?)
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The attributes' names, in order.
    pub fn attribute_names(&self) -> impl Iterator<Item = &str> {
        self.attributes.iter().map(|a| a.name.as_str())
    }

    /// The composite type's oid.
    pub fn composite_type_oid(&self) -> u32 {
        self.type_oid
    }

    /// The tuple as a composite value: its bytes in record format, with
    /// its type's oid (`pg_sys::Datum` is this crate's `Datum`).
    pub fn into_composite_datum(self) -> Option<Datum> {
        self.into_datum()
    }

    /// The tuple as a trigger function returns it.  A trigger's result
    /// travels as the row's composite value (the backend forms the
    /// HeapTuple), so this is `into_composite_datum`.
    pub fn into_trigger_datum(self) -> Option<Datum> {
        self.into_datum()
    }
}

impl<W> IntoDatum for PgHeapTuple<'_, W> {
    fn into_datum(self) -> Option<Datum> {
        let fields: Vec<(TypeOid, Option<&[u8]>)> = self
            .attributes
            .iter()
            .zip(&self.values)
            .map(|(a, v)| (a.type_oid, v.as_deref()))
            .collect();
        let mut bytes = Vec::new();
        write_record(&fields, &mut bytes);
        Some(Datum {
            oid: if self.type_oid == 0 {
                RECORDOID
            } else {
                self.type_oid
            },
            bytes,
        })
    }

    fn type_oid() -> TypeOid {
        RECORDOID
    }
}

/// A composite value without its type's names (from a query result):
/// attributes are addressed by number.
impl FromDatum for PgHeapTuple<'_, AllocatedByRust> {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        if oid != RECORDOID && oid < FIRST_NORMAL_OBJECT_ID {
            return Err(TryFromDatumError::IncompatibleTypes {
                rust_type: "PgHeapTuple",
                sql_oid: oid,
            });
        }
        let fields = read_record(bytes)?;
        let attributes: Rc<[Attribute]> = fields
            .iter()
            .map(|(t, _)| Attribute {
                name: String::new(),
                type_oid: *t,
                base_oid: *t,
            })
            .collect();
        let values = fields
            .into_iter()
            .map(|(_, v)| v.map(<[u8]>::to_vec))
            .collect();
        Ok(PgHeapTuple::from_parts(oid, attributes, values))
    }
}

/// `composite_type!("person")`: the Rust type of a composite value.
#[macro_export]
macro_rules! composite_type {
    // The lifetime first: `'a` could begin an expression (a labelled
    // block), and a failed expression match would not fall through.
    ($lt:lifetime, $name:expr) => {
        $crate::heap_tuple::PgHeapTuple<$lt, $crate::pgbox::AllocatedByRust>
    };
    ($name:expr) => {
        $crate::heap_tuple::PgHeapTuple<'static, $crate::pgbox::AllocatedByRust>
    };
}
/// By the path pgrx gives it too (`pgrx::heap_tuple::composite_type!`).
pub use crate::composite_type;

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> PgHeapTuple<'static> {
        PgHeapTuple::with_attributes(
            16500,
            PgHeapTuple::attributes_of(&[
                ("name", 25, 25),
                ("age", 701, 701),
                ("nick", 1043, 1043),
            ]),
        )
    }

    #[test]
    fn get_and_set_by_name_and_index() {
        let mut p = person();
        p.set_by_name("name", "Ann").unwrap();
        p.set_by_name("age", 41.5f64).unwrap();
        p.set_by_name("nick", "a".to_string()).unwrap();
        assert_eq!(p.get_by_name::<String>("name").unwrap(), Some("Ann".into()));
        assert_eq!(
            p.get_by_index::<f64>(NonZeroUsize::new(2).unwrap())
                .unwrap(),
            Some(41.5)
        );
        assert!(matches!(
            p.set_by_name("age", 3i32),
            Err(TryFromDatumError::IncompatibleTypes { .. })
        ));
        assert!(matches!(
            p.get_by_name::<i32>("nope"),
            Err(TryFromDatumError::NoSuchAttributeName(_))
        ));
        assert!(matches!(
            p.get_by_index::<i32>(NonZeroUsize::new(9).unwrap()),
            Err(TryFromDatumError::NoSuchAttributeNumber(9))
        ));
        p.set_by_name("name", None::<String>).unwrap();
        assert_eq!(p.get_by_name::<String>("name").unwrap(), None);
    }

    /// Every spelling a body may use names one type: PL/Rust's, the
    /// short one, the trigger's `AllocatedByPostgres` and the macro's.
    fn rename(t: PgHeapTuple<'static, AllocatedByPostgres>) -> composite_type!("person") {
        let owned: PgHeapTuple<'_, AllocatedByRust> = t.into_owned();
        let short: PgHeapTuple = owned;
        short
    }

    fn count<W>(t: &PgHeapTuple<'_, W>) -> usize {
        t.len()
    }

    #[test]
    fn markers_and_lifetimes_change_nothing() {
        let mut p = rename(person());
        p.set_by_name("age", 7.0f64).unwrap();
        assert_eq!(count(&p), 3);
        let d = p.clone().into_datum();
        assert_eq!(p.clone().into_composite_datum(), d);
        assert_eq!(p.into_trigger_datum(), d);
        let lt: composite_type!('static, "person") = rename(person());
        assert_eq!(lt, person());
    }

    #[test]
    fn record_round_trip() {
        let mut p = person();
        p.set_by_name("age", 2.0f64).unwrap();
        let d = p.clone().into_datum().unwrap();
        assert_eq!(d.oid, 16500);
        let back = PgHeapTuple::from_record(
            &d.bytes,
            16500,
            PgHeapTuple::attributes_of(&[
                ("name", 25, 25),
                ("age", 701, 701),
                ("nick", 1043, 1043),
            ]),
        )
        .unwrap();
        assert_eq!(back, p);
        assert!(PgHeapTuple::from_binary(&d.bytes, 23).is_err());
    }
}
