//! Loading a model in the worker: the manifest and the ONNX bytes → the installed classifier,
//! never before its checksum matches the manifest's.

use super::{bytes_of, now, CLASSIFIER};
use crate::classify::Classifier;
use crate::manifest::{sha256_hex, Manifest};
use crate::web::protocol::Reply;
use crate::web::{console, marks};
use js_sys::{Reflect, Uint8Array};
use std::cell::Cell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    /// Counts the loads begun: a load installs its model only if no other began since.
    static LOADS: Cell<u64> = const { Cell::new(0) };
}

/// Whether any load has begun in this worker.
pub(super) fn begun() -> bool {
    LOADS.with(|n| n.get()) > 0
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

/// Starts the SHA-256 of `buffer` by the browser's own code (`crypto.subtle`, on a thread of its
/// own); `None` where there is none (a page served over plain HTTP from another computer).
fn start_browser_sha256(buffer: &JsValue) -> Option<wasm_bindgen_futures::JsFuture> {
    let subtle = Reflect::get(&Reflect::get(&js_sys::global(), &"crypto".into()).ok()?, &"subtle".into()).ok()?;
    let digest: js_sys::Function = Reflect::get(&subtle, &"digest".into()).ok()?.dyn_into().ok()?;
    let promise: js_sys::Promise = digest.call2(&subtle, &"SHA-256".into(), buffer).ok()?.dyn_into().ok()?;
    Some(wasm_bindgen_futures::JsFuture::from(promise))
}

/// Loads the model while the browser computes its checksum (`digest`, started when the model
/// arrived), then compares the two: a file that does not match its manifest gets the checksum
/// error, whatever its read gave, and no result ever comes from an unchecked model.
/// A model that another load began after this one is not installed (its answer still goes).
async fn load(manifest: &str, model: &[u8], digest: Option<wasm_bindgen_futures::JsFuture>) -> Reply {
    marks::mark("worker-load-start");
    let generation = LOADS.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    let t0 = now();
    let result: crate::error::Result<Classifier> = async {
        let m = Manifest::from_json(manifest)?;
        marks::mark("worker-manifest-parsed");
        let read = Classifier::read_unchecked(m.clone(), model, &mut |phase| marks::mark(&format!("worker-{phase}")));
        let hex = match digest {
            Some(f) => f.await.ok().map(|hash| hex::encode(Uint8Array::new(&hash).to_vec())),
            None => None,
        }
        .unwrap_or_else(|| sha256_hex(model));
        match read {
            Ok(unchecked) => unchecked.check(&hex),
            // A file that does not match its manifest says so, whatever its read gave.
            Err(e) => m.verify_model_digest(&hex).and(Err(e)),
        }
    }
    .await;
    match result {
        Ok(c) => {
            marks::mark("worker-checked");
            let model_id = c.manifest().model_id.clone();
            if LOADS.with(|n| n.get()) == generation {
                CLASSIFIER.with(|cell| *cell.borrow_mut() = Some(c));
            }
            let load_ms = now() - t0;
            marks::mark("worker-model-ready");
            console::info("worker", &format!("model {model_id} ready in {load_ms:.0} ms ({SIMD})"));
            Reply::Loaded { model_id, load_ms, simd: SIMD.to_string() }
        }
        Err(e) => {
            console::error("model", &e.to_string());
            Reply::LoadError { message: e.to_string() }
        }
    }
}

/// Starts loading the model in `buffer` (an `ArrayBuffer` or bytes) with its `manifest`, the
/// browser computing the checksum on its own thread meanwhile; `then` gets the answer. False
/// when `buffer` holds no bytes.
pub(super) fn start(manifest: String, buffer: &JsValue, then: impl FnOnce(Reply) + 'static) -> bool {
    let Some(model) = bytes_of(buffer) else { return false };
    marks::mark("worker-model-received");
    let digest = start_browser_sha256(buffer);
    wasm_bindgen_futures::spawn_local(async move { then(load(&manifest, &model, digest).await) });
    true
}
