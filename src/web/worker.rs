//! The classification worker: owns the model, classifies one file per message,
//! so the page never blocks on inference. The path from a file's bytes to its outcome is the
//! core's ([`crate::pipeline`]); this glue turns the outcome into protocol messages and Blobs.
//!
//! Page → worker messages are plain JS objects:
//! `{kind: "load", manifest: string, model: ArrayBuffer}` (answered by `loaded` or `load_error`),
//! `{kind: "preload", manifest, model}` (from public/worker-boot.js, before the page's code runs:
//! loaded at once, answered only when the page's own `load` of the same manifest comes),
//! `{kind: "classify", id: number, bytes: ArrayBuffer, one_cell?: true}` (a single cell, answered
//! by `done`, or a field, answered by `field` with every white cell found, each classified;
//! `progress` on the way; with `one_cell` always a single cell: an image known to be one),
//! `{kind: "cell_at", id, bytes, x, y, nucleus?}` (a cell the person clicked on a field: `added`),
//! `{kind: "detect", id, width, height, rgba: ArrayBuffer}` (a live camera frame's pixels: its
//! white cells found, nothing classified, answered by `boxes`; needs no model, so the camera's
//! own worker never loads one),
//! `{kind: "selftest_oom_next"}` (test hook: run out of memory on the next file).

use super::protocol::{Reply, BLOBS};
use super::{console, marks};
use crate::cells::fields::Layout;
use crate::classify::Classifier;
use crate::model::manifest::{sha256_hex, Manifest};
use crate::pipeline::{self, CellOutcome, Step};
use crate::results::{CellResult, FieldCell, FieldInfo, FieldResult, ModelCrop};
use js_sys::{ArrayBuffer, Reflect, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// The model public/worker-boot.js handed over before the page's code ran (`preload`): loaded
/// like any other, but answered only when the page's own `load` of the same manifest comes, so
/// that the page's pool sees one answer per `load` it sent.
struct Preload {
    manifest: String,
    /// Its load's answer; `None` while it loads.
    reply: Option<Reply>,
    /// The page asked for this model while it was loading: answer when done.
    asked: bool,
}

thread_local! {
    static CLASSIFIER: RefCell<Option<Classifier>> = const { RefCell::new(None) };
    static PRELOAD: RefCell<Option<Preload>> = const { RefCell::new(None) };
    /// Counts the loads begun: a load installs its model only if no other began since.
    static LOADS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Test hook: run out of memory on the next file (`selftest_oom_next`).
    static OOM_NEXT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Takes memory until there is none left, as a file too large for the worker would: the
/// allocator's failure ends the worker, and the page must recover (test hook only).
fn run_out_of_memory() -> ! {
    let mut hog: Vec<Vec<u8>> = Vec::new();
    loop {
        let chunk: Vec<u8> = Vec::with_capacity(256 << 20);
        hog.push(std::hint::black_box(chunk));
    }
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(reply: &Reply) {
    post_with(reply, None);
}

/// Posts `reply`, with `blobs` under `protocol::BLOBS` when given.
fn post_with(reply: &Reply, blobs: Option<&js_sys::Object>) {
    match serde_wasm_bindgen::to_value(reply) {
        Ok(v) => {
            if let Some(b) = blobs {
                let _ = Reflect::set(&v, &JsValue::from_str(BLOBS), b);
            }
            if let Err(e) = scope().post_message(&v) {
                console::error("worker", &format!("could not post a message: {e:?}"));
            }
        }
        Err(e) => console::error("worker", &format!("could not encode a message: {e}")),
    }
}

/// Posts a reply; a single cell's crop and preview go as Blobs made here (`protocol::BLOBS`).
fn post_reply(mut reply: Reply) {
    let Reply::Done { crop, thumb, .. } = &mut reply else { return post(&reply) };
    let blobs = js_sys::Object::new();
    if let Some(k) = crop {
        if let Some(b) = super::blob::jpeg(&k.jpeg) {
            let _ = Reflect::set(&blobs, &JsValue::from_str("crop"), &b);
            k.jpeg = Vec::new();
        }
    }
    if let Some(b) = thumb.as_deref().and_then(super::blob::jpeg) {
        let _ = Reflect::set(&blobs, &JsValue::from_str("thumb"), &b);
        *thumb = None;
    }
    post_with(&reply, Some(&blobs));
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn bytes_of(v: &JsValue) -> Option<Vec<u8>> {
    if let Some(buf) = v.dyn_ref::<ArrayBuffer>() {
        Some(Uint8Array::new(buf).to_vec())
    } else {
        v.dyn_ref::<Uint8Array>().map(|a| a.to_vec())
    }
}

/// The instruction set this bundle was compiled for. `scripts/build.sh --relaxed-simd` ships a
/// second, relaxed-SIMD bundle, which the loader picks where the browser has relaxed SIMD.
const SIMD: &str = if cfg!(target_feature = "relaxed-simd") {
    "relaxed"
} else if cfg!(target_feature = "simd128") {
    "simd128"
} else {
    "scalar"
};

fn now() -> f64 {
    js_sys::Date::now()
}

/// Starts the SHA-256 of `buffer` by the browser's own code (`crypto.subtle`, on a thread of its
/// own); `None` where there is none (a page served over plain HTTP from another computer).
fn start_browser_sha256(buffer: &JsValue) -> Option<wasm_bindgen_futures::JsFuture> {
    let subtle = Reflect::get(&Reflect::get(&js_sys::global(), &"crypto".into()).ok()?, &"subtle".into()).ok()?;
    let digest: js_sys::Function = Reflect::get(&subtle, &"digest".into()).ok()?.dyn_into().ok()?;
    let promise: js_sys::Promise = digest.call2(&subtle, &"SHA-256".into(), buffer).ok()?.dyn_into().ok()?;
    Some(wasm_bindgen_futures::JsFuture::from(promise))
}

/// Loads the model while the browser computes its checksum (`digest`, started when the model
/// arrived), then compares the two: a file that does not match its manifest gets the checksum
/// error, whatever its read gave, and no result ever comes from an unchecked model.
/// A model that another load began after this one is not installed (its answer still goes).
async fn load(manifest: &str, model: &[u8], digest: Option<wasm_bindgen_futures::JsFuture>) -> Reply {
    marks::mark("worker-load-start");
    let generation = LOADS.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    let t0 = now();
    let result: crate::error::Result<Classifier> = async {
        let m = Manifest::from_json(manifest)?;
        marks::mark("worker-manifest-parsed");
        let read = Classifier::read_unchecked(m.clone(), model, &mut |phase| marks::mark(&format!("worker-{phase}")));
        let hex = match digest {
            Some(f) => f.await.ok().map(|hash| hex::encode(Uint8Array::new(&hash).to_vec())),
            None => None,
        }
        .unwrap_or_else(|| sha256_hex(model));
        match read {
            Ok(unchecked) => unchecked.check(&hex),
            // A file that does not match its manifest says so, whatever its read gave.
            Err(e) => m.verify_model_digest(&hex).and(Err(e)),
        }
    }
    .await;
    match result {
        Ok(c) => {
            marks::mark("worker-checked");
            let model_id = c.manifest().model_id.clone();
            if LOADS.with(|n| n.get()) == generation {
                CLASSIFIER.with(|cell| *cell.borrow_mut() = Some(c));
            }
            let load_ms = now() - t0;
            marks::mark("worker-model-ready");
            console::info("worker", &format!("model {model_id} ready in {load_ms:.0} ms ({SIMD})"));
            Reply::Loaded { model_id, load_ms, simd: SIMD.to_string() }
        }
        Err(e) => {
            console::error("model", &e.to_string());
            Reply::LoadError { message: e.to_string() }
        }
    }
}

/// Starts loading the model in `buffer` (an `ArrayBuffer` or bytes) with its `manifest`, the
/// browser computing the checksum on its own thread meanwhile; `then` gets the answer. False
/// when `buffer` holds no bytes.
fn start_load(manifest: String, buffer: &JsValue, then: impl FnOnce(Reply) + 'static) -> bool {
    let Some(model) = bytes_of(buffer) else { return false };
    marks::mark("worker-model-received");
    let digest = start_browser_sha256(buffer);
    wasm_bindgen_futures::spawn_local(async move { then(load(&manifest, &model, digest).await) });
    true
}

/// Loads the model public/worker-boot.js handed over; its answer is kept for the page's `load`.
fn preload(manifest: String, buffer: &JsValue) {
    let pending = Preload { manifest: manifest.clone(), reply: None, asked: false };
    if !start_load(manifest.clone(), buffer, move |reply| {
        let asked = PRELOAD.with(|p| {
            let mut p = p.borrow_mut();
            match p.as_mut() {
                Some(pre) if pre.manifest == manifest && pre.asked => {
                    *p = None;
                    true
                }
                Some(pre) if pre.manifest == manifest => {
                    pre.reply = Some(reply.clone());
                    false
                }
                // The page loaded another model meanwhile: this one was not installed.
                _ => false,
            }
        });
        if asked {
            post(&reply);
        }
    }) {
        return;
    }
    PRELOAD.with(|p| *p.borrow_mut() = Some(pending));
}

/// The page's `load` of the model worker-boot.js already handed over: answered now, or when that
/// load ends. False (load as asked) after its error, for another model, or without a preload.
fn answered_by_preload(manifest: &str) -> bool {
    let Some(mut pre) = PRELOAD.with(|p| p.borrow_mut().take()).filter(|pre| pre.manifest == manifest) else { return false };
    match pre.reply.take() {
        Some(loaded @ Reply::Loaded { .. }) => {
            post(&loaded);
            true
        }
        Some(_) => false,
        None => {
            pre.asked = true;
            PRELOAD.with(|p| *p.borrow_mut() = Some(pre));
            true
        }
    }
}

/// Size of this worker's WebAssembly memory, MB.
fn memory_mb() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory.buffer().unchecked_into::<ArrayBuffer>().byte_length() as f64 / (1 << 20) as f64
}

fn progress(id: u32, stage: &str, done: usize, total: usize) {
    post(&Reply::Progress { id, stage: stage.to_string(), done: done as u32, total: total as u32 });
}

/// A crop as the page shows it (JPEG, quality 90): the page shows exactly what the model saw.
fn crop_jpeg(crop: &image::RgbImage) -> Result<Vec<u8>, String> {
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(crop).map_err(|e| e.to_string())?;
    Ok(jpeg)
}

/// A field's cell (found, or `added` by a click) for the page; `ms`: the time it took.
fn field_cell(c: &Classifier, cell: &CellOutcome, added: bool, ms: f64) -> Result<FieldCell, String> {
    Ok(FieldCell {
        // A field's cell always has its box (`pipeline::CellOutcome::bbox`).
        bbox: cell.bbox.unwrap_or_default(),
        added,
        thumb: crate::image::thumbnail::jpeg(&cell.crop).ok(),
        crop_jpeg: crop_jpeg(&cell.crop)?,
        result: CellResult::from_prediction(c.manifest(), &cell.prediction, ms, None),
    })
}

/// The crop a single-cell image was brought to, for the page (JPEG) with how it was cut; `None`
/// where the image went to the model whole (no training scale).
fn model_crop(cell: &CellOutcome) -> Option<ModelCrop> {
    let geometry = cell.geometry?;
    Some(ModelCrop { jpeg: crop_jpeg(&cell.crop).ok()?, bbox: cell.bbox, nucleus_px: geometry.nucleus_px, scale: geometry.scale })
}

/// Times each cell of a field (or a clicked cell) between the core's steps: `ms[k]` from cell
/// `k`'s start to its end.
#[derive(Default)]
struct CellClock {
    started: f64,
    ms: Vec<f64>,
}

impl CellClock {
    fn step(&mut self, step: Step) {
        match step {
            Step::ClassifyingCell { .. } => self.started = now(),
            Step::CellDone { k } => {
                self.ms.resize(self.ms.len().max(k + 1), 0.0);
                self.ms[k] = now() - self.started;
            }
            _ => {}
        }
    }
}

/// A dropped file, read by the core ([`pipeline::read_file`]): a single cell (`done`) or a field
/// (`field`), with `progress` on the way for what takes long. With `one_cell`, the image is known
/// to be one cell and is classified as one ([`pipeline::read_file_as`]).
fn classify(id: u32, bytes: &[u8], one_cell: bool) -> Reply {
    let t0 = now();
    CLASSIFIER.with(|cell| {
        let mut guard = cell.borrow_mut();
        let Some(c) = guard.as_mut() else {
            return Reply::Failed { id, message: "The model is not loaded yet.".into() };
        };
        let (mut detect_started, mut detect_ms, mut clock) = (t0, 0.0, CellClock::default());
        let mut observe = |step: Step| {
            match step {
                // Progress for what takes long: decoding a large file, then searching a large image.
                Step::Decoding if bytes.len() > 512 << 10 => progress(id, "decoding", 0, 0),
                Step::FindingCells { width, height } => {
                    if width as u64 * height as u64 > 4_000_000 {
                        progress(id, "finding cells", 0, 0);
                    }
                    detect_started = now();
                }
                Step::Found { .. } => detect_ms = now() - detect_started,
                Step::ClassifyingCell { k, n } => progress(id, "classifying cells", k, n),
                _ => {}
            }
            clock.step(step);
        };
        let layout = one_cell.then_some(Layout::Single);
        let outcome = match pipeline::read_file_as(c, bytes, &mut observe, layout) {
            Ok(o) => o,
            Err(e) => return Reply::Failed { id, message: e.to_string() },
        };
        if outcome.layout == Layout::Single {
            let Some(cell) = outcome.cells.first() else {
                return Reply::Failed { id, message: "The image could not be classified.".into() };
            };
            let crop = model_crop(cell);
            let thumb = crate::image::thumbnail::jpeg(&outcome.image).ok();
            return Reply::Done {
                id,
                result: CellResult::from_prediction(c.manifest(), &cell.prediction, now() - t0, Some(outcome.explain)),
                crop,
                thumb,
            };
        }
        for s in &outcome.skipped {
            console::warn("field", &format!("cell {} of a field was skipped: {}", s.index, s.error));
        }
        let n = outcome.cells.len() + outcome.skipped.len() + outcome.too_small.len();
        let mut cells = Vec::with_capacity(outcome.cells.len());
        // The cells kept, in detection order: their places among all found skip the skipped ones
        // and those too small to classify (sent as boxes only).
        let kept = (0..n).filter(|k| !outcome.skipped.iter().any(|s| s.index == *k) && !outcome.too_small.iter().any(|s| s.index == *k));
        for (cell, k) in outcome.cells.iter().zip(kept) {
            match field_cell(c, cell, false, clock.ms.get(k).copied().unwrap_or(0.0)) {
                Ok(fc) => cells.push(fc),
                Err(e) => console::warn("field", &format!("cell {k} of a field was skipped: {e}")),
            }
        }
        let (width, height) = (outcome.width, outcome.height);
        let ms = now() - t0;
        console::info(
            "field",
            &format!(
                "{width}x{height}: {n} white cells; detection {detect_ms:.0} ms, whole file {ms:.0} ms, wasm memory {:.0} MB",
                memory_mb()
            ),
        );
        Reply::Field {
            id,
            field: FieldResult {
                info: FieldInfo {
                    width,
                    height,
                    format: outcome.format.to_string(),
                    layout: outcome.explain,
                    typical_nucleus_px: outcome.typical_nucleus_px,
                    detect_ms,
                    ms,
                    memory_mb: memory_mb(),
                    too_small: outcome.too_small.iter().map(|t| t.bbox).collect(),
                },
                thumb: crate::image::thumbnail::jpeg(&outcome.image).ok(),
                cells,
            },
        }
    })
}

/// A cell the person clicked on a field (`x`, `y` in the original image's pixels), read by the
/// core ([`pipeline::cell_at`]).
fn cell_at(id: u32, bytes: &[u8], x: f32, y: f32, typical_nucleus_px: Option<f32>) -> Reply {
    CLASSIFIER.with(|cell| {
        let mut guard = cell.borrow_mut();
        let Some(c) = guard.as_mut() else {
            return Reply::Failed { id, message: "The model is not loaded yet.".into() };
        };
        let mut clock = CellClock::default();
        let found = match pipeline::cell_at(c, bytes, x, y, typical_nucleus_px, &mut |step| clock.step(step)) {
            Ok(found) => found,
            Err(e) => return Reply::Failed { id, message: e.to_string() },
        };
        match field_cell(c, &found, true, clock.ms.first().copied().unwrap_or(0.0)) {
            Ok(cell) => Reply::Added { id, cell },
            Err(message) => Reply::Failed { id, message },
        }
    })
}

/// Decodes and preprocesses once, then times `n` inferences of the same tensor.
fn bench(id: u32, bytes: &[u8], n: usize) -> Reply {
    CLASSIFIER.with(|cell| {
        let mut guard = cell.borrow_mut();
        let Some(c) = guard.as_mut() else {
            return Reply::Failed { id, message: "The model is not loaded yet.".into() };
        };
        let t0 = now();
        let tensor = match crate::image::decode::decode(bytes) {
            Ok(d) => crate::image::preprocess::to_tensor(&d.image, &c.manifest().input),
            Err(e) => return Reply::Failed { id, message: e.to_string() },
        };
        let preprocess_ms = now() - t0;
        let perf = scope().performance();
        let clock = || perf.as_ref().map(|p| p.now()).unwrap_or_else(now);
        let mut inference_ms = Vec::with_capacity(n);
        for _ in 0..n {
            let t = clock();
            if let Err(e) = c.classify_tensor(&tensor) {
                return Reply::Failed { id, message: e.to_string() };
            }
            inference_ms.push(clock() - t);
        }
        Reply::Bench { id, preprocess_ms, inference_ms }
    })
}

fn on_message(ev: MessageEvent) {
    handle(ev.data());
}

fn handle(data: JsValue) {
    let kind = get(&data, "kind").as_string().unwrap_or_default();
    if matches!(kind.as_str(), "classify" | "cell_at") && OOM_NEXT.with(|f| f.replace(false)) {
        run_out_of_memory();
    }
    let reply = match kind.as_str() {
        "selftest_oom_next" => {
            OOM_NEXT.with(|f| f.set(true));
            return;
        }
        "preload" => {
            // Once the page's own `load` came first, that one does it all.
            if LOADS.with(|n| n.get()) == 0 {
                preload(get(&data, "manifest").as_string().unwrap_or_default(), &get(&data, "model"));
            }
            return;
        }
        "load" => {
            let manifest = get(&data, "manifest").as_string().unwrap_or_default();
            if answered_by_preload(&manifest) || start_load(manifest, &get(&data, "model"), |reply| post(&reply)) {
                return;
            }
            Reply::LoadError { message: "no model bytes were sent to the worker".into() }
        }
        "classify" => {
            let id = get(&data, "id").as_f64().unwrap_or(-1.0) as u32;
            match bytes_of(&get(&data, "bytes")) {
                Some(bytes) => classify(id, &bytes, get(&data, "one_cell").is_truthy()),
                None => Reply::Failed { id, message: "The file could not be read.".into() },
            }
        }
        "cell_at" => {
            let id = get(&data, "id").as_f64().unwrap_or(-1.0) as u32;
            let x = get(&data, "x").as_f64().unwrap_or(0.0) as f32;
            let y = get(&data, "y").as_f64().unwrap_or(0.0) as f32;
            let nucleus = get(&data, "nucleus").as_f64().map(|v| v as f32);
            match bytes_of(&get(&data, "bytes")) {
                Some(bytes) => cell_at(id, &bytes, x, y, nucleus),
                None => Reply::Failed { id, message: "The file could not be read.".into() },
            }
        }
        "detect" => {
            let id = get(&data, "id").as_f64().unwrap_or(-1.0) as u32;
            let width = get(&data, "width").as_f64().unwrap_or(0.0) as u32;
            let height = get(&data, "height").as_f64().unwrap_or(0.0) as u32;
            let t0 = now();
            match bytes_of(&get(&data, "rgba")).and_then(|rgba| crate::capture::live_boxes(&rgba, width, height)) {
                Some(f) => Reply::Boxes { id, width, height, boxes: f.boxes, too_dark: f.too_dark, ms: now() - t0 },
                None => Reply::Failed { id, message: "The camera's frame could not be read.".into() },
            }
        }
        "bench" => {
            let id = get(&data, "id").as_f64().unwrap_or(-1.0) as u32;
            let n = get(&data, "n").as_f64().unwrap_or(50.0) as usize;
            match bytes_of(&get(&data, "bytes")) {
                Some(bytes) => bench(id, &bytes, n),
                None => Reply::Failed { id, message: "no bytes".into() },
            }
        }
        other => {
            console::warn("worker", &format!("unknown message kind {other:?}"));
            return;
        }
    };
    post_reply(reply);
}

/// Entry point of the worker bundle.
pub fn start() {
    console::install_panic_hook(|msg| post(&Reply::Crashed { message: msg.to_string() }));
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(on_message);
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    marks::mark("worker-alive");
    post(&Reply::Alive);
    // What came before this ran, kept by the loader (scripts/worker-loader.mjs): public/worker-boot.js's
    // `preload`, or the page's first messages.
    let early = Reflect::get(&js_sys::global(), &"__marrowscopeEarly".into()).ok().and_then(|v| v.dyn_into::<js_sys::Array>().ok());
    let _ = Reflect::delete_property(&js_sys::global(), &"__marrowscopeEarly".into());
    for data in early.iter().flat_map(|a| a.iter()) {
        handle(data);
    }
}
