//! DROP of plrust functions removes their code: an event trigger on
//! sql_drop (plrust.drop_code(), created by the extension script) runs the
//! same collection as CREATE FUNCTION does.  Code a twin still names stays.
//! A trigger rather than a hook on DROP FUNCTION because functions also go
//! by DROP SCHEMA ... CASCADE, DROP OWNED and DROP EXTENSION of another
//! extension, which PostgreSQL reports to sql_drop as dropped functions.

use pgrx::prelude::*;

use crate::catalog;

#[no_mangle]
pub extern "C" fn pg_finfo_plrust_drop_code() -> &'static pg_sys::Pg_finfo_record {
    &crate::call::V1
}

#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn plrust_drop_code(
    _fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // Only drops that took functions cost a look at every definition; and
    // when plrust itself is going (DROP EXTENSION plrust) there is nothing
    // to collect.
    let collect = Spi::get_one::<bool>(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_event_trigger_dropped_objects() \
         WHERE object_type OPERATOR(pg_catalog.=) ANY (ARRAY['function', 'procedure', 'routine'])) \
         AND pg_catalog.to_regclass('plrust.artifacts') IS NOT NULL",
    );
    if let Ok(Some(true)) = collect {
        if catalog::extension_is_current() {
            catalog::collect_garbage();
        }
    }
    pg_sys::Datum::from(0)
}
