//! Shared helpers for the native integration tests: real data, the shipped model.
#![allow(dead_code)]

use marrowscope::eval::dataset::{self, Item};
use marrowscope::{Classifier, Manifest};
use std::path::PathBuf;

/// The checkout under test. `cargo test` sets CARGO_MANIFEST_DIR when it runs a test, and that
/// is preferred to the compile-time value: clones share one build directory (scripts/setup.sh),
/// and an unchanged test binary built in another clone would otherwise read that clone's files.
pub fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The MLL subset (or a folder of the same layout named by `MLL_DATA`).
pub fn mll_dir() -> PathBuf {
    std::env::var_os("MLL_DATA").map(PathBuf::from).unwrap_or_else(|| root().join("../shared/data/mll-subset"))
}

/// The 320 PBC originals (360×363) as users drop them (or `PBC_SAMPLE_DATA`).
pub fn pbc_sample_dir() -> PathBuf {
    std::env::var_os("PBC_SAMPLE_DATA").map(PathBuf::from).unwrap_or_else(|| root().join("../shared/data/pbc-sample"))
}

/// The PBC peripheral-blood set with its splits (or `PBC_DATA`).
pub fn pbc_dir() -> PathBuf {
    std::env::var_os("PBC_DATA").map(PathBuf::from).unwrap_or_else(|| root().join("../shared/data/pbc"))
}

/// One split of the PBC set (labels as MLL codes, platelets `PLT`).
pub fn blood_split(name: &str) -> Vec<Item> {
    let items = dataset::from_dir(&pbc_dir()).unwrap_or_else(|e| panic!("the PBC data must be at {} ({e})", pbc_dir().display()));
    items.into_iter().filter(|i| i.split == name).collect()
}

pub fn split(name: &str) -> Vec<Item> {
    let items = dataset::from_dir(&mll_dir()).unwrap_or_else(|e| panic!("the MLL data must be at {} ({e})", mll_dir().display()));
    items.into_iter().filter(|i| i.split == name).collect()
}

/// `n` MLL test images of each class the model knows, spread over the split.
pub fn test_sample(manifest: &Manifest, n: usize) -> Vec<Item> {
    sample_of(&split("test"), manifest, n)
}

/// `n` images of each class the model knows that `items` has, spread over them.
pub fn sample_of(items: &[Item], manifest: &Manifest, n: usize) -> Vec<Item> {
    let mut out = Vec::new();
    for code in &manifest.classes {
        let of: Vec<&Item> = items.iter().filter(|i| &i.label == code).collect();
        let step = (of.len() / n.max(1)).max(1);
        out.extend(of.into_iter().step_by(step).take(n).cloned());
    }
    out
}

pub fn model_dir() -> PathBuf {
    root().join("public/model")
}

pub fn manifest_text() -> String {
    std::fs::read_to_string(model_dir().join("manifest.json")).expect("public/model/manifest.json is shipped")
}

pub fn manifest() -> Manifest {
    Manifest::from_json(&manifest_text()).expect("the shipped manifest is valid")
}

pub fn model_bytes(m: &Manifest) -> Vec<u8> {
    std::fs::read(model_dir().join(&m.onnx_file)).expect("the shipped model exists")
}

pub fn classifier() -> Classifier {
    let m = manifest();
    let bytes = model_bytes(&m);
    Classifier::new(m, &bytes).expect("the shipped model loads")
}

/// A Python with onnxruntime and Pillow: `MARROWSCOPE_PYTHON` or `PYTHON` if set, else the
/// venv scripts/setup.sh makes in `.tools/py`, else `python3`.
pub fn python() -> String {
    if let Some(p) = std::env::var("MARROWSCOPE_PYTHON").ok().or_else(|| std::env::var("PYTHON").ok()) {
        return p;
    }
    let venv = root().join(".tools/py/bin/python");
    if venv.exists() {
        venv.display().to_string()
    } else {
        "python3".into()
    }
}

/// A single-cell image read the app's way ([`marrowscope::pipeline::read_file`]): its one cell
/// (crop, geometry, prediction). Panics, naming the file, where the app would fail or read a
/// field.
pub fn read_single(clf: &mut Classifier, path: &std::path::Path) -> marrowscope::pipeline::CellOutcome {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // A dataset's crop is one cell, whatever its centre shows: classified as one (the app's single-cell
    // path); whether the app's own decision agrees is tests/fields.rs's and examples/field_shifts.rs's.
    let single = Some(marrowscope::cells::fields::Layout::Single);
    let outcome =
        marrowscope::pipeline::read_file_as(clf, &bytes, &mut |_| {}, single).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    outcome.cells.into_iter().next().unwrap_or_else(|| panic!("{}: a single cell without its cell", path.display()))
}
