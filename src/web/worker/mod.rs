//! The classification worker: owns the model, classifies one file per message, so the page
//! never blocks on inference. This is the glue: it reads the page's [`Request`]s (their bytes
//! beside them, `protocol::BYTES` / `protocol::MODEL`) and posts [`Reply`]s; what it does
//! for each lives beside it:
//!
//! - [`load`] — a model's bytes and manifest → the installed classifier, checked against its
//!   checksum; [`preload`]: the handshake with public/worker-boot.js, which hands the worker
//!   the model before the page's code runs;
//! - [`read`] — a file (`classify`) or a clicked cell (`cell_at`) read by the core
//!   ([`crate::pipeline`]), its outcome turned into replies;
//! - [`timings`] — timings of repeated inference (`bench`, scripts/bench/bench.mjs);
//! - [`hooks`] — the out-of-memory test hook (`selftest_oom_next`).

mod hooks;
mod load;
mod preload;
mod read;
mod timings;

use super::console;
use super::protocol::{Reply, Request, BLOBS, BYTES, MODEL};
use crate::classify::Classifier;
use js_sys::{ArrayBuffer, Reflect, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

thread_local! {
    /// The model in use, once loaded.
    static CLASSIFIER: RefCell<Option<Classifier>> = const { RefCell::new(None) };
}

/// Runs `f` with the loaded model; job `id` fails in words when there is none yet.
fn with_classifier(id: u32, f: impl FnOnce(&mut Classifier) -> Reply) -> Reply {
    CLASSIFIER.with(|cell| match cell.borrow_mut().as_mut() {
        Some(c) => f(c),
        None => Reply::Failed { id, message: "The model is not loaded yet.".into() },
    })
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn post(reply: &Reply) {
    post_with(reply, None);
}

/// Posts `reply`, with `blobs` under `protocol::BLOBS` when given.
fn post_with(reply: &Reply, blobs: Option<&js_sys::Object>) {
    match serde_wasm_bindgen::to_value(reply) {
        Ok(v) => {
            if let Some(b) = blobs {
                let _ = Reflect::set(&v, &JsValue::from_str(BLOBS), b);
            }
            if let Err(e) = scope().post_message(&v) {
                console::error("worker", &format!("could not post a message: {e:?}"));
            }
        }
        Err(e) => console::error("worker", &format!("could not encode a message: {e}")),
    }
}

/// Posts a reply; a single cell's crop and preview go as Blobs made here (`protocol::BLOBS`).
fn post_reply(mut reply: Reply) {
    let Reply::Done { crop, thumb, .. } = &mut reply else { return post(&reply) };
    let blobs = js_sys::Object::new();
    if let Some(k) = crop {
        if let Some(b) = super::blob::jpeg(&k.jpeg) {
            let _ = Reflect::set(&blobs, &JsValue::from_str("crop"), &b);
            k.jpeg = Vec::new();
        }
    }
    if let Some(b) = thumb.as_deref().and_then(super::blob::jpeg) {
        let _ = Reflect::set(&blobs, &JsValue::from_str("thumb"), &b);
        *thumb = None;
    }
    post_with(&reply, Some(&blobs));
}

/// Takes the buffer under `key` out of a message (so that reading the message never copies
/// it); undefined where there is none.
fn take_buffer(data: &JsValue, key: &str) -> JsValue {
    let key = JsValue::from_str(key);
    let buffer = Reflect::get(data, &key).unwrap_or(JsValue::UNDEFINED);
    if let Some(o) = data.dyn_ref::<js_sys::Object>() {
        let _ = Reflect::delete_property(o, &key);
    }
    buffer
}

/// The bytes of an `ArrayBuffer` or a `Uint8Array`.
fn bytes_of(v: &JsValue) -> Option<Vec<u8>> {
    if let Some(buf) = v.dyn_ref::<ArrayBuffer>() {
        Some(Uint8Array::new(buf).to_vec())
    } else {
        v.dyn_ref::<Uint8Array>().map(|a| a.to_vec())
    }
}

fn on_message(ev: MessageEvent) {
    handle(ev.data());
}

/// One message from the page (or from public/worker-boot.js).
fn handle(data: JsValue) {
    let model = take_buffer(&data, MODEL);
    let bytes = take_buffer(&data, BYTES);
    let request = match serde_wasm_bindgen::from_value::<Request>(data) {
        Ok(r) => r,
        Err(e) => {
            console::warn("worker", &format!("unreadable message: {e}"));
            return;
        }
    };
    if matches!(request, Request::Classify { .. } | Request::CellAt { .. }) {
        hooks::before_file();
    }
    let unreadable = |id| Reply::Failed { id, message: "The file could not be read.".into() };
    let reply = match request {
        Request::SelftestOomNext => return hooks::arm(),
        Request::Preload { manifest } => return preload::preload(manifest, &model),
        Request::Load { manifest } => {
            if preload::answered(&manifest) || load::start(manifest, &model, |reply| post(&reply)) {
                return;
            }
            Reply::LoadError { message: "no model bytes were sent to the worker".into() }
        }
        Request::Classify { id, one_cell } => match bytes_of(&bytes) {
            Some(bytes) => read::classify(id, &bytes, one_cell),
            None => unreadable(id),
        },
        Request::CellAt { id, x, y, nucleus } => match bytes_of(&bytes) {
            Some(bytes) => read::cell_at(id, &bytes, x, y, nucleus),
            None => unreadable(id),
        },
        Request::Detect { id, width, height } => {
            let t0 = now();
            match bytes_of(&bytes).and_then(|rgba| crate::capture::live_boxes(&rgba, width, height)) {
                Some(f) => Reply::Boxes { id, width, height, boxes: f.boxes, too_dark: f.too_dark, ms: now() - t0 },
                None => Reply::Failed { id, message: "The camera's frame could not be read.".into() },
            }
        }
        Request::Bench { id, n } => match bytes_of(&bytes) {
            Some(bytes) => timings::bench(id, &bytes, n as usize),
            None => Reply::Failed { id, message: "no bytes".into() },
        },
    };
    post_reply(reply);
}

/// Entry point of the worker bundle.
pub fn start() {
    console::install_panic_hook(|msg| post(&Reply::Crashed { message: msg.to_string() }));
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(on_message);
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    super::marks::mark("worker-alive");
    post(&Reply::Alive);
    // What came before this ran, kept by the loader (scripts/build/worker-loader.mjs): public/worker-boot.js's
    // `preload`, or the page's first messages.
    let early = Reflect::get(&js_sys::global(), &"__marrowscopeEarly".into()).ok().and_then(|v| v.dyn_into::<js_sys::Array>().ok());
    let _ = Reflect::delete_property(&js_sys::global(), &"__marrowscopeEarly".into());
    for data in early.iter().flat_map(|a| a.iter()) {
        handle(data);
    }
}
