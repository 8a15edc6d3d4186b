//! The Learn tab's second opinion: the model's answer on an image outside the batch. One
//! request at a time (a newer one replaces one not yet sent); the pool sends it before the next
//! file of a running batch (`crate::pool`, [`crate::pool::OPINION_ID`]).

use crate::results::CellResult;
use leptos::prelude::*;
use std::cell::RefCell;
use std::sync::Arc;
use web_sys::Blob;

/// The model's answer on an image outside the batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Opinion {
    pub result: Arc<CellResult>,
    /// Object URL of the crop the model saw (its map is drawn on it), when it cut one.
    pub crop_url: Option<String>,
}

/// Where the answer to a request goes.
pub type Sink = RwSignal<Option<Result<Opinion, String>>>;

#[derive(Default)]
struct Request {
    /// The image waiting for a worker.
    image: Option<Blob>,
    sink: Option<Sink>,
}

thread_local! {
    static REQUEST: RefCell<Request> = RefCell::new(Request::default());
}

/// A new request: `image` waits for a worker; its answer goes to `sink` (cleared now).
pub fn asked(image: Blob, sink: Sink) {
    sink.set(None);
    REQUEST.with(|r| *r.borrow_mut() = Request { image: Some(image), sink: Some(sink) });
}

/// The image to send, once.
pub fn take_image() -> Option<Blob> {
    REQUEST.with(|r| r.borrow_mut().image.take())
}

/// Gives the latest request its answer.
pub fn deliver(answer: Result<Opinion, String>) {
    if let Some(sink) = REQUEST.with(|r| r.borrow().sink) {
        sink.set(Some(answer));
    }
}
