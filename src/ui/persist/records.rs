//! The page's cells ⇄ the session's stored records (`crate::session::record`): a cell as it is
//! stored, and a stored session (records and blobs) as the page's cells again.

use crate::session::record::{self, StoredCell, StoredCrop, StoredFieldRef, StoredState};
use crate::ui::state::{Cell, CellState, CropView, FieldRef};
use js_sys::Array;
use std::collections::HashMap;
use std::sync::Arc;
use wasm_bindgen::JsCast;
use web_sys::{Blob, File};

/// A cell of the page as it is stored.
pub(super) fn stored(c: &Cell) -> StoredCell {
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
pub(super) struct Restored {
    pub cells: Vec<Cell>,
    /// Files of fields (for cells added by a click later).
    pub field_files: Vec<(u32, File)>,
    /// Waiting entries whose file is stored.
    pub resumable: Vec<(u32, File)>,
}

pub(super) fn restore_cells(mut records: Vec<StoredCell>, mut blobs: HashMap<(u32, String), Blob>) -> Restored {
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
