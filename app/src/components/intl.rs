//! The browser's `Intl` formatters, made once per page and reused: dates, times and money
//! all read in the user's own language and time zone, as the browser renders them.

use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::JsValue;
use web_sys::js_sys::{Array, Date, Function, Intl, Object, Reflect};

thread_local! {
    static FORMATTERS: RefCell<HashMap<String, Function>> = RefCell::new(HashMap::new());
}

/// An `Intl` options object from key/value pairs.
fn options(pairs: &[(&str, &str)]) -> Object {
    let options = Object::new();
    for (key, value) in pairs {
        let _ = Reflect::set(&options, &(*key).into(), &(*value).into());
    }
    options
}

/// The bound `format` function of a formatter for `pairs`, made on first use.
fn formatter(
    kind: &str,
    pairs: &[(&str, &str)],
    make: impl FnOnce(&Object) -> Function,
) -> Function {
    let key = format!("{kind}{pairs:?}");
    FORMATTERS.with(|cache| {
        cache
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| make(&options(pairs)))
            .clone()
    })
}

/// `value` through `Intl.DateTimeFormat` with `pairs`; `None` for a date the browser cannot read.
pub fn date(value: &str, pairs: &[(&str, &str)]) -> Option<String> {
    let date = Date::new(&JsValue::from_str(value));
    if date.get_time().is_nan() {
        return None;
    }
    let format = formatter("date", pairs, |o| {
        Intl::DateTimeFormat::new(&Array::new(), o).format()
    });
    format.call1(&JsValue::NULL, &date).ok()?.as_string()
}

/// `decimal` (a plain decimal string, kept exact: `Intl.NumberFormat` reads strings without
/// going through a float) through `Intl.NumberFormat` with `pairs`.
pub fn number(decimal: &str, pairs: &[(&str, &str)]) -> Option<String> {
    let format = formatter("number", pairs, |o| {
        Intl::NumberFormat::new(&Array::new(), o).format()
    });
    format
        .call1(&JsValue::NULL, &JsValue::from_str(decimal))
        .ok()?
        .as_string()
}
