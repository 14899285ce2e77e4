//! Arrays: `Array<'a, T>` (any number of dimensions, any lower bounds),
//! its iterators, and the flattened `Vec` forms.
//!
//! Binary format (array_send): i32 ndim, i32 has-nulls flag, u32 element
//! type, ndim × (i32 length, i32 lower bound), then each element as i32
//! length (-1 for NULL) and its bytes.  An empty array has ndim 0.

use core::fmt;
use core::iter::FusedIterator;
use core::marker::PhantomData;

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

impl<T> Elements<T> {
    fn len(&self) -> usize {
        match self {
            Elements::NoNulls(v) => v.len(),
            Elements::WithNulls(v) => v.len(),
        }
    }

    /// Element `i`: `None` past the end, `Some(None)` for a NULL.
    fn get(&self, i: usize) -> Option<Option<&T>> {
        match self {
            Elements::NoNulls(v) => v.get(i).map(Some),
            Elements::WithNulls(v) => v.get(i).map(Option::as_ref),
        }
    }
}

/// A SQL array, owned, with its shape.
///
/// pgrx's `Array<'a, T>` borrows the datum it was read from for `'a`.
/// This one owns its elements (they arrived over the channel), so `'a`
/// constrains nothing; it is there so that PL/Rust's spelling,
/// `Array<'a, T>`, names this type, while the short `Array<T>` still
/// elides it wherever Rust allows an elided lifetime.
#[derive(Clone, PartialEq)]
pub struct Array<'a, T> {
    dims: Vec<i32>,
    lower_bounds: Vec<i32>,
    elems: Elements<T>,
    datum_lifetime: PhantomData<&'a ()>,
}

/// As pgrx prints it: the elements, NULLs as `None`.
impl<T: fmt::Debug> fmt::Debug for Array<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries((0..self.len()).map(|i| self.elems.get(i).flatten()))
            .finish()
    }
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

impl<'a, T> Array<'a, T> {
    /// An array of this shape and these elements, as given.
    fn from_parts(dims: Vec<i32>, lower_bounds: Vec<i32>, elems: Elements<T>) -> Array<'a, T> {
        Array {
            dims,
            lower_bounds,
            elems,
            datum_lifetime: PhantomData,
        }
    }

    /// The empty array: no dimensions.
    fn empty() -> Array<'a, T> {
        Array::from_parts(vec![], vec![], Elements::NoNulls(vec![]))
    }

    /// A one-dimensional array with lower bound 1 (empty: no dimensions).
    pub fn new(elems: Vec<Option<T>>) -> Array<'a, T> {
        let (dims, lower_bounds) = one_d(elems.len());
        Array::from_parts(dims, lower_bounds, Elements::WithNulls(elems)).compact()
    }

    /// An array of the given shape; `elems` in row-major order.
    pub fn with_shape(
        elems: Vec<Option<T>>,
        dims: Vec<i32>,
        lower_bounds: Vec<i32>,
    ) -> Result<Array<'a, T>, ArrayShapeError> {
        let n = shape_len(&dims, &lower_bounds).map_err(ArrayShapeError)?;
        if n != elems.len() {
            return Err(ArrayShapeError(format!(
                "shape holds {n} elements, not {}",
                elems.len()
            )));
        }
        if n == 0 {
            return Ok(Array::empty());
        }
        Ok(Array::from_parts(dims, lower_bounds, Elements::WithNulls(elems)).compact())
    }

    /// Keeps `WithNulls` for arrays that have a NULL, so `as_slice` and
    /// `contains_nulls` need not look at the elements.
    fn compact(self) -> Array<'a, T> {
        match self.elems {
            Elements::WithNulls(v) if v.iter().all(Option::is_some) => Array {
                elems: Elements::NoNulls(v.into_iter().flatten().collect()),
                ..self
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
        self.elems.len()
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

    /// Element `index` in row-major order, ignoring the lower bounds:
    /// `None` past the end, `Some(None)` for a NULL.
    pub fn get(&self, index: usize) -> Option<Option<T>>
    where
        T: Clone,
    {
        self.elems.get(index).map(|e| e.cloned())
    }

    /// The elements in row-major order, NULLs as `None` (cloned, as pgrx
    /// decodes each one anew).
    pub fn iter(&self) -> ArrayIterator<'_, T> {
        ArrayIterator {
            elems: &self.elems,
            next: 0,
        }
    }

    /// The elements in row-major order.
    ///
    /// # Panics
    /// Here, when the array has a NULL, as pgrx's does.
    pub fn iter_deny_null(&self) -> ArrayTypedIterator<'_, T> {
        if self.contains_nulls() {
            panic!("array contains NULL");
        }
        ArrayTypedIterator { all: self.iter() }
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

/// `Array::iter`: each element, NULLs as `None`.
pub struct ArrayIterator<'a, T> {
    elems: &'a Elements<T>,
    next: usize,
}

impl<T: Clone> Iterator for ArrayIterator<'_, T> {
    type Item = Option<T>;

    fn next(&mut self) -> Option<Option<T>> {
        let e = self.elems.get(self.next)?;
        self.next += 1;
        Some(e.cloned())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.elems.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl<T: Clone> ExactSizeIterator for ArrayIterator<'_, T> {}
impl<T: Clone> FusedIterator for ArrayIterator<'_, T> {}

/// `Array::iter_deny_null`: each element of an array without NULLs.
pub struct ArrayTypedIterator<'a, T> {
    /// Over an array `iter_deny_null` found no NULL in.
    all: ArrayIterator<'a, T>,
}

impl<T: Clone> Iterator for ArrayTypedIterator<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.all
            .next()
            .map(|e| e.unwrap_or_else(|| unreachable!("iter_deny_null checked for NULLs")))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.all.size_hint()
    }
}

impl<T: Clone> ExactSizeIterator for ArrayTypedIterator<'_, T> {}
impl<T: Clone> FusedIterator for ArrayTypedIterator<'_, T> {}

/// `Array::into_iter`: the elements, moved out, NULLs as `None`.
pub struct ArrayIntoIterator<'a, T> {
    elems: std::vec::IntoIter<Option<T>>,
    datum_lifetime: PhantomData<&'a ()>,
}

impl<T> Iterator for ArrayIntoIterator<'_, T> {
    type Item = Option<T>;

    fn next(&mut self) -> Option<Option<T>> {
        self.elems.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.elems.size_hint()
    }
}

/// Not in pgrx; kept because `into_iter` was a Vec's iterator here before,
/// and bodies may say `.rev()`.
impl<T> DoubleEndedIterator for ArrayIntoIterator<'_, T> {
    fn next_back(&mut self) -> Option<Option<T>> {
        self.elems.next_back()
    }
}

impl<T> ExactSizeIterator for ArrayIntoIterator<'_, T> {}
impl<T> FusedIterator for ArrayIntoIterator<'_, T> {}

impl<'a, T> IntoIterator for Array<'a, T> {
    type Item = Option<T>;
    type IntoIter = ArrayIntoIterator<'a, T>;
    fn into_iter(self) -> ArrayIntoIterator<'a, T> {
        ArrayIntoIterator {
            elems: self.into_vec().into_iter(),
            datum_lifetime: PhantomData,
        }
    }
}

/// `for e in &array`: borrows, where `iter()` clones.
impl<'s, T> IntoIterator for &'s Array<'_, T> {
    type Item = Option<&'s T>;
    type IntoIter = Box<dyn Iterator<Item = Option<&'s T>> + 's>;
    fn into_iter(self) -> Self::IntoIter {
        match &self.elems {
            Elements::NoNulls(v) => Box::new(v.iter().map(Some)),
            Elements::WithNulls(v) => Box::new(v.iter().map(Option::as_ref)),
        }
    }
}

/// `.collect()` into a 1-D array (for functions whose array results are
/// shaped: `SET plrust.shaped_arrays = on`).
impl<T> FromIterator<Option<T>> for Array<'_, T> {
    fn from_iter<I: IntoIterator<Item = Option<T>>>(iter: I) -> Self {
        Array::new(iter.into_iter().collect())
    }
}

impl<T> From<Vec<Option<T>>> for Array<'_, T> {
    fn from(v: Vec<Option<T>>) -> Self {
        Array::new(v)
    }
}

impl<T> From<Vec<T>> for Array<'_, T> {
    fn from(v: Vec<T>) -> Self {
        let (dims, lower_bounds) = one_d(v.len());
        Array::from_parts(dims, lower_bounds, Elements::NoNulls(v))
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

impl<T: FromDatum> FromDatum for Array<'_, T> {
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
            return Ok(Array::empty());
        }
        let mut elems = Vec::with_capacity(n);
        for _ in 0..n {
            elems.push(match r.framed()? {
                None => None,
                Some(b) => Some(T::from_binary(b, elem_oid)?),
            });
        }
        r.finish()?;
        Ok(Array::from_parts(dims, lower_bounds, Elements::WithNulls(elems)).compact())
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

impl<T: IntoDatum> IntoDatum for Array<'_, T> {
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

    /// PL/Rust's spelling and the short one name the same type, and
    /// a function may hand back an array it was given.
    fn pass_through<'a>(a: Array<'a, i32>) -> Array<'a, i32> {
        a
    }

    fn count_short(a: &Array<i32>) -> usize {
        a.len()
    }

    #[test]
    fn iterators_are_pgrx_shaped() {
        let a: Array<'static, i32> = pass_through(Array::new(vec![Some(1), None, Some(3)]));
        assert_eq!(count_short(&a), 3);
        let mut it: ArrayIterator<'_, i32> = a.iter();
        assert_eq!(it.len(), 3);
        assert_eq!(it.next(), Some(Some(1)));
        assert_eq!(it.size_hint(), (2, Some(2)));
        assert_eq!(it.by_ref().collect::<Vec<_>>(), [None, Some(3)]);
        // Fused: stays done.
        assert_eq!((it.next(), it.next()), (None, None));
        assert_eq!(a.get(1), Some(None));
        assert_eq!(a.get(3), None);
        assert_eq!(format!("{a:?}"), "[Some(1), None, Some(3)]");
        let back: Vec<Option<i32>> = a.clone().into_iter().rev().collect();
        assert_eq!(back, [Some(3), None, Some(1)]);
        let mut owned: ArrayIntoIterator<'_, i32> = a.into_iter();
        assert_eq!(owned.len(), 3);
        assert_eq!(owned.nth(2), Some(Some(3)));
        assert_eq!(owned.next(), None);

        let b = Array::from(vec![4i32, 5]);
        assert!(!b.contains_nulls());
        let typed: ArrayTypedIterator<'_, i32> = b.iter_deny_null();
        assert_eq!(typed.len(), 2);
        assert_eq!(typed.sum::<i32>(), 9);
        assert!(Array::<i32>::new(vec![]).iter().next().is_none());
    }

    #[test]
    #[should_panic(expected = "array contains NULL")]
    fn deny_null_when_asked() {
        // pgrx refuses at the call, before any element is read.
        let _ = Array::new(vec![None, Some(1i32)]).iter_deny_null();
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
