//! Messages between the page and the classification worker, typed both ways: the page posts a
//! [`Request`], the worker answers with [`Reply`]s. Both are serde enums tagged by `kind`
//! (snake case), built with `serde_wasm_bindgen::to_value` and read with `from_value`. Large
//! buffers never go through serde: a request's bytes travel beside it under [`BYTES`] or
//! [`MODEL`] (transferred, not copied), a reply's JPEGs under [`BLOBS`].

use crate::results::{CellResult, FieldCell, FieldResult, ModelCrop};
use serde::{Deserialize, Serialize};

/// Property of a `done` message that holds its JPEGs as browser `Blob`s made in the worker,
/// `{crop?: Blob, thumb?: Blob}`, so that the page's thread neither copies their bytes nor makes
/// the Blobs (it only makes their URLs). A JPEG sent this way is left out of the serialised
/// reply: `ModelCrop::jpeg` is empty and `thumb` absent.
pub const BLOBS: &str = "blobs";

/// Property of a request that holds its bytes (an `ArrayBuffer`, transferred): the file of a
/// `classify`, `cell_at` or `bench`, the RGBA pixels of a `detect`.
pub const BYTES: &str = "bytes";

/// Property of a `load` or `preload` that holds the ONNX model's bytes (an `ArrayBuffer`).
pub const MODEL: &str = "model";

/// Page → worker. The bytes each request needs travel beside it ([`BYTES`], [`MODEL`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    /// The model to use (`manifest.json`'s text; the model under [`MODEL`]): answered by
    /// `loaded` or `load_error`.
    Load { manifest: String },
    /// The same, from public/worker-boot.js before the page's code runs (plain JS, same shape):
    /// loaded at once, answered only when the page's own `load` of the same manifest comes.
    Preload { manifest: String },
    /// A file (under [`BYTES`]): a single cell, answered by `done`, or a field, answered by
    /// `field` with every white cell found, each classified; `progress` on the way. With
    /// `one_cell`, always a single cell: an image known to be one.
    Classify {
        id: u32,
        #[serde(default, skip_serializing_if = "is_false")]
        one_cell: bool,
    },
    /// A cell the person clicked on a field (the field's file under [`BYTES`]; `x`, `y` in its
    /// pixels; `nucleus`: the field's typical nucleus diameter): answered by `added`.
    CellAt {
        id: u32,
        x: f32,
        y: f32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nucleus: Option<f32>,
    },
    /// A live camera frame's RGBA pixels (under [`BYTES`]): its white cells found, nothing
    /// classified, answered by `boxes`; needs no model, so the camera's own worker never loads one.
    Detect { id: u32, width: u32, height: u32 },
    /// Benchmark: `n` inferences of one image (under [`BYTES`]), answered by `bench`.
    Bench {
        id: u32,
        #[serde(default = "bench_runs")]
        n: u32,
    },
    /// Test hook: run out of memory on the next file.
    SelftestOomNext,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Inferences of a `bench` that does not say how many.
fn bench_runs() -> u32 {
    50
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
        /// The crop the model saw, where the model has a training scale (manifest
        /// `input.cell_scale`); absent when the image was resized whole.
        #[serde(default)]
        crop: Option<ModelCrop>,
        /// The list's preview of the image (`crate::image::thumbnail`, JPEG): the list never decodes
        /// the original file.
        #[serde(default, with = "serde_bytes")]
        thumb: Option<Vec<u8>>,
    },
    /// A field: its white cells, each classified (replaces `Done` for that file).
    Field {
        id: u32,
        field: FieldResult,
    },
    /// A cell added by a click on a field (answer to `cell_at`).
    Added {
        id: u32,
        cell: FieldCell,
    },
    /// Progress within one file (large images, fields with many cells).
    Progress {
        id: u32,
        stage: String,
        done: u32,
        total: u32,
    },
    Failed {
        id: u32,
        message: String,
    },
    Crashed {
        message: String,
    },
    /// The white cells of a live camera frame (answer to `detect`): detection only, nothing
    /// classified (`crate::capture::live_boxes`); boxes `[x, y, w, h]` in the frame's pixels.
    Boxes {
        id: u32,
        width: u32,
        height: u32,
        boxes: Vec<[u32; 4]>,
        too_dark: bool,
        ms: f64,
    },
    /// Timings of repeated inference on one image (benchmarks).
    Bench {
        id: u32,
        preprocess_ms: f64,
        inference_ms: Vec<f64>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Each request as the page sends it (its bytes beside it), and read back.
    #[test]
    fn requests_on_the_wire() {
        let cases = [
            (Request::Load { manifest: "{}".into() }, json!({"kind": "load", "manifest": "{}"})),
            (Request::Preload { manifest: "{}".into() }, json!({"kind": "preload", "manifest": "{}"})),
            (Request::Classify { id: 3, one_cell: false }, json!({"kind": "classify", "id": 3})),
            (Request::Classify { id: 4, one_cell: true }, json!({"kind": "classify", "id": 4, "one_cell": true})),
            (
                Request::CellAt { id: 5, x: 120.5, y: 80.0, nucleus: Some(42.0) },
                json!({"kind": "cell_at", "id": 5, "x": 120.5, "y": 80.0, "nucleus": 42.0}),
            ),
            (Request::CellAt { id: 6, x: 1.0, y: 2.0, nucleus: None }, json!({"kind": "cell_at", "id": 6, "x": 1.0, "y": 2.0})),
            (Request::Detect { id: 7, width: 640, height: 480 }, json!({"kind": "detect", "id": 7, "width": 640, "height": 480})),
            (Request::Bench { id: 8, n: 20 }, json!({"kind": "bench", "id": 8, "n": 20})),
            (Request::SelftestOomNext, json!({"kind": "selftest_oom_next"})),
        ];
        for (request, wire) in cases {
            assert_eq!(serde_json::to_value(&request).unwrap(), wire, "{request:?}");
            assert_eq!(serde_json::from_value::<Request>(wire).unwrap(), request);
        }
    }

    /// What plain JS senders (public/worker-boot.js, the bench scripts) post reads too: their
    /// bytes beside the message, whole numbers for coordinates, a bench without its count.
    #[test]
    fn requests_from_plain_js() {
        let read = |v: serde_json::Value| serde_json::from_value::<Request>(v).unwrap();
        assert_eq!(read(json!({"kind": "preload", "manifest": "m", "model": {}})), Request::Preload { manifest: "m".into() });
        assert_eq!(read(json!({"kind": "classify", "id": 1, "bytes": {}})), Request::Classify { id: 1, one_cell: false });
        assert_eq!(
            read(json!({"kind": "cell_at", "id": 2, "x": 10, "y": 20, "nucleus": null})),
            Request::CellAt { id: 2, x: 10.0, y: 20.0, nucleus: None }
        );
        assert_eq!(read(json!({"kind": "bench", "id": 3})), Request::Bench { id: 3, n: 50 });
        assert!(serde_json::from_value::<Request>(json!({"kind": "unknown"})).is_err());
    }
}
