//! Storing what changed: every change to the list is written a moment after it happens
//! ([`FLUSH_DELAY_MS`]), in one transaction per flush, with the files, crops and previews the
//! engine left in `outbox`.

use super::db::{key2, key3, range, BLOBS, CELLS, SESSIONS};
use super::records::stored;
use super::{now, set_unavailable, with};
use crate::ui::outbox;
use crate::ui::state::AppState;
use crate::ui::uncertainty;
use crate::web::idb;
use js_sys::Reflect;
use leptos::prelude::*;
use std::collections::HashSet;
use wasm_bindgen::prelude::*;

/// Changes are gathered this long before they are written.
const FLUSH_DELAY_MS: u64 = 250;

/// Stores what changed since the last flush, a moment from now.
pub(super) fn schedule() {
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
pub(super) async fn flush() {
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
pub(super) async fn estimate(state: AppState) {
    with(|s| s.last_estimate = now());
    let Some(w) = web_sys::window() else { return };
    let Ok(promise) = w.navigator().storage().estimate() else { return };
    if let Ok(est) = wasm_bindgen_futures::JsFuture::from(promise).await {
        if let Some(usage) = Reflect::get(&est, &JsValue::from_str("usage")).ok().and_then(|v| v.as_f64()) {
            state.storage_used.set(Some(usage));
        }
    }
}
