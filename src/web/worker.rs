//! The classification worker: owns the model, classifies one file per message,
//! so the page never blocks on inference.
//!
//! Page → worker messages are plain JS objects:
//! `{kind: "load", manifest: string, model: ArrayBuffer}` and
//! `{kind: "classify", id: number, bytes: ArrayBuffer}`.

use super::console;
use super::protocol::{CellResult, Reply};
use crate::classify::Classifier;
use crate::manifest::Manifest;
use js_sys::{ArrayBuffer, Reflect, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

thread_local! {
    static CLASSIFIER: RefCell<Option<Classifier>> = const { RefCell::new(None) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(reply: &Reply) {
    match serde_wasm_bindgen::to_value(reply) {
        Ok(v) => {
            if let Err(e) = scope().post_message(&v) {
                console::error("worker", &format!("could not post a message: {e:?}"));
            }
        }
        Err(e) => console::error("worker", &format!("could not encode a message: {e}")),
    }
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn bytes_of(v: &JsValue) -> Option<Vec<u8>> {
    if let Some(buf) = v.dyn_ref::<ArrayBuffer>() {
        Some(Uint8Array::new(buf).to_vec())
    } else {
        v.dyn_ref::<Uint8Array>().map(|a| a.to_vec())
    }
}

/// The instruction set this bundle was compiled for. `scripts/build.sh --relaxed-simd` ships a
/// second, relaxed-SIMD bundle, which the loader picks where the browser has relaxed SIMD.
const SIMD: &str = if cfg!(target_feature = "relaxed-simd") {
    "relaxed"
} else if cfg!(target_feature = "simd128") {
    "simd128"
} else {
    "scalar"
};

fn now() -> f64 {
    js_sys::Date::now()
}

fn load(manifest: &str, model: &[u8]) -> Reply {
    let t0 = now();
    let result = Manifest::from_json(manifest).and_then(|m| Classifier::new(m, model));
    match result {
        Ok(c) => {
            let model_id = c.manifest().model_id.clone();
            CLASSIFIER.with(|cell| *cell.borrow_mut() = Some(c));
            let load_ms = now() - t0;
            console::info("worker", &format!("model {model_id} ready in {load_ms:.0} ms ({SIMD})"));
            Reply::Loaded { model_id, load_ms, simd: SIMD.to_string() }
        }
        Err(e) => {
            console::error("model", &e.to_string());
            Reply::LoadError { message: e.to_string() }
        }
    }
}

fn classify(id: u32, bytes: &[u8]) -> Reply {
    let t0 = now();
    CLASSIFIER.with(|cell| {
        let mut guard = cell.borrow_mut();
        let Some(c) = guard.as_mut() else {
            return Reply::Failed { id, message: "The model is not loaded yet.".into() };
        };
        match c.classify_bytes(bytes) {
            Ok(p) => {
                let m = c.manifest();
                let heats: Vec<_> = (0..m.classes.len()).filter_map(|k| p.heatmap(m, k)).collect();
                let (heat_w, heat_h) = heats.first().map(|h| (h.width, h.height)).unwrap_or((0, 0));
                Reply::Done {
                    id,
                    result: CellResult {
                        ranked: p.ranked.clone(),
                        low_confidence: p.low_confidence,
                        width: p.width,
                        height: p.height,
                        format: p.format.to_string(),
                        heat_w,
                        heat_h,
                        heatmaps: heats.into_iter().map(|h| h.values).collect(),
                        ms: now() - t0,
                        ood: p.ood,
                    },
                }
            }
            Err(e) => Reply::Failed { id, message: e.to_string() },
        }
    })
}

/// Decodes and preprocesses once, then times `n` inferences of the same tensor.
fn bench(id: u32, bytes: &[u8], n: usize) -> Reply {
    CLASSIFIER.with(|cell| {
        let mut guard = cell.borrow_mut();
        let Some(c) = guard.as_mut() else {
            return Reply::Failed { id, message: "The model is not loaded yet.".into() };
        };
        let t0 = now();
        let tensor = match crate::decode::decode(bytes) {
            Ok(d) => crate::preprocess::to_tensor(&d.image, &c.manifest().input),
            Err(e) => return Reply::Failed { id, message: e.to_string() },
        };
        let preprocess_ms = now() - t0;
        let perf = scope().performance();
        let clock = || perf.as_ref().map(|p| p.now()).unwrap_or_else(now);
        let mut inference_ms = Vec::with_capacity(n);
        for _ in 0..n {
            let t = clock();
            if let Err(e) = c.classify_tensor(&tensor) {
                return Reply::Failed { id, message: e.to_string() };
            }
            inference_ms.push(clock() - t);
        }
        Reply::Bench { id, preprocess_ms, inference_ms }
    })
}

fn on_message(ev: MessageEvent) {
    let data = ev.data();
    let kind = get(&data, "kind").as_string().unwrap_or_default();
    let reply = match kind.as_str() {
        "load" => {
            let manifest = get(&data, "manifest").as_string().unwrap_or_default();
            match bytes_of(&get(&data, "model")) {
                Some(model) => load(&manifest, &model),
                None => Reply::LoadError { message: "no model bytes were sent to the worker".into() },
            }
        }
        "classify" => {
            let id = get(&data, "id").as_f64().unwrap_or(-1.0) as u32;
            match bytes_of(&get(&data, "bytes")) {
                Some(bytes) => classify(id, &bytes),
                None => Reply::Failed { id, message: "The file could not be read.".into() },
            }
        }
        "bench" => {
            let id = get(&data, "id").as_f64().unwrap_or(-1.0) as u32;
            let n = get(&data, "n").as_f64().unwrap_or(50.0) as usize;
            match bytes_of(&get(&data, "bytes")) {
                Some(bytes) => bench(id, &bytes, n),
                None => Reply::Failed { id, message: "no bytes".into() },
            }
        }
        other => {
            console::warn("worker", &format!("unknown message kind {other:?}"));
            return;
        }
    };
    post(&reply);
}

/// Entry point of the worker bundle.
pub fn start() {
    console::install_panic_hook(|msg| post(&Reply::Crashed { message: msg.to_string() }));
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(on_message);
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&Reply::Alive);
}
