//! One consistent, readable form for everything logged to the console:
//! `[marrowscope] <level> <context>: <message>`.

use wasm_bindgen::JsValue;

fn line(level: &str, context: &str, message: &str) -> JsValue {
    JsValue::from_str(&format!("[marrowscope] {level} {context}: {message}"))
}

pub fn info(context: &str, message: &str) {
    web_sys::console::info_1(&line("info", context, message));
}

pub fn warn(context: &str, message: &str) {
    web_sys::console::warn_1(&line("warn", context, message));
}

pub fn error(context: &str, message: &str) {
    web_sys::console::error_1(&line("error", context, message));
}

/// Routes panics to the console in the same form, then calls `on_panic` (the page
/// shows a visible message; the worker reports to the page).
pub fn install_panic_hook(on_panic: fn(&str)) {
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.to_string();
        error("panic", &msg);
        on_panic(&msg);
    }));
}
