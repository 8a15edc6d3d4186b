//! The batch's entries on the list, as the pool's work changes them: new entries shown in
//! chunks, waiting entries given their files again, entries marked running, queued, failed or
//! dropped, a cell added by a click on a field or removed, the list replaced or emptied. What
//! is queued or sent where is decided by `crate::pool` (through `engine`); the workers' answers
//! are put on the list by `replies`.

use super::outbox;
use super::state::{AppState, Cell, CellState, FieldRef};
use crate::pool::{Dropped, NO_MODEL};
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use web_sys::{File, Url};

/// Cells added to the page per task when many files arrive at once: adding 500 rows in
/// one go blocked the page for about half a second; chunks keep every task short.
const PUBLISH_CHUNK: usize = 16;

#[derive(Default)]
struct Unpublished {
    /// Entries added but not yet shown (published in chunks, in id order), with their file
    /// (its object URL is made at publication: each costs the browser a synchronous call).
    cells: VecDeque<(Cell, File)>,
    /// A task to publish the next chunk is scheduled.
    scheduled: bool,
}

thread_local! {
    static UNPUBLISHED: RefCell<Unpublished> = RefCell::new(Unpublished::default());
}

fn with<R>(f: impl FnOnce(&mut Unpublished) -> R) -> R {
    UNPUBLISHED.with(|u| f(&mut u.borrow_mut()))
}

/// A new entry for a dropped file, shown at the next [`publish`]; `error`: it failed at once.
pub fn add(id: u32, file: File, error: Option<&str>) {
    let cell = Cell {
        error: error.map(str::to_string),
        ..Cell::new(id, file.name(), if error.is_some() { CellState::Error } else { CellState::Queued })
    };
    // The file is offered to the session as its entry is published: reading a picked file's
    // size is a round trip to the browser process in Chromium (about 0.3 ms), which for 500
    // files would lengthen the task that hands them over by 150 ms.
    with(|u| u.cells.push_back((cell, file)));
}

/// Shows the next chunk of new entries and tells `shown` how many (their files may go to the
/// workers now), then schedules the rest for later tasks.
pub fn publish(state: AppState, shown: fn(usize)) {
    let chunk: Vec<Cell> = with(|u| {
        let n = u.cells.len().min(PUBLISH_CHUNK);
        u.cells
            .drain(..n)
            .map(|(mut cell, file)| {
                outbox::file_added(cell.id, &file);
                cell.url = Url::create_object_url_with_blob(&file).unwrap_or_default();
                cell
            })
            .collect()
    });
    let n = chunk.len();
    if let Some(first) = chunk.first().map(|c| c.id) {
        state.cells.update(|c| c.extend(chunk));
        if state.selected.get_untracked().is_none() {
            state.selected.set(Some(first));
        }
    }
    shown(n);
    if with(|u| !u.cells.is_empty() && !std::mem::replace(&mut u.scheduled, true)) {
        let next = move || {
            with(|u| u.scheduled = false);
            publish(state, shown);
        };
        set_timeout(next, std::time::Duration::ZERO);
    }
}

/// Splits dropped files into those that go on with a waiting entry of the same name (given
/// again after a reload; not those whose file is stored) and new ones.
pub fn given_again(state: AppState, files: Vec<File>) -> (Vec<(u32, File)>, Vec<File>) {
    let waiting: Vec<(u32, String)> = state.cells.with_untracked(|cells| {
        cells
            .iter()
            .filter(|c| c.state == CellState::Waiting && !state.resumable.with_untracked(|r| r.contains(&c.id)))
            .map(|c| (c.id, c.name.clone()))
            .collect()
    });
    let names: Vec<String> = files.iter().map(|f| f.name()).collect();
    let matches = crate::session::resume::match_files(&waiting, &names);
    let (again, files): (Vec<_>, Vec<_>) = files.into_iter().zip(matches).partition(|(_, m)| m.is_some());
    let again = again.into_iter().filter_map(|(f, m)| Some((m?, f))).collect();
    (again, files.into_iter().map(|(f, _)| f).collect())
}

/// Gives waiting entries their files again (the session stores them, the list shows them), in
/// chunks of [`PUBLISH_CHUNK`], one chunk per task, as [`publish`] does for new entries.
pub fn reattach(state: AppState, mut items: Vec<(u32, File)>) {
    let rest = items.split_off(items.len().min(PUBLISH_CHUNK));
    for (id, f) in &items {
        outbox::file_added(*id, f);
        let url = Url::create_object_url_with_blob(f).unwrap_or_default();
        state.update_cell(*id, |c| {
            if !c.url.is_empty() {
                let _ = Url::revoke_object_url(&c.url);
            }
            c.url = url;
            c.progress = None;
        });
    }
    if !rest.is_empty() {
        set_timeout(move || reattach(state, rest), std::time::Duration::ZERO);
    }
}

/// Entries `ids` wait in the queue again (no longer resumable).
pub fn requeued(state: AppState, ids: &HashSet<u32>) {
    state.resumable.update(|r| r.retain(|id| !ids.contains(id)));
    state.cells.update(|cells| {
        for c in cells.iter_mut().filter(|c| ids.contains(&c.id)) {
            c.state = CellState::Queued;
            c.progress = None;
            c.error = None;
            c.rev = c.rev.wrapping_add(1);
        }
    });
}

/// Entry `id` is now `to` (with `error`, when it failed).
pub fn mark(state: AppState, id: u32, to: CellState, error: Option<&str>) {
    state.update_cell(id, |c| {
        c.state = to;
        if let Some(message) = error {
            c.error = Some(message.to_string());
        }
    });
}

/// Entries taken out of the queue: cancelled, or failed for want of a model (shown or not yet).
pub fn dropped(state: AppState, ids: Vec<u32>, why: Dropped) {
    let ids: HashSet<u32> = ids.into_iter().collect();
    let (new_state, error) = match why {
        Dropped::Cancelled => (CellState::Cancelled, None),
        Dropped::NoModel => (CellState::Error, Some(NO_MODEL.to_string())),
    };
    let mark = |c: &mut Cell| {
        c.state = new_state;
        c.error = error.clone();
        c.rev += 1;
    };
    with(|u| u.cells.iter_mut().map(|(c, _)| c).filter(|c| ids.contains(&c.id)).for_each(mark));
    state.cells.update(|cells| cells.iter_mut().filter(|c| ids.contains(&c.id)).for_each(mark));
}

/// Puts `cells` (a restored session) in place of the list, releasing the old entries.
pub fn replace(state: AppState, cells: Vec<Cell>) {
    let old = state.cells.try_update(|c| std::mem::replace(c, cells)).unwrap_or_default();
    for c in &old {
        c.release_urls();
    }
}

/// Removes every entry, shown or not yet, and releases its object URLs.
pub fn clear(state: AppState) {
    let unpublished: Vec<Cell> = with(|u| u.cells.drain(..).map(|(cell, _)| cell).collect());
    state.cells.update(|cells| {
        for c in cells.drain(..).chain(unpublished) {
            c.release_urls();
        }
    });
    state.selected.set(None);
}

/// Adds entry `id`, a cell the person clicked at (`x`, `y`) on `field`, after the field's
/// cells, as a square of twice `half` a side, and selects it.
pub fn add_clicked(state: AppState, field: &Cell, id: u32, (x, y): (f32, f32), half: f32) {
    let field_id = field.id;
    let n = state.cells.with_untracked(|cells| cells.iter().filter(|c| c.field.as_ref().is_some_and(|f| f.field_id == field_id)).count());
    let bbox = [(x - half).max(0.0) as u32, (y - half).max(0.0) as u32, (2.0 * half) as u32, (2.0 * half) as u32];
    let cell = Cell {
        field: Some(Arc::new(FieldRef { field_id, field_name: field.name.clone(), field_url: field.url.clone(), bbox, added: true })),
        ..Cell::new(id, format!("{} · cell {} (added)", field.name, n + 1), CellState::Queued)
    };
    state.cells.update(|cells| {
        let last = cells.iter().rposition(|c| c.id == field_id || c.field.as_ref().is_some_and(|f| f.field_id == field_id));
        let at = last.map(|p| p + 1).unwrap_or(cells.len());
        cells.insert(at, cell);
    });
    state.selected.set(Some(id));
}

/// Removes a cell of a field that is not a white cell (a false detection); not while it is
/// queued or running.
pub fn remove_cell(state: AppState, id: u32) {
    let Some(cell) = state.cell(id) else { return };
    let Some(field) = cell.field.clone() else { return };
    if matches!(cell.state, CellState::Queued | CellState::Running) {
        return;
    }
    cell.release_urls();
    state.cells.update(|cells| cells.retain(|c| c.id != id));
    if state.selected.get_untracked() == Some(id) {
        state.selected.set(Some(field.field_id));
    }
}
