//! The session's IndexedDB database: its stores (`sessions`, `cells`, `blobs`, see the module
//! above), their keys, and the whole records read and written outside a flush.

use crate::session::record::{self, SessionMeta, StoredCell};
use crate::web::idb;
use js_sys::Array;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, IdbDatabase, IdbKeyRange};

const DB_NAME: &str = "marrowscope";
const DB_VERSION: u32 = 1;
pub(super) const SESSIONS: &str = "sessions";
pub(super) const CELLS: &str = "cells";
pub(super) const BLOBS: &str = "blobs";
/// Above the highest cell id: the upper bound of a session's key range.
const ID_END: f64 = 4_294_967_296.0;

/// The key of entry `id` of session `sid` (`cells`).
pub(super) fn key2(sid: &str, id: f64) -> JsValue {
    Array::of2(&JsValue::from_str(sid), &JsValue::from(id)).into()
}

/// The key of entry `id`'s blob `kind` of session `sid` (`blobs`: `file`, `crop`, `thumb`).
pub(super) fn key3(sid: &str, id: u32, kind: &str) -> JsValue {
    Array::of3(&JsValue::from_str(sid), &JsValue::from(id), &JsValue::from_str(kind)).into()
}

/// Keys of entries `from..to` of a session (cells and blobs alike).
pub(super) fn range(sid: &str, from: f64, to: f64) -> Result<IdbKeyRange, String> {
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

/// Opens the database, creating its stores the first time.
pub(super) async fn open() -> Result<IdbDatabase, String> {
    idb::open(DB_NAME, DB_VERSION, upgrade).await
}

pub(super) async fn list_sessions(db: &IdbDatabase) -> Result<Vec<SessionMeta>, String> {
    let tx = idb::transaction(db, &[SESSIONS], false)?;
    let store = tx.object_store(SESSIONS).map_err(|e| idb::error_text(&e))?;
    let all = idb::request(&store.get_all().map_err(|e| idb::error_text(&e))?).await?;
    let mut out: Vec<SessionMeta> =
        Array::from(&all).iter().filter_map(|v| v.as_string()).filter_map(|t| SessionMeta::from_json(&t)).collect();
    record::newest_first(&mut out);
    Ok(out)
}

pub(super) async fn load_session(db: &IdbDatabase, sid: &str) -> Result<(Vec<StoredCell>, HashMap<(u32, String), Blob>), String> {
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

pub(super) async fn write_meta(db: &IdbDatabase, meta: &SessionMeta) -> Result<(), String> {
    let tx = idb::transaction(db, &[SESSIONS], true)?;
    let store = tx.object_store(SESSIONS).map_err(|e| idb::error_text(&e))?;
    store.put_with_key(&JsValue::from_str(&meta.to_json()), &JsValue::from_str(&meta.id)).map_err(|e| idb::error_text(&e))?;
    idb::committed(&tx).await
}

pub(super) async fn delete_from_db(db: &IdbDatabase, sid: &str) -> Result<(), String> {
    let err = |e: JsValue| idb::error_text(&e);
    let tx = idb::transaction(db, &[SESSIONS, CELLS, BLOBS], true)?;
    let r = range(sid, 0.0, ID_END)?;
    tx.object_store(CELLS).map_err(err)?.delete(&r).map_err(err)?;
    tx.object_store(BLOBS).map_err(err)?.delete(&r).map_err(err)?;
    tx.object_store(SESSIONS).map_err(err)?.delete(&JsValue::from_str(sid)).map_err(err)?;
    idb::committed(&tx).await
}
