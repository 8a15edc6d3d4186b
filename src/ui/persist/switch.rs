//! Starting, switching and deleting sessions: the session restored when the page starts (this
//! tab's, or the most recent one no other tab holds), a new one, another one opened in its place,
//! one deleted, and the restored entries that go on when the person asks.

use super::db::{self, delete_from_db, list_sessions, load_session, write_meta};
use super::flush::{estimate, flush, schedule};
use super::records::restore_cells;
use super::tabs::{answer_other_tabs, held_elsewhere, sessions_held_elsewhere};
use super::{now, set_unavailable, with};
use crate::session::record::SessionMeta;
use crate::ui::dates::day_words;
use crate::ui::state::{AppState, StorageState};
use crate::ui::{engine, outbox, uncertainty};
use crate::web::console;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::IdbDatabase;

/// This tab's session id (sessionStorage survives a reload of the same tab).
const TAB_KEY: &str = "marrowscope-session";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.session_storage().ok().flatten())
}

fn new_meta() -> SessionMeta {
    let t = now();
    let id = format!("s-{}-{}", t as u64, (js_sys::Math::random() * 1e6) as u32);
    let d = js_sys::Date::new_0();
    let name = format!("{}, {:02}:{:02}:{:02}", day_words(&d), d.get_hours(), d.get_minutes(), d.get_seconds());
    SessionMeta::new(id, t, name)
}

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
    let db = match db::open().await {
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
