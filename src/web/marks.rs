//! Named moments on the browser's performance timeline (`performance.mark`), in the page and in
//! the worker: where a cold start spends its time (`node scripts/bench/bench-cold.mjs` reads them).
//! Names start with `marrowscope:`.

use wasm_bindgen::{JsCast, JsValue};

/// Marks `marrowscope:{name}` now. Does nothing where there is no `performance`.
pub fn mark(name: &str) {
    let perf = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance")).ok();
    if let Some(perf) = perf.filter(|p| p.is_object()) {
        let f = js_sys::Reflect::get(&perf, &JsValue::from_str("mark")).ok();
        if let Some(f) = f.and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
            let _ = f.call1(&perf, &JsValue::from_str(&format!("marrowscope:{name}")));
        }
    }
}
