//! Arrays: `Array<T>` (any number of dimensions, any lower bounds) and the
//! flattened `Vec` forms.
//!
//! Binary format (array_send): i32 ndim, i32 has-nulls flag, u32 element
//! type, ndim × (i32 length, i32 lower bound), then each element as i32
//! length (-1 for NULL) and its bytes.  An empty array has ndim 0.

use core::fmt;

use super::oids::{array_of, element_of, FIRST_NORMAL_OBJECT_ID};
use super::reader::Reader;
use super::{datum, Datum, FromDatum, IntoDatum, TryFromDatumError, TypeOid};

/// PostgreSQL's MAXDIM.
const MAXDIM: usize = 6;

#[derive(Debug, Clone, PartialEq)]
enum Elements<T> {
    /// The usual case, which `as_slice` can lend out directly.
    NoNulls(Vec<T>),
    WithNulls(Vec<Option<T>>),
}

/// A SQL array, owned, with its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Array<T> {
    dims: Vec<i32>,
    lower_bounds: Vec<i32>,
    elems: Elements<T>,
}

/// `as_slice` on an array with NULLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArraySliceError;

impl fmt::Display for ArraySliceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("array contains NULL elements, so it cannot be viewed as a slice")
    }
}

impl std::error::Error for ArraySliceError {}

/// Why `Array::with_shape` refused a shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayShapeError(String);

impl fmt::Display for ArrayShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ArrayShapeError {}

/// The element count a shape implies, checked as ArrayGetNItems and
/// ArrayCheckBounds check it.
fn shape_len(dims: &[i32], lower_bounds: &[i32]) -> Result<usize, String> {
    if dims.len() > MAXDIM {
        return Err(format!(
            "number of array dimensions ({}) exceeds the maximum allowed ({MAXDIM})",
            dims.len()
        ));
    }
    if dims.len() != lower_bounds.len() {
        return Err("dimensions and lower bounds differ in number".into());
    }
    let mut n: usize = 1;
    for (&d, &lb) in dims.iter().zip(lower_bounds) {
        let d = usize::try_from(d).map_err(|_| format!("invalid array dimension {d}"))?;
        n = n
            .checked_mul(d)
            .ok_or("array size exceeds the maximum allowed")?;
        if lb
            .checked_add(i32::try_from(d).unwrap_or(i32::MAX))
            .is_none()
        {
            return Err("array upper bound is too large".into());
        }
    }
    Ok(if dims.is_empty() { 0 } else { n })
}

impl<T> Array<T> {
    /// A one-dimensional array with lower bound 1 (empty: no dimensions).
    pub fn new(elems: Vec<Option<T>>) -> Array<T> {
        let (dims, lower_bounds) = one_d(elems.len());
        Array {
            dims,
            lower_bounds,
            elems: Elements::WithNulls(elems),
        }
        .compact()
    }

    /// An array of the given shape; `elems` in row-major order.
    pub fn with_shape(
        elems: Vec<Option<T>>,
        dims: Vec<i32>,
        lower_bounds: Vec<i32>,
    ) -> Result<Array<T>, ArrayShapeError> {
        let n = shape_len(&dims, &lower_bounds).map_err(ArrayShapeError)?;
        if n != elems.len() {
            return Err(ArrayShapeError(format!(
                "shape holds {n} elements, not {}",
                elems.len()
            )));
        }
        if n == 0 {
            return Ok(Array {
                dims: vec![],
                lower_bounds: vec![],
                elems: Elements::NoNulls(vec![]),
            });
        }
        Ok(Array {
            dims,
            lower_bounds,
            elems: Elements::WithNulls(elems),
        }
        .compact())
    }

    fn compact(self) -> Array<T> {
        match self.elems {
            Elements::WithNulls(v) if v.iter().all(Option::is_some) => Array {
                dims: self.dims,
                lower_bounds: self.lower_bounds,
                elems: Elements::NoNulls(v.into_iter().flatten().collect()),
            },
            elems => Array { elems, ..self },
        }
    }

    /// Length of each dimension (empty for an empty array).
    pub fn dims(&self) -> &[i32] {
        &self.dims
    }

    /// Lower bound of each dimension (usually 1).
    pub fn lower_bounds(&self) -> &[i32] {
        &self.lower_bounds
    }

    pub fn ndim(&self) -> usize {
        self.dims.len()
    }

    /// Number of elements, over all dimensions.
    pub fn len(&self) -> usize {
        match &self.elems {
            Elements::NoNulls(v) => v.len(),
            Elements::WithNulls(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains_nulls(&self) -> bool {
        match &self.elems {
            Elements::NoNulls(_) => false,
            Elements::WithNulls(v) => v.iter().any(Option::is_none),
        }
    }

    /// Element `i` in row-major order, ignoring the lower bounds: `None`
    /// past the end, `Some(None)` for a NULL.
    pub fn get(&self, i: usize) -> Option<Option<T>>
    where
        T: Clone,
    {
        self.get_ref(i).map(|e| e.cloned())
    }

    fn get_ref(&self, i: usize) -> Option<Option<&T>> {
        match &self.elems {
            Elements::NoNulls(v) => v.get(i).map(Some),
            Elements::WithNulls(v) => v.get(i).map(Option::as_ref),
        }
    }

    /// The elements in row-major order, cloned.
    pub fn iter(&self) -> impl Iterator<Item = Option<T>> + '_
    where
        T: Clone,
    {
        (0..self.len()).map(move |i| self.get_ref(i).flatten().cloned())
    }

    /// The elements; panics on a NULL.
    pub fn iter_deny_null(&self) -> impl Iterator<Item = T> + '_
    where
        T: Clone,
    {
        self.iter()
            .map(|e| e.unwrap_or_else(|| panic!("array contains NULL")))
    }

    pub fn as_slice(&self) -> Result<&[T], ArraySliceError> {
        match &self.elems {
            Elements::NoNulls(v) => Ok(v),
            Elements::WithNulls(v) if v.is_empty() => Ok(&[]),
            Elements::WithNulls(_) => Err(ArraySliceError),
        }
    }

    /// The elements in row-major order.
    pub fn into_vec(self) -> Vec<Option<T>> {
        match self.elems {
            Elements::NoNulls(v) => v.into_iter().map(Some).collect(),
            Elements::WithNulls(v) => v,
        }
    }
}

fn one_d(n: usize) -> (Vec<i32>, Vec<i32>) {
    if n == 0 {
        (vec![], vec![])
    } else {
        // A Vec longer than i32::MAX cannot be a SQL array; the backend
        // refuses it anyway.
        (vec![i32::try_from(n).unwrap_or(i32::MAX)], vec![1])
    }
}

impl<T> IntoIterator for Array<T> {
    type Item = Option<T>;
    type IntoIter = std::vec::IntoIter<Option<T>>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl<'a, T> IntoIterator for &'a Array<T> {
    type Item = Option<&'a T>;
    type IntoIter = Box<dyn Iterator<Item = Option<&'a T>> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        match &self.elems {
            Elements::NoNulls(v) => Box::new(v.iter().map(Some)),
            Elements::WithNulls(v) => Box::new(v.iter().map(Option::as_ref)),
        }
    }
}

/// `.collect()` into a 1-D array (for functions whose array results are
/// shaped: `SET plrust.shaped_arrays = on`).
impl<T> FromIterator<Option<T>> for Array<T> {
    fn from_iter<I: IntoIterator<Item = Option<T>>>(iter: I) -> Array<T> {
        Array::new(iter.into_iter().collect())
    }
}

impl<T> From<Vec<Option<T>>> for Array<T> {
    fn from(v: Vec<Option<T>>) -> Array<T> {
        Array::new(v)
    }
}

impl<T> From<Vec<T>> for Array<T> {
    fn from(v: Vec<T>) -> Array<T> {
        let (dims, lower_bounds) = one_d(v.len());
        Array {
            dims,
            lower_bounds,
            elems: Elements::NoNulls(v),
        }
    }
}

/// Whether `T` can hold values of type `elem`.  Every FromDatum refuses a
/// foreign oid before looking at the bytes, so asking with no bytes works
/// even for an empty array.
fn holds<T: FromDatum>(elem: TypeOid) -> bool {
    !matches!(
        T::from_binary(&[], elem),
        Err(TryFromDatumError::IncompatibleTypes { .. })
    )
}

impl<T: FromDatum> FromDatum for Array<T> {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        let incompatible = || super::incompatible::<Array<T>>(oid);
        // The element type is known up front for built-in array types;
        // arrays of user types (enum[], say) are not in the table and are
        // taken at their header's word.
        let expected = element_of(oid);
        match expected {
            Some(e) if !holds::<T>(e) => return Err(incompatible()),
            None if oid < FIRST_NORMAL_OBJECT_ID => return Err(incompatible()),
            _ => {}
        }
        let mut r = Reader::new(bytes, core::any::type_name::<Array<T>>());
        let ndim = r.i32()?;
        let flags = r.i32()?;
        let elem_oid = r.u32()?;
        match expected {
            Some(e) if e != elem_oid => {
                return Err(r.malformed(format!(
                    "binary data has array element type {elem_oid} instead of expected {e}"
                )))
            }
            None if !holds::<T>(elem_oid) => return Err(incompatible()),
            _ => {}
        }
        let ndim = usize::try_from(ndim)
            .map_err(|_| r.malformed(format!("invalid number of dimensions {ndim}")))?;
        if ndim > MAXDIM {
            return Err(r.malformed(format!(
                "number of array dimensions ({ndim}) exceeds the maximum allowed ({MAXDIM})"
            )));
        }
        // array_recv checks the flag and otherwise ignores it.
        if flags != 0 && flags != 1 {
            return Err(r.malformed(format!("invalid array flags {flags}")));
        }
        let mut dims = Vec::with_capacity(ndim);
        let mut lower_bounds = Vec::with_capacity(ndim);
        for _ in 0..ndim {
            dims.push(r.i32()?);
            lower_bounds.push(r.i32()?);
        }
        let n = shape_len(&dims, &lower_bounds).map_err(|why| r.malformed(why))?;
        // Each element takes at least its 4-byte length: bound the count by
        // the input before allocating for it.
        if n > r.remaining() / 4 {
            return Err(r.malformed(format!(
                "{n} elements cannot fit in {} bytes",
                r.remaining()
            )));
        }
        if n == 0 {
            r.finish()?;
            return Ok(Array {
                dims: vec![],
                lower_bounds: vec![],
                elems: Elements::NoNulls(vec![]),
            });
        }
        let mut elems = Vec::with_capacity(n);
        for _ in 0..n {
            elems.push(match r.framed()? {
                None => None,
                Some(b) => Some(T::from_binary(b, elem_oid)?),
            });
        }
        r.finish()?;
        Ok(Array {
            dims,
            lower_bounds,
            elems: Elements::WithNulls(elems),
        }
        .compact())
    }
}

fn encode<I>(dims: &[i32], lower_bounds: &[i32], elem_oid: TypeOid, elems: I) -> Vec<u8>
where
    I: IntoIterator<Item = Option<Datum>>,
{
    let mut body = Vec::new();
    let mut has_nulls = false;
    for e in elems {
        match e {
            None => {
                has_nulls = true;
                body.extend_from_slice(&(-1i32).to_be_bytes());
            }
            Some(d) => {
                let len = i32::try_from(d.bytes.len()).unwrap_or(i32::MAX);
                body.extend_from_slice(&len.to_be_bytes());
                body.extend_from_slice(&d.bytes);
            }
        }
    }
    let ndim = i32::try_from(dims.len()).unwrap_or(0);
    let mut out = Vec::with_capacity(12 + 8 * dims.len() + body.len());
    out.extend_from_slice(&ndim.to_be_bytes());
    out.extend_from_slice(&i32::from(has_nulls).to_be_bytes());
    out.extend_from_slice(&elem_oid.to_be_bytes());
    for (d, lb) in dims.iter().zip(lower_bounds) {
        out.extend_from_slice(&d.to_be_bytes());
        out.extend_from_slice(&lb.to_be_bytes());
    }
    out.extend_from_slice(&body);
    out
}

/// The array type over `T`, or InvalidOid (0) for an element type this
/// crate knows no array type for.
fn array_type<T: IntoDatum>() -> TypeOid {
    array_of(T::type_oid()).unwrap_or(0)
}

impl<T: IntoDatum> IntoDatum for Array<T> {
    fn into_datum(self) -> Option<Datum> {
        let (dims, lower_bounds) = (self.dims.clone(), self.lower_bounds.clone());
        let bytes = encode(
            &dims,
            &lower_bounds,
            T::type_oid(),
            self.into_vec()
                .into_iter()
                .map(|e| e.and_then(IntoDatum::into_datum)),
        );
        datum(array_type::<T>(), bytes)
    }
    fn type_oid() -> TypeOid {
        array_type::<T>()
    }
}

/// A one-dimensional array; an element whose `into_datum` is None (an
/// `Option::None` in a `Vec<Option<T>>`) is a NULL.
impl<T: IntoDatum> IntoDatum for Vec<T> {
    fn into_datum(self) -> Option<Datum> {
        let (dims, lower_bounds) = one_d(self.len());
        let bytes = encode(
            &dims,
            &lower_bounds,
            T::type_oid(),
            self.into_iter().map(IntoDatum::into_datum),
        );
        datum(array_type::<T>(), bytes)
    }
    fn type_oid() -> TypeOid {
        array_type::<T>()
    }
}

/// Any array, flattened in row-major order.
impl<T: FromDatum> FromDatum for Vec<Option<T>> {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        Array::<T>::from_binary(bytes, oid).map(Array::into_vec)
    }
}

/// Any array without NULLs, flattened in row-major order.
impl<T: FromDatum> FromDatum for Vec<T> {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        let a = Array::<T>::from_binary(bytes, oid)?;
        match a.elems {
            Elements::NoNulls(v) => Ok(v),
            Elements::WithNulls(v) if v.is_empty() => Ok(vec![]),
            Elements::WithNulls(_) => Err(TryFromDatumError::Malformed {
                rust_type: core::any::type_name::<Vec<T>>(),
                why: "array contains NULL".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::oids::*;
    use super::super::testutil::{round_trip, strict};
    use super::super::{AnyNumeric, Date};
    use super::*;

    fn header(ndim: i32, flags: i32, elem: u32, dims: &[(i32, i32)]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&ndim.to_be_bytes());
        b.extend_from_slice(&flags.to_be_bytes());
        b.extend_from_slice(&elem.to_be_bytes());
        for (d, lb) in dims {
            b.extend_from_slice(&d.to_be_bytes());
            b.extend_from_slice(&lb.to_be_bytes());
        }
        b
    }

    #[test]
    fn pinned_text_array() {
        let v = vec![Some("a".to_string()), None];
        let d = v.clone().into_datum().unwrap();
        assert_eq!(d.oid, TEXTARRAYOID);
        let mut want = header(1, 1, TEXTOID, &[(2, 1)]);
        want.extend_from_slice(&[0, 0, 0, 1, b'a', 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(d.bytes, want);
        assert_eq!(
            Vec::<Option<String>>::from_binary(&want, TEXTARRAYOID).unwrap(),
            v
        );
        let a = Array::<String>::from_binary(&want, TEXTARRAYOID).unwrap();
        assert_eq!((a.dims(), a.lower_bounds()), (&[2][..], &[1][..]));
        assert!(a.contains_nulls());
        assert_eq!(a.as_slice(), Err(ArraySliceError));
        assert!(Vec::<String>::from_binary(&want, TEXTARRAYOID).is_err());
        assert_eq!(round_trip(a), want);
        strict::<Array<String>>(&want, TEXTARRAYOID, INT4ARRAYOID);
    }

    #[test]
    fn empty_arrays() {
        let want = header(0, 0, INT4OID, &[]);
        assert_eq!(Vec::<i32>::new().into_datum().unwrap().bytes, want);
        let a = Array::<i32>::from_binary(&want, INT4ARRAYOID).unwrap();
        assert!(a.is_empty() && a.dims().is_empty());
        assert_eq!(a.as_slice(), Ok(&[][..]));
        assert_eq!(round_trip(a), want);
        strict::<Array<i32>>(&want, INT4ARRAYOID, TEXTARRAYOID);
        // Even an empty array must be of a type T can hold.
        let text = header(0, 0, TEXTOID, &[]);
        assert!(matches!(
            Vec::<i32>::from_binary(&text, TEXTARRAYOID),
            Err(TryFromDatumError::IncompatibleTypes { .. })
        ));
        // A zero-length dimension is an empty array, as array_recv has it.
        let zero = header(1, 0, INT4OID, &[(0, 1)]);
        assert!(Array::<i32>::from_binary(&zero, INT4ARRAYOID)
            .unwrap()
            .dims()
            .is_empty());
    }

    #[test]
    fn two_d_with_nulls_and_lower_bounds() {
        let a = Array::with_shape(
            vec![Some(1i64), None, Some(3), Some(4), Some(5), None],
            vec![2, 3],
            vec![0, -5],
        )
        .unwrap();
        let b = round_trip(a.clone());
        assert_eq!(&b[..28], header(2, 1, INT8OID, &[(2, 0), (3, -5)]));
        let back = Array::<i64>::from_binary(&b, INT8ARRAYOID).unwrap();
        assert_eq!(back.dims(), [2, 3]);
        assert_eq!(back.lower_bounds(), [0, -5]);
        assert_eq!(back.get(1), Some(None));
        assert_eq!(back.get(2), Some(Some(3)));
        assert_eq!(back.get(6), None);
        assert_eq!(back.iter().collect::<Vec<_>>(), a.clone().into_vec());
        assert_eq!((&back).into_iter().filter(Option::is_none).count(), 2);
        assert_eq!(back.into_iter().flatten().sum::<i64>(), 13);
        strict::<Array<i64>>(&b, INT8ARRAYOID, INT4ARRAYOID);
        assert_eq!(
            Vec::<Option<i64>>::from_binary(&b, INT8ARRAYOID)
                .unwrap()
                .len(),
            6
        );
        assert!(Array::with_shape(vec![Some(1)], vec![2], vec![1]).is_err());
        assert!(Array::<i32>::with_shape(vec![], vec![1; 7], vec![1; 7]).is_err());
    }

    #[test]
    fn one_d_without_nulls() {
        let v = vec![1i32, 2, 3];
        let b = round_trip(Array::from(v.clone()));
        assert_eq!(b, v.clone().into_datum().unwrap().bytes);
        assert_eq!(&b[..20], header(1, 0, INT4OID, &[(3, 1)]));
        let a = Array::<i32>::from_binary(&b, INT4ARRAYOID).unwrap();
        assert_eq!(a.as_slice(), Ok(&v[..]));
        assert_eq!(a.iter_deny_null().collect::<Vec<_>>(), v);
        assert_eq!(Vec::<i32>::from_binary(&b, INT4ARRAYOID).unwrap(), v);
        assert_eq!(<Vec<i32>>::type_oid(), INT4ARRAYOID);
        assert_eq!(<Vec<Option<String>>>::type_oid(), TEXTARRAYOID);
        let nums = vec![AnyNumeric::from(1), AnyNumeric::nan()];
        assert_eq!(
            Vec::<AnyNumeric>::from_binary(
                &nums.clone().into_datum().unwrap().bytes,
                NUMERICARRAYOID
            )
            .unwrap(),
            nums
        );
        let dates = vec![Some(Date::positive_infinity()), None];
        assert_eq!(
            Vec::<Option<Date>>::from_binary(
                &dates.clone().into_datum().unwrap().bytes,
                DATEARRAYOID
            )
            .unwrap(),
            dates
        );
    }

    #[test]
    #[should_panic(expected = "array contains NULL")]
    fn deny_null() {
        let a = Array::new(vec![Some(1i32), None]);
        let _ = a.iter_deny_null().count();
    }

    #[test]
    fn malformed_arrays() {
        let mut ok = header(1, 0, INT4OID, &[(1, 1)]);
        ok.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 9]);
        Array::<i32>::from_binary(&ok, INT4ARRAYOID).unwrap();
        let cases: Vec<Vec<u8>> = vec![
            // Huge counts don't allocate: they are checked against the input.
            header(1, 0, INT4OID, &[(i32::MAX, 1)]),
            header(2, 0, INT4OID, &[(65536, 1), (65536, 1)]),
            header(6, 0, INT4OID, &[(i32::MAX, 1); 6]),
            header(7, 0, INT4OID, &[(1, 1); 7]),
            header(-1, 0, INT4OID, &[]),
            header(1, 0, INT4OID, &[(-1, 1)]),
            header(1, 0, INT4OID, &[(2, i32::MAX)]),
            header(1, 2, INT4OID, &[(0, 1)]),
            // Element type differs from the array type's.
            header(0, 0, INT8OID, &[]),
            {
                // dims say 2, one element present
                let mut b = header(1, 0, INT4OID, &[(2, 1)]);
                b.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 9]);
                b
            },
            {
                // element length beyond the input
                let mut b = header(1, 0, INT4OID, &[(1, 1)]);
                b.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 9]);
                b
            },
            {
                // element length -2
                let mut b = header(1, 0, INT4OID, &[(1, 1)]);
                b.extend_from_slice(&[0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 9]);
                b
            },
            {
                // element of the wrong size for int4
                let mut b = header(1, 0, INT4OID, &[(1, 1)]);
                b.extend_from_slice(&[0, 0, 0, 2, 0, 9]);
                b
            },
        ];
        for c in cases {
            assert!(
                Array::<i32>::from_binary(&c, INT4ARRAYOID).is_err(),
                "{c:?}"
            );
        }
        assert!(matches!(
            Array::<i32>::from_binary(&ok, INT4OID),
            Err(TryFromDatumError::IncompatibleTypes { .. })
        ));
        // User array types (enum[]) are decoded by their header's element type.
        let mut e = header(1, 0, 20000, &[(1, 1)]);
        e.extend_from_slice(&[0, 0, 0, 2, b'h', b'i']);
        assert_eq!(Vec::<String>::from_binary(&e, 20001).unwrap(), ["hi"]);
    }
}
