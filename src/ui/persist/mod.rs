//! The session in the browser's storage (IndexedDB; nothing leaves the machine). Every change
//! to the list is stored a moment after it happens, in one transaction per flush, and the
//! session is restored on load: the list, the count, the selection, the coverage level.
//!
//! - `sessions`: one JSON record per session ([`crate::session::SessionMeta`]), key: the session's id;
//! - `cells`: one JSON record per entry ([`crate::session::StoredCell`]), key `[session, id]`;
//! - `blobs`: the original file (`"file"`, stored as it arrives, so a reload in the middle
//!   of a batch can go on with it), the crop the model saw (`"crop"`) and the list's preview
//!   (`"thumb"`), key `[session, id, kind]`.
//!
//! A tab owns its session: it answers "who has session X?" on a `BroadcastChannel`, and a tab
//! that opens never takes a session another tab answers for. Storage refused or full: the
//! state says so in words and the app goes on in memory.
//!
//! One file per concern: [`db`] (the database's stores and keys, whole records read and
//! written), [`records`] (the page's cells ⇄ stored records), [`flush`] (storing what changed, a
//! moment after it did), [`tabs`] (which sessions other tabs hold) and [`switch`] (starting,
//! switching, deleting sessions); the state they share is [`Store`] here.
//!
//! The direction between this and the engine: this module sits above `engine` and drives it
//! when a session is restored, switched or resumed (`engine::adopt`, `engine::clear`,
//! `engine::requeue`); the engine never imports this one. The files, crops and previews the
//! engine makes for an entry wait in `outbox` until a flush takes them.

mod db;
mod flush;
mod records;
mod switch;
mod tabs;

pub use switch::{delete_session, go_on, new_session, open_session, refresh, start};

use super::state::{AppState, StorageState};
use crate::web::console;
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use web_sys::{BroadcastChannel, File, IdbDatabase};

/// What the storage holds between calls: the database, the page's state, what was stored.
#[derive(Default)]
struct Store {
    db: Option<IdbDatabase>,
    state: Option<AppState>,
    /// Revision of each entry as last stored.
    saved: HashMap<u32, u32>,
    /// Restored waiting entries whose file is stored: they go on when the person asks.
    resumable: Vec<(u32, File)>,
    scheduled: bool,
    busy: bool,
    again: bool,
    last_estimate: f64,
    channel: Option<BroadcastChannel>,
}

thread_local! {
    static STORE: RefCell<Store> = RefCell::new(Store::default());
}

fn with<R>(f: impl FnOnce(&mut Store) -> R) -> R {
    STORE.with(|s| f(&mut s.borrow_mut()))
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Why storage cannot be used, in words for the person (`reason`: the browser's error).
fn unavailable_text(reason: &str) -> String {
    let why = if reason.starts_with("QuotaExceededError") {
        "the browser's storage for this site is full".to_string()
    } else if reason.starts_with("SecurityError") || reason.starts_with("InvalidStateError") || reason.contains("no IndexedDB") {
        format!("the browser does not allow this site to store data, as in some private windows: {reason}")
    } else {
        format!("the browser's storage failed: {reason}")
    };
    format!(
        "This session cannot be kept in this browser's storage ({why}). Marrowscope works as usual, but from now on the cells live in this page only: export the count before you reload or close it."
    )
}

/// Storage cannot be used (`reason`: the browser's error): the state says so in words.
fn set_unavailable(state: AppState, reason: &str) {
    console::warn("storage", reason);
    state.storage.set(StorageState::Unavailable(unavailable_text(reason)));
}
