//! The model the workers run, as the page shows it: the model given (kept for workers started
//! later), its status (preparing, ready at the first worker's word, failed), and the event the
//! page's other scripts wait for. When the workers get it is decided by `crate::pool`.

use super::state::{AppState, ModelState};
use crate::manifest::Manifest;
use crate::web::console;
use js_sys::Uint8Array;
use leptos::prelude::*;
use std::sync::Arc;

/// A model given to the workers: its manifest (text and read), ONNX bytes, and where it came
/// from (shown to the user).
pub struct Model {
    pub text: String,
    pub manifest: Arc<Manifest>,
    pub bytes: Uint8Array,
    pub source: String,
}

/// Reads a model's manifest: the model, shown as being prepared; `None` when the manifest is
/// invalid, shown as failed.
pub fn read(state: AppState, text: String, bytes: Uint8Array, source: String) -> Option<Model> {
    match Manifest::from_json(&text) {
        Ok(m) => {
            state.model.set(ModelState::Loading(format!("Preparing model {}…", m.model_id)));
            Some(Model { text, manifest: Arc::new(m), bytes, source })
        }
        Err(err) => {
            console::error("model", &err.to_string());
            state.model.set(ModelState::Failed(err.to_string()));
            None
        }
    }
}

/// A worker loaded model `model_id` (of `given`): the model is ready, unless it already was.
pub fn loaded(state: AppState, given: Option<(Arc<Manifest>, String)>, model_id: &str, load_ms: f64, simd: String) {
    let Some((manifest, source)) = given else { return };
    if !matches!(state.model.get_untracked(), ModelState::Ready { ref manifest, .. } if manifest.model_id == model_id) {
        crate::web::marks::mark("model-ready");
        state.model.set(ModelState::Ready { manifest, load_ms, source, simd });
        settled();
    }
}

/// Tells the page's other scripts that the model is ready or failed: the service worker
/// registers then (public/sw-register.js), so that its download of the whole site for offline
/// use does not compete with the first start.
pub fn settled() {
    if let Some(w) = web_sys::window() {
        if let Ok(ev) = web_sys::Event::new("marrowscope-model-settled") {
            let _ = w.dispatch_event(&ev);
        }
    }
}
