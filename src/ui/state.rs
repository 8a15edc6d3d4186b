//! The page's reactive state: the model, the batch of cells, the selection.

use crate::manifest::Manifest;
use crate::web::protocol::CellResult;
use leptos::prelude::*;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellState {
    Queued,
    Running,
    Done,
    Error,
    Cancelled,
}

impl CellState {
    pub fn as_str(self) -> &'static str {
        match self {
            CellState::Queued => "queued",
            CellState::Running => "running",
            CellState::Done => "done",
            CellState::Error => "error",
            CellState::Cancelled => "cancelled",
        }
    }
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
    pub state: CellState,
    pub result: Option<Arc<CellResult>>,
    pub final_class: Option<String>,
    pub error: Option<String>,
}

impl Cell {
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
}

/// One entry of `gallery/index.json` (written by `scripts/gallery.sh`).
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
        }
    }

    pub fn manifest(&self) -> Option<Arc<Manifest>> {
        match self.model.get() {
            ModelState::Ready { manifest, .. } => Some(manifest),
            _ => None,
        }
    }

    /// Applies `f` to the cell with this id, bumping its revision.
    pub fn update_cell(&self, id: u32, f: impl FnOnce(&mut Cell)) {
        self.cells.update(|cells| {
            if let Some(c) = cells.iter_mut().find(|c| c.id == id) {
                f(c);
                c.rev = c.rev.wrapping_add(1);
            }
        });
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
