//! The preload handshake: public/worker-boot.js hands the worker the model before the page's
//! code runs (`preload`); it is loaded at once, but answered only when the page's own `load` of
//! the same manifest comes, so that the page's pool sees one answer per `load` it sent.

use super::{load, post};
use crate::web::protocol::Reply;
use std::cell::RefCell;
use wasm_bindgen::JsValue;

/// The model public/worker-boot.js handed over, while the page has not asked for it yet.
struct Preload {
    manifest: String,
    /// Its load's answer; `None` while it loads.
    reply: Option<Reply>,
    /// The page asked for this model while it was loading: answer when done.
    asked: bool,
}

thread_local! {
    static PRELOAD: RefCell<Option<Preload>> = const { RefCell::new(None) };
}

/// Loads the model public/worker-boot.js handed over (`buffer`); its answer is kept for the
/// page's `load`. Once the page's own `load` came first, that one does it all.
pub(super) fn preload(manifest: String, buffer: &JsValue) {
    if load::begun() {
        return;
    }
    let pending = Preload { manifest: manifest.clone(), reply: None, asked: false };
    if !load::start(manifest.clone(), buffer, move |reply| {
        let asked = PRELOAD.with(|p| {
            let mut p = p.borrow_mut();
            match p.as_mut() {
                Some(pre) if pre.manifest == manifest && pre.asked => {
                    *p = None;
                    true
                }
                Some(pre) if pre.manifest == manifest => {
                    pre.reply = Some(reply.clone());
                    false
                }
                // The page loaded another model meanwhile: this one was not installed.
                _ => false,
            }
        });
        if asked {
            post(&reply);
        }
    }) {
        return;
    }
    PRELOAD.with(|p| *p.borrow_mut() = Some(pending));
}

/// The page's `load` of the model worker-boot.js already handed over: answered now, or when that
/// load ends. False (load as asked) after its error, for another model, or without a preload.
pub(super) fn answered(manifest: &str) -> bool {
    let Some(mut pre) = PRELOAD.with(|p| p.borrow_mut().take()).filter(|pre| pre.manifest == manifest) else { return false };
    match pre.reply.take() {
        Some(loaded @ Reply::Loaded { .. }) => {
            post(&loaded);
            true
        }
        Some(_) => false,
        None => {
            pre.asked = true;
            PRELOAD.with(|p| *p.borrow_mut() = Some(pre));
            true
        }
    }
}
