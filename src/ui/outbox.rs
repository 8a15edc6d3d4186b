//! What the session will store beside an entry and has not stored yet: the original file (kept as
//! it is shown, so that a reload in the middle of a batch can go on with it), the crop the model
//! saw and the list's preview.
//!
//! This is how the engine and the session's storage meet without importing each other: the
//! engine (`engine`, `replies`) only puts things here, and `persist` takes them at each flush.
//! `persist` sits above the engine (restoring or switching a session drives it: `engine::adopt`,
//! `engine::clear`, `engine::requeue`); the engine never calls `persist`.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use web_sys::{Blob, File};

/// Files larger than this are not stored (a reload asks for them again).
const MAX_STORED_FILE: f64 = 32.0 * 1024.0 * 1024.0;

/// What the worker made for an entry and the session stores beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The crop the model saw.
    Crop,
    /// The list's preview (`crate::image::thumbnail`).
    Thumb,
}

impl Kind {
    /// The kind's name in the session's storage keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Crop => "crop",
            Kind::Thumb => "thumb",
        }
    }
}

#[derive(Default)]
struct Outbox {
    files: HashMap<u32, File>,
    made: HashMap<(u32, Kind), Blob>,
}

thread_local! {
    static OUTBOX: RefCell<Outbox> = RefCell::new(Outbox::default());
}

fn with<R>(f: impl FnOnce(&mut Outbox) -> R) -> R {
    OUTBOX.with(|o| f(&mut o.borrow_mut()))
}

/// The file of entry `id`, to store with it (called as the entry is shown).
pub fn file_added(id: u32, file: &File) {
    if file.size() <= MAX_STORED_FILE {
        with(|o| o.files.insert(id, file.clone()));
    }
}

/// A crop or preview the worker made for entry `id`, to store with it.
pub fn blob_made(id: u32, kind: Kind, blob: &Blob) {
    with(|o| o.made.insert((id, kind), blob.clone()));
}

/// Takes the files, crops and previews of the entries in `present` (those of entries not on
/// the list yet wait for a later flush).
#[allow(clippy::type_complexity)]
pub fn take(present: &HashSet<u32>) -> (Vec<(u32, File)>, Vec<((u32, Kind), Blob)>) {
    with(|o| {
        let ids: Vec<u32> = o.files.keys().filter(|id| present.contains(id)).copied().collect();
        let files = ids.into_iter().filter_map(|id| o.files.remove(&id).map(|f| (id, f))).collect();
        let keys: Vec<(u32, Kind)> = o.made.keys().filter(|(id, _)| present.contains(id)).copied().collect();
        let made = keys.into_iter().filter_map(|k| o.made.remove(&k).map(|b| (k, b))).collect();
        (files, made)
    })
}

/// Forgets everything not yet stored (another session begins).
pub fn clear() {
    with(|o| {
        o.files.clear();
        o.made.clear();
    });
}
