//! The page's reactive state: the model, the batch of cells, the selection.

use crate::manifest::Manifest;
use crate::results::{CellResult, FieldInfo};
use leptos::prelude::*;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellState {
    Queued,
    Running,
    Done,
    Error,
    Cancelled,
    /// Restored from storage without a result and without its file: waits for the person to
    /// give the file again (see `crate::session::resume`).
    Waiting,
}

impl CellState {
    pub fn as_str(self) -> &'static str {
        match self {
            CellState::Queued => "queued",
            CellState::Running => "running",
            CellState::Done => "done",
            CellState::Error => "error",
            CellState::Cancelled => "cancelled",
            CellState::Waiting => "waiting",
        }
    }
}

/// How often changes to single cells reach the page, at most (milliseconds).
const NOTIFY_MS: u64 = 100;

thread_local! {
    /// A notice of changed cells is scheduled.
    static NOTICE_PENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// One file of the batch and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub id: u32,
    /// Changes on every update, so keyed lists re-render the row.
    pub rev: u32,
    pub name: String,
    /// Object URL of the file for display (revoked when the cell is removed).
    pub url: String,
    /// Object URL of the list's preview (`crate::image::thumbnail`, made by the worker; revoked with
    /// the cell). Empty until the worker has read the file: the list never shows the original.
    pub thumb: String,
    pub state: CellState,
    pub result: Option<Arc<CellResult>>,
    pub final_class: Option<String>,
    pub error: Option<String>,
    /// For a white cell of a field: which field, and where in it.
    pub field: Option<Arc<FieldRef>>,
    /// For a dropped file that turned out to be a field: what was found (its cells follow it).
    pub field_info: Option<Arc<FieldInfo>>,
    /// Progress within the file while it runs ("finding cells", "classifying cells 2/5").
    pub progress: Option<String>,
    /// For a single-cell image brought to the model's scale: the crop the model saw.
    pub crop: Option<Arc<CropView>>,
}

/// The crop the model saw for a single-cell image, and how it was cut from the original.
#[derive(Debug, Clone, PartialEq)]
pub struct CropView {
    /// Object URL of the crop (JPEG; revoked with the cell).
    pub url: String,
    /// `[x, y, w, h]` of the measured cell in the original; `None`: the central square whole.
    pub bbox: Option<[u32; 4]>,
    pub nucleus_px: Option<f32>,
    /// Crop pixels per original pixel.
    pub scale: f32,
}

impl CropView {
    /// How the crop was made, in words.
    pub fn explain(&self) -> String {
        let times = if (self.scale - 1.0).abs() < 0.05 {
            "at about its own size".to_string()
        } else if self.scale > 1.0 {
            format!("enlarged {:.1}×", self.scale)
        } else {
            format!("reduced to {:.0} %", self.scale * 100.0)
        };
        match (self.bbox, self.nucleus_px) {
            (Some([x, y, w, h]), Some(n)) => format!(
                "The model saw this crop: the central cell (box {x},{y},{w},{h}; nucleus {n:.0} px across) cut out and {times} to the scale it was trained at."
            ),
            _ => format!("No nucleus was found near the centre: the model saw the central square of the image, {times}."),
        }
    }
}

/// Where a cell of a field lies.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    /// The id of the field's own entry in the batch.
    pub field_id: u32,
    /// The dropped file's name.
    pub field_name: String,
    /// Object URL of the field image (owned by the field's entry).
    pub field_url: String,
    /// `[x, y, w, h]` in the original image's pixels.
    pub bbox: [u32; 4],
    /// Added by a click rather than found.
    pub added: bool,
}

impl FieldRef {
    /// `x,y,w,h`, as in `data-box` and the exports.
    pub fn box_text(&self) -> String {
        let [x, y, w, h] = self.bbox;
        format!("{x},{y},{w},{h}")
    }
}

/// The export reads the list's entries as it reads a stored session's
/// (`crate::session::export::records`).
impl crate::session::export::Entry for Cell {
    fn name(&self) -> &str {
        &self.name
    }
    fn result(&self) -> Option<&CellResult> {
        self.result.as_deref()
    }
    fn final_class(&self) -> Option<&str> {
        self.final_class.as_deref()
    }
    fn in_field(&self) -> Option<(&str, [u32; 4])> {
        self.field.as_ref().map(|f| (f.field_name.as_str(), f.bbox))
    }
    fn too_small(&self) -> &[[u32; 4]] {
        self.field_info.as_ref().map(|i| i.too_small.as_slice()).unwrap_or_default()
    }
}

impl Cell {
    /// A new entry named `name`: no image, result or error yet.
    pub fn new(id: u32, name: String, state: CellState) -> Cell {
        Cell {
            id,
            rev: 0,
            name,
            url: String::new(),
            thumb: String::new(),
            state,
            result: None,
            final_class: None,
            error: None,
            field: None,
            field_info: None,
            progress: None,
            crop: None,
        }
    }

    /// Releases the object URLs this cell holds (its file, preview and crop); a field's cells
    /// share the field's URL only by reference, so nothing is released twice.
    pub fn release_urls(&self) {
        for url in [Some(&self.url), Some(&self.thumb), self.crop.as_ref().map(|k| &k.url)].into_iter().flatten() {
            if !url.is_empty() {
                let _ = web_sys::Url::revoke_object_url(url);
            }
        }
    }
    pub fn predicted(&self) -> Option<&str> {
        self.result.as_ref().map(|r| r.ranked[0].code.as_str())
    }
    pub fn probability(&self) -> Option<f32> {
        self.result.as_ref().map(|r| r.ranked[0].probability)
    }
    pub fn final_code(&self) -> Option<&str> {
        self.final_class.as_deref().or(self.predicted())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModelState {
    Loading(String),
    /// `simd`: the worker bundle's instruction set (see `web::protocol::Reply::Loaded`).
    Ready {
        manifest: Arc<Manifest>,
        load_ms: f64,
        source: String,
        simd: String,
    },
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Classify,
    Count,
    Learn,
    Atlas,
    About,
}

/// Shared through context; every field is a cheap `Copy` handle.
#[derive(Clone, Copy)]
pub struct AppState {
    pub model: RwSignal<ModelState>,
    pub cells: RwSignal<Vec<Cell>>,
    pub selected: RwSignal<Option<u32>>,
    pub tab: RwSignal<Tab>,
    pub batch_started: RwSignal<f64>,
    pub fatal: RwSignal<Option<String>>,
    pub gallery: RwSignal<GalleryState>,
    /// Whether and where this session is kept in the browser.
    pub storage: RwSignal<StorageState>,
    /// Sessions stored in this browser (most recent first), the current one included.
    pub sessions: RwSignal<Vec<crate::session::SessionMeta>>,
    /// The current session.
    pub session: RwSignal<Option<crate::session::SessionMeta>>,
    /// Bytes this site keeps in the browser (`navigator.storage.estimate()`), when known.
    pub storage_used: RwSignal<Option<f64>>,
    /// Restored cells whose file is stored and can go on being classified.
    pub resumable: RwSignal<Vec<u32>>,
    /// Changes not yet written to storage.
    pub unsaved: RwSignal<bool>,
    /// What the person said the count is from (`None`: estimated from the cells).
    pub count_kind: RwSignal<Option<crate::count::reference::CountKind>>,
    /// The laboratory profile kept in this browser (`crate::uncertainty::lab`): the prediction
    /// sets use it where it was made with the loaded model.
    pub lab: RwSignal<Option<Arc<crate::uncertainty::lab::LabProfile>>>,
}

/// Whether the session is kept in the browser's storage.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageState {
    Starting,
    /// Every change is stored (a moment after it happens).
    Saved,
    /// Storage is unavailable, full or refused: the session lives in this page only.
    Unavailable(String),
}

impl StorageState {
    pub fn as_str(&self) -> &'static str {
        match self {
            StorageState::Starting => "starting",
            StorageState::Saved => "saved",
            StorageState::Unavailable(_) => "unavailable",
        }
    }
}

/// One entry of `gallery/index.json` (written by `scripts/data/gallery.sh`).
#[derive(Debug, Clone, PartialEq)]
pub struct GalleryItem {
    pub file: String,
    /// An MLL class code, or a code of another dataset (e.g. `PLT`, platelet) that is not one.
    pub label: String,
    /// "marrow" or "blood"; absent in indexes of older builds (all bone marrow).
    pub source: Option<String>,
}

impl GalleryItem {
    /// The source, with bone marrow for older indexes that do not say.
    pub fn source_or_marrow(&self) -> &str {
        self.source.as_deref().unwrap_or("marrow")
    }

    /// The source in words, with its dataset.
    pub fn source_text(&self) -> &'static str {
        match self.source_or_marrow() {
            "blood" => "peripheral blood, PBC dataset",
            _ => "bone marrow, MLL dataset",
        }
    }
}

/// A display name for a gallery label: the MLL class name, "Platelet" for `PLT` (a label of
/// the PBC blood dataset with no MLL class), otherwise the code itself.
pub fn label_name(code: &str) -> &str {
    if code.eq_ignore_ascii_case("PLT") {
        "Platelet"
    } else {
        crate::taxonomy::name_of(code)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum GalleryState {
    Loading,
    Ready(Vec<GalleryItem>),
    Missing,
}

impl AppState {
    pub fn new() -> Self {
        AppState {
            model: RwSignal::new(ModelState::Loading("Starting…".into())),
            cells: RwSignal::new(Vec::new()),
            selected: RwSignal::new(None),
            tab: RwSignal::new(Tab::Classify),
            batch_started: RwSignal::new(0.0),
            fatal: RwSignal::new(None),
            gallery: RwSignal::new(GalleryState::Loading),
            storage: RwSignal::new(StorageState::Starting),
            sessions: RwSignal::new(Vec::new()),
            session: RwSignal::new(None),
            storage_used: RwSignal::new(None),
            resumable: RwSignal::new(Vec::new()),
            unsaved: RwSignal::new(false),
            count_kind: RwSignal::new(None),
            lab: RwSignal::new(None),
        }
    }

    pub fn manifest(&self) -> Option<Arc<Manifest>> {
        match self.model.get() {
            ModelState::Ready { manifest, .. } => Some(manifest),
            _ => None,
        }
    }

    /// Applies `f` to the cell with this id, bumping its revision.
    /// Changes one cell. The list holds the change at once (whatever reads it next sees it), but
    /// the page hears of it at most every [`NOTIFY_MS`]: a worker answers many times a second,
    /// and each notice re-runs the list, the count and the session's bookkeeping over the whole
    /// batch, which for thousands of cells costs more than the answers themselves.
    pub fn update_cell(&self, id: u32, f: impl FnOnce(&mut Cell)) {
        self.cells.update_untracked(|cells| {
            if let Some(c) = cells.iter_mut().find(|c| c.id == id) {
                f(c);
                c.rev = c.rev.wrapping_add(1);
            }
        });
        let cells = self.cells;
        if !NOTICE_PENDING.replace(true) {
            set_timeout(
                move || {
                    NOTICE_PENDING.set(false);
                    cells.notify();
                },
                std::time::Duration::from_millis(NOTIFY_MS),
            );
        }
    }

    /// The cell with this id, without tracking (inside views that must not re-run on every change).
    pub fn cell_untracked(&self, id: u32) -> Option<Cell> {
        self.cells.with_untracked(|cells| cells.iter().find(|c| c.id == id).cloned())
    }

    pub fn cell(&self, id: u32) -> Option<Cell> {
        self.cells.with(|cells| cells.iter().find(|c| c.id == id).cloned())
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}
