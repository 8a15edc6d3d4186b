//! The session in the browser's storage (IndexedDB; nothing leaves the machine). Every change
//! to the list is stored a moment after it happens, in one transaction per flush, and the
//! session is restored on load: the list, the count, the selection, the coverage level.
//!
//! - `sessions`: one JSON record per session ([`SessionMeta`]), key: the session's id;
//! - `cells`: one JSON record per entry ([`StoredCell`]), key `[session, id]`;
//! - `blobs`: the original file (`"file"`, stored as it arrives, so a reload in the middle
//!   of a batch can go on with it), the crop the model saw (`"crop"`) and the list's preview
//!   (`"thumb"`), key `[session, id, kind]`.
//!
//! A tab owns its session: it answers "who has session X?" on a `BroadcastChannel`, and a tab
//! that opens never takes a session another tab answers for. Storage refused or full: the
//! state says so in words and the app goes on in memory.
//!
//! The direction between this and the engine: this module sits above `engine` and drives it
//! when a session is restored, switched or resumed (`engine::adopt`, `engine::clear`,
//! `engine::requeue`); the engine never imports this one. The files, crops and previews the
//! engine makes for an entry wait in `outbox` until a flush takes them.

use super::engine;
use super::outbox;
use super::state::{AppState, Cell, CellState, CropView, FieldRef, StorageState};
use super::uncertainty;
use crate::session::record::{self, SessionMeta, StoredCell, StoredCrop, StoredFieldRef, StoredState};
use crate::web::{console, idb};
use js_sys::{Array, Reflect};
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BroadcastChannel, File, IdbDatabase, IdbKeyRange};

const DB_NAME: &str = "marrowscope";
const DB_VERSION: u32 = 1;
const SESSIONS: &str = "sessions";
const CELLS: &str = "cells";
const BLOBS: &str = "blobs";
/// This tab's session id (sessionStorage survives a reload of the same tab).
const TAB_KEY: &str = "marrowscope-session";
const CHANNEL: &str = "marrowscope-sessions";
/// How long to wait for other tabs to say which sessions they hold.
const WHO_WAIT_MS: i32 = 150;
/// Changes are gathered this long before they are written.
const FLUSH_DELAY_MS: u64 = 250;
/// Above the highest cell id: the upper bound of a session's key range.
const ID_END: f64 = 4_294_967_296.0;

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

fn key2(sid: &str, id: f64) -> JsValue {
    Array::of2(&JsValue::from_str(sid), &JsValue::from(id)).into()
}

fn key3(sid: &str, id: u32, kind: &str) -> JsValue {
    Array::of3(&JsValue::from_str(sid), &JsValue::from(id), &JsValue::from_str(kind)).into()
}

/// Keys of entries `from..to` of a session (cells and blobs alike).
fn range(sid: &str, from: f64, to: f64) -> Result<IdbKeyRange, String> {
    IdbKeyRange::bound_with_lower_open_and_upper_open(&key2(sid, from), &key2(sid, to), false, true).map_err(|e| idb::error_text(&e))
}

fn upgrade(db: &IdbDatabase) -> Result<(), JsValue> {
    let names = db.object_store_names();
    for name in [SESSIONS, CELLS, BLOBS] {
        if !names.contains(name) {
            db.create_object_store(name)?;
        }
    }
    Ok(())
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

fn set_unavailable(state: AppState, reason: &str) {
    console::warn("storage", reason);
    state.storage.set(StorageState::Unavailable(unavailable_text(reason)));
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.session_storage().ok().flatten())
}

/// A day as people write it: "5 Dec 2026" (session names, laboratory profiles).
pub fn day_words(d: &js_sys::Date) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{} {} {}", d.get_date(), MONTHS[(d.get_month() as usize).min(11)], d.get_full_year())
}

fn new_meta() -> SessionMeta {
    let t = now();
    let id = format!("s-{}-{}", t as u64, (js_sys::Math::random() * 1e6) as u32);
    let d = js_sys::Date::new_0();
    let name = format!("{}, {:02}:{:02}:{:02}", day_words(&d), d.get_hours(), d.get_minutes(), d.get_seconds());
    SessionMeta::new(id, t, name)
}

// ---------------------------------------------------------------------------------------------
// The page's cells ⇄ stored records

fn stored(c: &Cell) -> StoredCell {
    StoredCell {
        id: c.id,
        name: c.name.clone(),
        state: match c.state {
            CellState::Done => StoredState::Done,
            CellState::Error => StoredState::Error,
            CellState::Cancelled => StoredState::Cancelled,
            CellState::Queued | CellState::Running | CellState::Waiting => StoredState::Waiting,
        },
        result: c.result.as_deref().cloned(),
        final_class: c.final_class.clone(),
        error: c.error.clone(),
        field: c.field.as_ref().map(|f| StoredFieldRef {
            field_id: f.field_id,
            field_name: f.field_name.clone(),
            bbox: f.bbox,
            added: f.added,
        }),
        field_info: c.field_info.as_deref().cloned(),
        crop: c.crop.as_ref().map(|k| StoredCrop { bbox: k.bbox, nucleus_px: k.nucleus_px, scale: k.scale }),
    }
}

fn object_url(blob: &Blob) -> String {
    web_sys::Url::create_object_url_with_blob(blob).unwrap_or_default()
}

fn as_file(blob: &Blob, name: &str) -> Option<File> {
    if let Some(f) = blob.dyn_ref::<File>() {
        return Some(f.clone());
    }
    File::new_with_blob_sequence(&Array::of1(blob), name).ok()
}

/// A restored session as the page's cells.
struct Restored {
    cells: Vec<Cell>,
    /// Files of fields (for cells added by a click later).
    field_files: Vec<(u32, File)>,
    /// Waiting entries whose file is stored.
    resumable: Vec<(u32, File)>,
}

fn restore_cells(mut records: Vec<StoredCell>, mut blobs: HashMap<(u32, String), Blob>) -> Restored {
    record::list_order(&mut records);
    let mut urls: HashMap<u32, String> = HashMap::new();
    let mut out = Restored { cells: Vec::with_capacity(records.len()), field_files: Vec::new(), resumable: Vec::new() };
    for r in records {
        let file = blobs.remove(&(r.id, "file".to_string()));
        let crop = blobs.remove(&(r.id, "crop".to_string()));
        let thumb = blobs.remove(&(r.id, "thumb".to_string()));
        let url = file.as_ref().or(crop.as_ref()).map(object_url).unwrap_or_default();
        urls.insert(r.id, url.clone());
        let crop_view = match (&r.crop, &crop) {
            (Some(k), Some(b)) => Some(Arc::new(CropView { url: object_url(b), bbox: k.bbox, nucleus_px: k.nucleus_px, scale: k.scale })),
            _ => None,
        };
        if r.field_info.is_some() {
            if let Some(f) = file.as_ref().and_then(|b| as_file(b, &r.name)) {
                out.field_files.push((r.id, f));
            }
        }
        let (state, error, progress) = match r.state {
            StoredState::Done => (CellState::Done, r.error, None),
            StoredState::Error => (CellState::Error, r.error, None),
            StoredState::Cancelled => (CellState::Cancelled, r.error, None),
            StoredState::Waiting if r.field.is_some() => (
                CellState::Error,
                Some("This cell was added by a click but not classified before the page was closed: click it on the field again.".into()),
                None,
            ),
            StoredState::Waiting => match file.as_ref().and_then(|b| as_file(b, &r.name)) {
                Some(f) => {
                    out.resumable.push((r.id, f));
                    (CellState::Waiting, None, Some("not classified yet (stored)".to_string()))
                }
                None => (CellState::Waiting, None, Some("needs its file again".to_string())),
            },
        };
        let url = if r.field.is_some() { crop.as_ref().map(object_url).unwrap_or(url) } else { url };
        // Entries stored before previews existed show their image there (as the list did then).
        let thumb = match &thumb {
            Some(b) => object_url(b),
            None if r.result.is_some() => url.clone(),
            None => String::new(),
        };
        out.cells.push(Cell {
            id: r.id,
            rev: 0,
            name: r.name,
            url,
            thumb,
            state,
            result: r.result.map(Arc::new),
            final_class: r.final_class,
            error,
            field: r.field.map(|f| {
                Arc::new(FieldRef {
                    field_id: f.field_id,
                    field_url: urls.get(&f.field_id).cloned().unwrap_or_default(),
                    field_name: f.field_name,
                    bbox: f.bbox,
                    added: f.added,
                })
            }),
            field_info: r.field_info.map(Arc::new),
            progress,
            crop: crop_view,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Reading and writing

async fn list_sessions(db: &IdbDatabase) -> Result<Vec<SessionMeta>, String> {
    let tx = idb::transaction(db, &[SESSIONS], false)?;
    let store = tx.object_store(SESSIONS).map_err(|e| idb::error_text(&e))?;
    let all = idb::request(&store.get_all().map_err(|e| idb::error_text(&e))?).await?;
    let mut out: Vec<SessionMeta> =
        Array::from(&all).iter().filter_map(|v| v.as_string()).filter_map(|t| SessionMeta::from_json(&t)).collect();
    record::newest_first(&mut out);
    Ok(out)
}

async fn load_session(db: &IdbDatabase, sid: &str) -> Result<(Vec<StoredCell>, HashMap<(u32, String), Blob>), String> {
    let tx = idb::transaction(db, &[CELLS, BLOBS], false)?;
    let err = |e: JsValue| idb::error_text(&e);
    let r = range(sid, 0.0, ID_END)?;
    let cells = tx.object_store(CELLS).map_err(err)?;
    let texts = idb::request(&cells.get_all_with_key(&r).map_err(err)?).await?;
    let records: Vec<StoredCell> =
        Array::from(&texts).iter().filter_map(|v| v.as_string()).filter_map(|t| StoredCell::from_json(&t)).collect();
    let blobs = tx.object_store(BLOBS).map_err(err)?;
    let keys = idb::request(&blobs.get_all_keys_with_key(&r).map_err(err)?).await?;
    let values = idb::request(&blobs.get_all_with_key(&r).map_err(err)?).await?;
    let mut map = HashMap::new();
    for (k, v) in Array::from(&keys).iter().zip(Array::from(&values).iter()) {
        let k = Array::from(&k);
        let (Some(id), Some(kind)) = (k.get(1).as_f64(), k.get(2).as_string()) else { continue };
        if let Ok(b) = v.dyn_into::<Blob>() {
            map.insert((id as u32, kind), b);
        }
    }
    Ok((records, map))
}

async fn write_meta(db: &IdbDatabase, meta: &SessionMeta) -> Result<(), String> {
    let tx = idb::transaction(db, &[SESSIONS], true)?;
    let store = tx.object_store(SESSIONS).map_err(|e| idb::error_text(&e))?;
    store.put_with_key(&JsValue::from_str(&meta.to_json()), &JsValue::from_str(&meta.id)).map_err(|e| idb::error_text(&e))?;
    idb::committed(&tx).await
}

async fn delete_from_db(db: &IdbDatabase, sid: &str) -> Result<(), String> {
    let err = |e: JsValue| idb::error_text(&e);
    let tx = idb::transaction(db, &[SESSIONS, CELLS, BLOBS], true)?;
    let r = range(sid, 0.0, ID_END)?;
    tx.object_store(CELLS).map_err(err)?.delete(&r).map_err(err)?;
    tx.object_store(BLOBS).map_err(err)?.delete(&r).map_err(err)?;
    tx.object_store(SESSIONS).map_err(err)?.delete(&JsValue::from_str(sid)).map_err(err)?;
    idb::committed(&tx).await
}

/// Stores what changed since the last flush, a moment from now.
fn schedule() {
    if let Some(state) = with(|s| s.db.as_ref().and(s.state)) {
        if !state.unsaved.get_untracked() {
            state.unsaved.set(true);
        }
    }
    let go = with(|s| {
        let go = !s.scheduled && s.db.is_some();
        if go {
            s.scheduled = true;
        }
        go
    });
    if go {
        set_timeout(
            || {
                with(|s| s.scheduled = false);
                leptos::task::spawn_local(flush());
            },
            std::time::Duration::from_millis(FLUSH_DELAY_MS),
        );
    }
}

/// Writes every entry whose revision changed, the files, crops and previews not yet stored, deletions,
/// and the session's record, in one transaction.
async fn flush() {
    let Some(state) = with(|s| s.state) else { return };
    if with(|s| {
        let busy = s.busy;
        if busy {
            s.again = true;
        } else {
            s.busy = true;
        }
        busy
    }) {
        return;
    }
    let outcome = flush_once(state).await;
    if let Err(msg) = outcome {
        set_unavailable(state, &msg);
        with(|s| s.db = None);
        state.unsaved.set(false);
    }
    let (again, scheduled) = with(|s| {
        s.busy = false;
        (std::mem::take(&mut s.again), s.scheduled)
    });
    if again {
        schedule();
    } else if !scheduled && state.unsaved.get_untracked() {
        state.unsaved.set(false);
    }
}

async fn flush_once(state: AppState) -> Result<(), String> {
    let (Some(db), Some(mut meta)) = (with(|s| s.db.clone()), state.session.get_untracked()) else { return Ok(()) };
    let level = uncertainty::coverage().get_untracked();
    let mut puts: Vec<(u32, u32, String)> = Vec::new();
    let mut present = HashSet::new();
    let (mut entries, mut classified) = (0u32, 0u32);
    with(|s| {
        state.cells.with_untracked(|cells| {
            for c in cells {
                present.insert(c.id);
                entries += 1;
                classified += u32::from(c.result.is_some());
                if s.saved.get(&c.id) != Some(&c.rev) {
                    puts.push((c.id, c.rev, stored(c).to_json()));
                }
            }
        })
    });
    let deletes: Vec<u32> = with(|s| s.saved.keys().filter(|id| !present.contains(id)).copied().collect());
    // Files, crops and previews of entries on the list (those of entries not yet shown wait).
    let (files, made) = outbox::take(&present);
    let selected = state.selected.get_untracked();
    let kind = state.count_kind.get_untracked().map(|k| k.as_str().to_string());
    let changed = !puts.is_empty()
        || !deletes.is_empty()
        || meta.selected != selected
        || meta.coverage_percent != Some(level.percent())
        || meta.count_kind != kind;
    if !changed && files.is_empty() && made.is_empty() {
        return Ok(());
    }
    meta.entries = entries;
    meta.classified = classified;
    meta.selected = selected;
    meta.coverage_percent = Some(level.percent());
    meta.count_kind = kind;
    meta.updated_ms = now();
    let err = |e: JsValue| idb::error_text(&e);
    let tx = idb::transaction(&db, &[SESSIONS, CELLS, BLOBS], true)?;
    let cells = tx.object_store(CELLS).map_err(err)?;
    let blobs = tx.object_store(BLOBS).map_err(err)?;
    for (id, _, json) in &puts {
        cells.put_with_key(&JsValue::from_str(json), &key2(&meta.id, *id as f64)).map_err(err)?;
    }
    for id in &deletes {
        let r = range(&meta.id, *id as f64, *id as f64 + 1.0)?;
        cells.delete(&r).map_err(err)?;
        blobs.delete(&r).map_err(err)?;
    }
    for (id, f) in &files {
        blobs.put_with_key(f, &key3(&meta.id, *id, "file")).map_err(err)?;
    }
    for ((id, kind), b) in &made {
        blobs.put_with_key(b, &key3(&meta.id, *id, kind.as_str())).map_err(err)?;
    }
    tx.object_store(SESSIONS).map_err(err)?.put_with_key(&JsValue::from_str(&meta.to_json()), &JsValue::from_str(&meta.id)).map_err(err)?;
    idb::committed(&tx).await?;
    with(|s| {
        for (id, rev, _) in &puts {
            s.saved.insert(*id, *rev);
        }
        for id in &deletes {
            s.saved.remove(id);
        }
    });
    // The session may have been switched while this was written.
    if state.session.get_untracked().is_some_and(|m| m.id == meta.id) {
        state.session.set(Some(meta.clone()));
        state.sessions.update(|list| {
            if let Some(m) = list.iter_mut().find(|m| m.id == meta.id) {
                *m = meta.clone();
            }
        });
    }
    if now() - with(|s| s.last_estimate) > 2000.0 {
        estimate(state).await;
    }
    Ok(())
}

/// Updates the storage this site uses (`navigator.storage.estimate()`).
async fn estimate(state: AppState) {
    with(|s| s.last_estimate = now());
    let Some(w) = web_sys::window() else { return };
    let Ok(promise) = w.navigator().storage().estimate() else { return };
    if let Ok(est) = wasm_bindgen_futures::JsFuture::from(promise).await {
        if let Some(usage) = Reflect::get(&est, &JsValue::from_str("usage")).ok().and_then(|v| v.as_f64()) {
            state.storage_used.set(Some(usage));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tabs: which sessions other tabs hold

/// Ids of the sessions other tabs of this site hold now.
async fn sessions_held_elsewhere() -> HashSet<String> {
    let held: std::rc::Rc<RefCell<HashSet<String>>> = Default::default();
    let Ok(ch) = BroadcastChannel::new(CHANNEL) else { return HashSet::new() };
    let h = held.clone();
    let on_reply = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        let data = ev.data();
        let kind = Reflect::get(&data, &"kind".into()).ok().and_then(|v| v.as_string());
        if kind.as_deref() == Some("mine") {
            if let Some(id) = Reflect::get(&data, &"id".into()).ok().and_then(|v| v.as_string()) {
                h.borrow_mut().insert(id);
            }
        }
    });
    ch.set_onmessage(Some(on_reply.as_ref().unchecked_ref()));
    let ask = js_sys::Object::new();
    let _ = Reflect::set(&ask, &"kind".into(), &"who".into());
    let _ = ch.post_message(&ask);
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, WHO_WAIT_MS);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(wait).await;
    ch.set_onmessage(None);
    ch.close();
    drop(on_reply);
    let out = held.borrow().clone();
    out
}

/// Answers other tabs' "who has which session" with this tab's session.
fn answer_other_tabs(state: AppState) {
    let Ok(ch) = BroadcastChannel::new(CHANNEL) else { return };
    let ch2 = ch.clone();
    let on_ask = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        let kind = Reflect::get(&ev.data(), &"kind".into()).ok().and_then(|v| v.as_string());
        if kind.as_deref() == Some("who") {
            if let Some(meta) = state.session.get_untracked() {
                let reply = js_sys::Object::new();
                let _ = Reflect::set(&reply, &"kind".into(), &"mine".into());
                let _ = Reflect::set(&reply, &"id".into(), &JsValue::from_str(&meta.id));
                let _ = ch2.post_message(&reply);
            }
        }
    });
    ch.set_onmessage(Some(on_ask.as_ref().unchecked_ref()));
    on_ask.forget();
    with(|s| s.channel = Some(ch));
}

// ---------------------------------------------------------------------------------------------
// Starting, switching, deleting

/// Opens the storage and restores this tab's session (or the most recent one no other tab
/// holds), then stores every change. Called once, when the page starts.
pub async fn start(state: AppState) {
    with(|s| s.state = Some(state));
    let level = uncertainty::coverage();
    Effect::new(move |_| {
        state.cells.track();
        state.selected.track();
        state.count_kind.track();
        level.track();
        schedule();
    });
    if let Some(w) = web_sys::window() {
        // Hidden or leaving: store what is pending now rather than in a moment.
        let on_hide = Closure::<dyn FnMut(web_sys::Event)>::new(move |_ev: web_sys::Event| leptos::task::spawn_local(flush()));
        let _ = w.add_event_listener_with_callback("pagehide", on_hide.as_ref().unchecked_ref());
        on_hide.forget();
    }
    let db = match idb::open(DB_NAME, DB_VERSION, upgrade).await {
        Ok(db) => db,
        Err(e) => {
            set_unavailable(state, &e);
            state.session.set(Some(new_meta()));
            return;
        }
    };
    let sessions = match list_sessions(&db).await {
        Ok(s) => s,
        Err(e) => {
            set_unavailable(state, &e);
            state.session.set(Some(new_meta()));
            return;
        }
    };
    let held = sessions_held_elsewhere().await;
    let mine = session_storage().and_then(|s| s.get_item(TAB_KEY).ok().flatten());
    let pick = mine
        .and_then(|id| sessions.iter().find(|m| m.id == id && !held.contains(&m.id)))
        .or_else(|| sessions.iter().find(|m| !held.contains(&m.id)))
        .cloned();
    with(|s| s.db = Some(db.clone()));
    state.sessions.set(sessions);
    answer_other_tabs(state);
    // Files dropped before the storage answered: they stay in a new session, and the
    // previous one stays in the list.
    let busy = state.cells.with_untracked(|c| !c.is_empty());
    match pick {
        Some(meta) if !busy => {
            if let Err(e) = adopt(state, &db, meta).await {
                set_unavailable(state, &e);
                return;
            }
        }
        _ => begin_new(state, &db).await,
    }
    if !matches!(state.storage.get_untracked(), StorageState::Unavailable(_)) {
        state.storage.set(StorageState::Saved);
    }
    estimate(state).await;
    schedule();
}

fn remember_tab(meta: &SessionMeta) {
    if let Some(s) = session_storage() {
        let _ = s.set_item(TAB_KEY, &meta.id);
    }
}

async fn begin_new(state: AppState, db: &IdbDatabase) {
    let meta = new_meta();
    with(|s| s.saved.clear());
    remember_tab(&meta);
    state.session.set(Some(meta.clone()));
    state.sessions.update(|l| l.insert(0, meta.clone()));
    if let Err(e) = write_meta(db, &meta).await {
        set_unavailable(state, &e);
    }
}

/// Restores a stored session into the page.
async fn adopt(state: AppState, db: &IdbDatabase, meta: SessionMeta) -> Result<(), String> {
    let (records, blobs) = load_session(db, &meta.id).await?;
    let restored = restore_cells(records, blobs);
    console::info("session", &format!("restored {} entries of session {}", restored.cells.len(), meta.name));
    with(|s| s.saved = restored.cells.iter().map(|c| (c.id, c.rev)).collect());
    outbox::clear();
    if let Some(level) = meta.coverage() {
        uncertainty::coverage().set(level);
    }
    state.count_kind.set(meta.count_kind.as_deref().and_then(crate::count::reference::CountKind::parse));
    remember_tab(&meta);
    let selected = meta.selected.filter(|id| restored.cells.iter().any(|c| c.id == *id));
    state.resumable.set(restored.resumable.iter().map(|(id, _)| *id).collect());
    with(|s| s.resumable = restored.resumable);
    engine::adopt(restored.cells, restored.field_files);
    state.selected.set(selected);
    state.session.set(Some(meta));
    Ok(())
}

/// Whether another tab holds this session now.
async fn held_elsewhere(id: &str) -> bool {
    sessions_held_elsewhere().await.contains(id)
}

/// Starts a new, empty session; the current one stays in the list of sessions.
pub async fn new_session(state: AppState) {
    flush().await;
    engine::clear();
    state.count_kind.set(None);
    with(|s| s.saved.clear());
    outbox::clear();
    state.resumable.set(Vec::new());
    with(|s| s.resumable.clear());
    match with(|s| s.db.clone()) {
        Some(db) => begin_new(state, &db).await,
        None => state.session.set(Some(new_meta())),
    }
}

/// Opens a stored session in place of the current one (which stays stored).
pub async fn open_session(state: AppState, id: String) -> Result<(), String> {
    let Some(db) = with(|s| s.db.clone()) else { return Err("the browser's storage is not available".into()) };
    if held_elsewhere(&id).await {
        return Err("This session is open in another tab; close it there first.".into());
    }
    let meta = list_sessions(&db).await?.into_iter().find(|m| m.id == id).ok_or("this session was deleted")?;
    flush().await;
    engine::clear();
    with(|s| s.saved.clear());
    adopt(state, &db, meta).await?;
    state.sessions.set(list_sessions(&db).await.unwrap_or_default());
    Ok(())
}

/// Deletes a stored session (not the current one, nor one another tab holds).
pub async fn delete_session(state: AppState, id: String) -> Result<(), String> {
    let Some(db) = with(|s| s.db.clone()) else { return Err("the browser's storage is not available".into()) };
    if state.session.get_untracked().is_some_and(|m| m.id == id) {
        return Err("This is the session you are working in.".into());
    }
    if held_elsewhere(&id).await {
        return Err("This session is open in another tab.".into());
    }
    delete_from_db(&db, &id).await?;
    state.sessions.update(|l| l.retain(|m| m.id != id));
    estimate(state).await;
    Ok(())
}

/// Reloads the list of stored sessions (e.g. when the list is opened).
pub async fn refresh(state: AppState) {
    if let Some(db) = with(|s| s.db.clone()) {
        if let Ok(list) = list_sessions(&db).await {
            state.sessions.set(list);
        }
        estimate(state).await;
    }
}

/// Goes on classifying the restored entries whose files are stored.
pub fn go_on() {
    let items = with(|s| std::mem::take(&mut s.resumable));
    engine::requeue(items);
}
