// The std a PL/Rust 1.2.8 body computes with (postgrestd/README.md's
// table): one use of each module plrust's facade keeps, by hand.
// tests/tests/surface.rs compiles and runs it, so a module the facade
// loses fails CI.
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, Read, Write as _};
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
let mut ok = true;
let s: Cow<str> = Cow::Borrowed("a"); ok &= s.len() == 1;                              // borrow
let c = Cell::new(1); c.set(2); ok &= c.get() == 2;                                  // cell
let r = RefCell::new(vec![1]); r.borrow_mut().push(2); ok &= r.borrow().len() == 2;
let mut m = HashMap::new(); m.insert("k", 1); ok &= m["k"] == 1;                     // collections
let b: BTreeMap<i32, i32> = (0..3).map(|i| (i, i * i)).collect(); ok &= b[&2] == 4;
let hs: HashSet<i32> = [1, 2, 2].into_iter().collect(); ok &= hs.len() == 2;
let bs: BTreeSet<&str> = ["b", "a"].into_iter().collect(); ok &= bs.first() == Some(&"a");
let mut h = BinaryHeap::from(vec![3, 9, 1]); ok &= h.pop() == Some(9);
let mut q = VecDeque::new(); q.push_front(1); ok &= q.pop_back() == Some(1);
let mut out = String::new(); write!(out, "{:>4}", 7).unwrap(); ok &= out == "   7";   // fmt, string
let mut hasher = std::collections::hash_map::DefaultHasher::new(); 1u8.hash(&mut hasher); let _ = hasher.finish(); // hash
let mut cursor = std::io::Cursor::new(b"x\ny".to_vec());                              // io
let mut line = String::new(); cursor.read_line(&mut line).unwrap(); ok &= line == "x\n";
let mut rest = String::new(); cursor.read_to_string(&mut rest).unwrap(); ok &= rest == "y";
let mut sink: Vec<u8> = Vec::new(); sink.write_all(b"z").unwrap(); ok &= sink == b"z";
let rc = Rc::new(5); ok &= *Rc::clone(&rc) == 5;                                     // rc
let arc = Arc::new(Mutex::new(1)); *arc.lock().unwrap() += 1; ok &= *arc.lock().unwrap() == 2; // sync
let rw = RwLock::new(3); ok &= *rw.read().unwrap() == 3;
static ONCE: OnceLock<u8> = OnceLock::new(); ok &= *ONCE.get_or_init(|| 4) == 4;
ok &= std::cmp::max(3, 4) == 4 && std::mem::size_of::<u64>() == 8;                   // cmp, mem
ok &= "ab".chars().rev().collect::<String>() == "ba" && char::from_u32(65) == Some('A'); // iter, char, str
ok &= i32::MAX.checked_add(1).is_none() && u8::try_from(300).is_err();               // num, convert
ok &= (2.0f64).sqrt() > 1.41 && f32::EPSILON > 0.0 && std::f64::consts::PI > 3.0;    // f32, f64
ok &= std::num::NonZeroU32::new(0).is_none() && "7".parse::<std::num::NonZeroU8>().is_ok();
ok &= [1, 2, 3].iter().sum::<i32>() == 6 && std::array::from_fn::<u8, 3, _>(|i| i as u8) == [0, 1, 2]; // array, slice
ok &= std::ascii::escape_default(b'\n').count() == 2;                               // ascii
ok &= std::any::type_name::<i32>() == "i32";                                        // any
ok &= std::ffi::CString::new("c").unwrap().as_bytes() == b"c";                      // ffi
ok &= std::time::Duration::from_millis(1500).as_secs() == 1;                        // time (data)
ok &= std::time::UNIX_EPOCH + std::time::Duration::from_secs(1) > std::time::UNIX_EPOCH;
ok &= "127.0.0.1".parse::<std::net::IpAddr>().unwrap().is_loopback();               // net (data)
ok &= std::path::Path::new("/a/b.txt").extension() == Some(std::ffi::OsStr::new("txt")); // path (data)
ok &= std::panic::catch_unwind(|| 1).is_ok();                                        // panic
thread_local!(static T: Cell<u32> = Cell::new(0)); T.with(|t| t.set(1)); ok &= T.with(Cell::get) == 1; // thread
ok &= std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) == 1;
ok &= matches!(Some(3), Some(x) if x > 2) && vec![0u8; 2].len() == 2 && format!("{}", 1) == "1"; // macros
ok &= std::error::Error::source(&std::fmt::Error).is_none();                         // error
let _: std::os::raw::c_int = 0;                                                      // os::raw
ok &= std::hint::black_box(1) == 1 && std::option::Option::Some(1).is_some() && std::result::Result::<i32, ()>::Ok(1).is_ok();
Ok(Some(ok))
