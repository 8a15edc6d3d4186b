//! A worker's answers on the list: a result, a field and its cells, a cell added by a click, a
//! failure, progress; and the images they carry as object URLs (the session keeps them too,
//! through `outbox`). Which worker is free again is not decided here: see `crate::pool`.

use super::opinion::Opinion;
use super::outbox::{self, Kind};
use super::state::{AppState, Cell, CellState, CropView, FieldRef};
use crate::results::{CellResult, FieldCell, FieldResult, ModelCrop};
use crate::web::console;
use crate::web::protocol::{Reply, BLOBS};
use js_sys::{Object, Reflect};
use leptos::prelude::*;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, Url};

/// A worker's message as a [`Reply`], and the JPEGs it sent as Blobs (`protocol::BLOBS`;
/// undefined when none), taken out before the rest is read.
pub fn read(data: JsValue) -> Result<(Reply, JsValue), String> {
    let blobs = Reflect::get(&data, &JsValue::from_str(BLOBS)).unwrap_or(JsValue::UNDEFINED);
    if !blobs.is_undefined() {
        if let Some(o) = data.dyn_ref::<Object>() {
            let _ = Reflect::delete_property(o, &JsValue::from_str(BLOBS));
        }
    }
    let reply = serde_wasm_bindgen::from_value::<Reply>(data).map_err(|e| format!("unreadable message: {e}"))?;
    Ok((reply, blobs))
}

/// The JPEG `name` of a reply: the Blob the worker made, else one made here from `bytes`
/// (none for no bytes).
fn given_jpeg(blobs: &JsValue, name: &str, bytes: Option<&[u8]>) -> Option<Blob> {
    let sent = if blobs.is_undefined() { None } else { Reflect::get(blobs, &JsValue::from_str(name)).ok() };
    match sent.and_then(|b| b.dyn_into::<Blob>().ok()) {
        Some(b) => Some(b),
        None => bytes.filter(|b| !b.is_empty()).and_then(crate::web::blob::jpeg),
    }
}

/// Object URL of a JPEG Blob of entry `id`, which the session stores; empty without one.
fn stored_url(id: u32, blob: Option<Blob>, kind: Kind) -> String {
    let Some(blob) = blob else { return String::new() };
    outbox::blob_made(id, kind, &blob);
    Url::create_object_url_with_blob(&blob).unwrap_or_default()
}

/// Object URL of the crop the model saw (JPEG from the worker) for entry `id`, which stores it.
fn crop_url(id: u32, cell: &FieldCell) -> String {
    stored_url(id, crate::web::blob::jpeg(&cell.crop_jpeg), Kind::Crop)
}

/// Object URL of the list's preview of entry `id` (stored with the session); empty without one.
fn thumb_url(id: u32, jpeg: Option<&[u8]>) -> String {
    jpeg.map(|j| stored_url(id, crate::web::blob::jpeg(j), Kind::Thumb)).unwrap_or_default()
}

/// Gives cell `c` its new preview, releasing the old one.
fn set_thumb(c: &mut Cell, thumb: String) {
    if thumb.is_empty() {
        return;
    }
    if !c.thumb.is_empty() {
        let _ = Url::revoke_object_url(&c.thumb);
    }
    c.thumb = thumb;
}

/// The second opinion from a `done` reply.
pub fn opinion(result: CellResult, crop: Option<ModelCrop>, blobs: &JsValue) -> Opinion {
    let crop_url =
        crop.map(|k| given_jpeg(blobs, "crop", Some(&k.jpeg)).and_then(|b| Url::create_object_url_with_blob(&b).ok()).unwrap_or_default());
    Opinion { result: Arc::new(result), crop_url }
}

/// Entry `id` was classified as a single cell.
pub fn done(state: AppState, id: u32, result: CellResult, crop: Option<ModelCrop>, thumb: Option<Vec<u8>>, blobs: &JsValue) {
    let crop = crop.map(|k| {
        let url = stored_url(id, given_jpeg(blobs, "crop", Some(&k.jpeg)), Kind::Crop);
        Arc::new(CropView { url, bbox: k.bbox, nucleus_px: k.nucleus_px, scale: k.scale })
    });
    let thumb = stored_url(id, given_jpeg(blobs, "thumb", thumb.as_deref()), Kind::Thumb);
    state.update_cell(id, |c| {
        c.state = CellState::Done;
        c.progress = None;
        c.result = Some(Arc::new(result));
        set_thumb(c, thumb);
        if let Some(old) = c.crop.take() {
            let _ = Url::revoke_object_url(&old.url);
        }
        c.crop = crop;
    });
}

/// The cell clicked on a field (entry `id`) was found and classified.
pub fn added(state: AppState, id: u32, cell: FieldCell) {
    let url = crop_url(id, &cell);
    let thumb = thumb_url(id, cell.thumb.as_deref());
    state.update_cell(id, |c| {
        c.state = CellState::Done;
        c.progress = None;
        c.url = url;
        set_thumb(c, thumb);
        if let Some(f) = &c.field {
            c.field = Some(Arc::new(FieldRef { bbox: cell.bbox, ..(**f).clone() }));
        }
        c.result = Some(Arc::new(cell.result));
    });
}

/// Entry `id` could not be classified.
pub fn failed(state: AppState, id: u32, message: String) {
    console::warn("file", &message);
    state.update_cell(id, |c| {
        c.state = CellState::Error;
        c.error = Some(message);
    });
}

/// Where the worker is within entry `id`.
pub fn progress(state: AppState, id: u32, stage: &str, done: u32, total: u32) {
    let text = if total > 0 { format!("{stage} {}/{total}", done + 1) } else { format!("{stage}…") };
    state.update_cell(id, |c| c.progress = Some(text));
}

/// A dropped file turned out to be a field: its entry becomes the field's, and each white cell
/// found joins the batch right after it, as a cell of its own (with its field and box);
/// `new_ids(n)` reserves their ids (returns the first).
pub fn field(state: AppState, id: u32, field: FieldResult, new_ids: impl FnOnce(u32) -> u32) {
    let Some(parent) = state.cell(id) else { return };
    let first_id = new_ids(field.cells.len() as u32);
    let children: Vec<Cell> = field
        .cells
        .iter()
        .enumerate()
        .map(|(k, fc)| {
            let child = first_id + k as u32;
            Cell {
                url: crop_url(child, fc),
                thumb: thumb_url(child, fc.thumb.as_deref()),
                result: Some(Arc::new(fc.result.clone())),
                field: Some(Arc::new(FieldRef {
                    field_id: id,
                    field_name: parent.name.clone(),
                    field_url: parent.url.clone(),
                    bbox: fc.bbox,
                    added: fc.added,
                })),
                ..Cell::new(child, format!("{} · cell {}", parent.name, k + 1), CellState::Done)
            }
        })
        .collect();
    console::info("field", &format!("{}: {} (detection {:.0} ms)", parent.name, field.info.layout, field.info.detect_ms));
    let field_thumb = thumb_url(id, field.thumb.as_deref());
    let info = field.info;
    state.cells.update(|cells| {
        if let Some(pos) = cells.iter().position(|c| c.id == id) {
            let c = &mut cells[pos];
            c.state = CellState::Done;
            c.progress = None;
            set_thumb(c, field_thumb);
            c.field_info = Some(Arc::new(info));
            c.rev = c.rev.wrapping_add(1);
            cells.splice(pos + 1..pos + 1, children);
        }
    });
}
