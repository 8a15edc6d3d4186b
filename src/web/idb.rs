//! A small async layer over the browser's IndexedDB (through `web-sys`): open a database,
//! await a request or a transaction. Errors are returned as text for the person.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode};

/// The text of a DOM error (`QuotaExceededError: …`), or of any other thrown value.
pub fn error_text(e: &JsValue) -> String {
    if let Some(d) = e.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", d.name(), d.message());
    }
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

fn request_error(req: &IdbRequest) -> String {
    match req.error() {
        Ok(Some(e)) => format!("{}: {}", e.name(), e.message()),
        _ => "the browser's storage did not answer".to_string(),
    }
}

/// Waits for a request's result.
pub async fn request(req: &IdbRequest) -> Result<JsValue, String> {
    let r1 = req.clone();
    let r2 = req.clone();
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let (r1, r2) = (r1.clone(), r2.clone());
        let ok = Closure::once_into_js(move |_ev: web_sys::Event| {
            let _ = resolve.call1(&JsValue::NULL, &r1.result().unwrap_or(JsValue::UNDEFINED));
        });
        let err = Closure::once_into_js(move |_ev: web_sys::Event| {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str(&request_error(&r2)));
        });
        req.set_onsuccess(Some(ok.unchecked_ref()));
        req.set_onerror(Some(err.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(|e| error_text(&e))
}

/// Waits until a transaction has committed (or says why it did not).
pub async fn committed(tx: &IdbTransaction) -> Result<(), String> {
    let t1 = tx.clone();
    let t2 = tx.clone();
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let reject2 = reject.clone();
        let (t1, t2) = (t1.clone(), t2.clone());
        let ok = Closure::once_into_js(move |_ev: web_sys::Event| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let why = |t: &IdbTransaction| match t.error() {
            Some(e) => format!("{}: {}", e.name(), e.message()),
            None => "the browser's storage refused to save".to_string(),
        };
        let err = Closure::once_into_js(move |_ev: web_sys::Event| {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str(&why(&t1)));
        });
        let abort = Closure::once_into_js(move |_ev: web_sys::Event| {
            let _ = reject2.call1(&JsValue::NULL, &JsValue::from_str(&why(&t2)));
        });
        tx.set_oncomplete(Some(ok.unchecked_ref()));
        tx.set_onerror(Some(err.unchecked_ref()));
        tx.set_onabort(Some(abort.unchecked_ref()));
    });
    JsFuture::from(promise).await.map(|_| ()).map_err(|e| error_text(&e))
}

/// Opens (and creates or upgrades with `upgrade`) a database of this origin.
pub async fn open(name: &str, version: u32, upgrade: fn(&IdbDatabase) -> Result<(), JsValue>) -> Result<IdbDatabase, String> {
    let factory =
        web_sys::window().ok_or("no window")?.indexed_db().map_err(|e| error_text(&e))?.ok_or("this browser has no IndexedDB storage")?;
    let req: IdbOpenDbRequest = factory.open_with_u32(name, version).map_err(|e| error_text(&e))?;
    let r = req.clone();
    let on_upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |_ev: web_sys::Event| {
        if let Ok(db) = r.result() {
            if let Err(e) = upgrade(db.unchecked_ref()) {
                crate::web::console::error("storage", &error_text(&e));
            }
        }
    });
    req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let db = request(&req).await;
    req.set_onupgradeneeded(None);
    drop(on_upgrade);
    Ok(db?.unchecked_into())
}

/// A transaction over `stores`.
pub fn transaction(db: &IdbDatabase, stores: &[&str], write: bool) -> Result<IdbTransaction, String> {
    let names = js_sys::Array::new();
    for s in stores {
        names.push(&JsValue::from_str(s));
    }
    let mode = if write { IdbTransactionMode::Readwrite } else { IdbTransactionMode::Readonly };
    db.transaction_with_str_sequence_and_mode(&names, mode).map_err(|e| error_text(&e))
}
