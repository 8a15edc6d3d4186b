//! Messages between the page and the classification worker.

use crate::classify::Ranked;
use serde::{Deserialize, Serialize};

/// What the worker found for one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    pub ranked: Vec<Ranked>,
    pub low_confidence: bool,
    pub width: u32,
    pub height: u32,
    pub format: String,
    /// Class activation maps for every class, in manifest order, each `heat_w × heat_h`.
    pub heat_w: usize,
    pub heat_h: usize,
    pub heatmaps: Vec<Vec<f32>>,
    pub ms: f64,
    /// The out-of-distribution flag (absent when the manifest has no `ood` statistics).
    #[serde(default)]
    pub ood: Option<crate::ood::OodAssessment>,
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reply {
    Alive,
    /// `simd`: the WebAssembly instruction set this worker was compiled for
    /// (`relaxed` = SIMD128 + relaxed SIMD, `simd128`, or `scalar`).
    Loaded {
        model_id: String,
        load_ms: f64,
        simd: String,
    },
    LoadError {
        message: String,
    },
    Done {
        id: u32,
        result: CellResult,
    },
    Failed {
        id: u32,
        message: String,
    },
    Crashed {
        message: String,
    },
    /// Timings of repeated inference on one image (benchmarks).
    Bench {
        id: u32,
        preprocess_ms: f64,
        inference_ms: Vec<f64>,
    },
}
