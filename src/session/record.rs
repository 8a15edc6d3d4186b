//! A cell and a session as they are stored in the browser. The format is JSON (one record per
//! cell, images stored beside it as blobs), versioned by [`FORMAT`].

use crate::results::{CellResult, FieldInfo};
use crate::uncertainty::conformal::Level;
use serde::{Deserialize, Serialize};

/// The version of the stored format; a record of another version is not read.
pub const FORMAT: u32 = 1;

/// What became of a cell, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredState {
    Done,
    Error,
    Cancelled,
    /// Queued or running when last stored: not classified yet; after a reload it waits for
    /// its file to be given again (or fetched again, for a sample of the gallery).
    Waiting,
}

/// Where a white cell of a field lies in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFieldRef {
    pub field_id: u32,
    pub field_name: String,
    /// `[x, y, w, h]`, pixels of the field image.
    pub bbox: [u32; 4],
    pub added: bool,
}

/// How the crop the model saw was cut (its JPEG is stored beside the record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCrop {
    pub bbox: Option<[u32; 4]>,
    pub nucleus_px: Option<f32>,
    pub scale: f32,
}

/// One entry of the list: a file, a field, or a white cell of a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCell {
    pub id: u32,
    pub name: String,
    pub state: StoredState,
    #[serde(default)]
    pub result: Option<CellResult>,
    /// The person's reassignment.
    #[serde(default)]
    pub final_class: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub field: Option<StoredFieldRef>,
    #[serde(default)]
    pub field_info: Option<FieldInfo>,
    #[serde(default)]
    pub crop: Option<StoredCrop>,
}

impl StoredCell {
    /// The record as stored (JSON).
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail; an empty record would be
        // skipped on reading rather than break the session.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stored record, or `None` for one this version cannot read (it is left alone).
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// The position key of the list: a field's white cells follow their field, in the order
    /// they were found or added; everything else is in the order it arrived.
    pub fn order_key(&self) -> (u32, u32) {
        (self.field.as_ref().map(|f| f.field_id).unwrap_or(self.id), self.id)
    }
}

/// Puts stored cells in the order of the list they came from.
pub fn list_order(cells: &mut [StoredCell]) {
    cells.sort_by_key(StoredCell::order_key);
}

/// A session: a count in progress or finished, and what the person chose in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    pub format: u32,
    /// Unique, e.g. `s-1764258000000-4821`.
    pub id: String,
    /// For the list of sessions, e.g. "27 Nov 2026, 16:05".
    pub name: String,
    /// Milliseconds since 1970.
    pub created_ms: f64,
    pub updated_ms: f64,
    /// Entries in the list and, of them, cells with a result.
    pub entries: u32,
    pub classified: u32,
    #[serde(default)]
    pub selected: Option<u32>,
    /// The coverage level of the prediction sets (percent), which the exports carry.
    #[serde(default)]
    pub coverage_percent: Option<u32>,
    /// What the person said the count is from (`marrow` or `blood`); absent: estimated from the
    /// cells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_kind: Option<String>,
}

impl SessionMeta {
    pub fn new(id: String, now_ms: f64, name: String) -> Self {
        SessionMeta {
            format: FORMAT,
            id,
            name,
            created_ms: now_ms,
            updated_ms: now_ms,
            entries: 0,
            classified: 0,
            selected: None,
            coverage_percent: None,
            count_kind: None,
        }
    }

    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str::<Self>(text).ok().filter(|m| m.format == FORMAT)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The coverage level stored with the session, if it is one the app offers.
    pub fn coverage(&self) -> Option<Level> {
        self.coverage_percent.and_then(|p| Level::parse(&p.to_string()))
    }

    /// One line for the list of sessions.
    pub fn summary(&self) -> String {
        let cells = if self.classified == 1 { "1 cell".to_string() } else { format!("{} cells", self.classified) };
        if self.entries > self.classified {
            format!("{} · {cells} classified of {} entries", self.name, self.entries)
        } else {
            format!("{} · {cells}", self.name)
        }
    }
}

/// Sessions, most recently changed first.
pub fn newest_first(sessions: &mut [SessionMeta]) {
    sessions.sort_by(|a, b| b.updated_ms.total_cmp(&a.updated_ms));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_keeps_its_cells_too_small_and_an_older_field_record_still_loads() {
        // Stored before white cells too small to classify existed: no `too_small`.
        let old = r#"{"id":3,"name":"f.jpg","state":"done","field_info":{"width":640,"height":480,"format":"JPEG","layout":"Field: 1 white cell found","typical_nucleus_px":50.0,"detect_ms":80.0,"ms":300.0,"memory_mb":40.0}}"#;
        let mut cell = StoredCell::from_json(old).expect("an older field record loads");
        assert_eq!(cell.field_info.as_ref().map(|i| i.too_small.len()), Some(0));
        cell.field_info.as_mut().unwrap().too_small = vec![[1, 2, 10, 12], [30, 40, 9, 9]];
        let again = StoredCell::from_json(&cell.to_json()).expect("round trip");
        assert_eq!(again, cell);
        let recs = crate::session::export::records(&[again], None, None, Level::DEFAULT);
        assert_eq!(recs.len(), 2);
        assert!(recs.iter().all(|r| r.too_small && r.final_class.is_empty() && r.field.as_deref() == Some("f.jpg")));
        assert_eq!(recs[1].bbox, Some([30, 40, 9, 9]));
    }
}
