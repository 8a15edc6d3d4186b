//! The core's path ([`marrowscope::pipeline::read_file`]) on the files given, printed as JSON:
//! what the page shows for each file, computed natively.
//!
//! ```text
//! cargo run --example outcomes -- [--model public/model] FILE...
//! ```
//! Prints one array, a record per file in the order given:
//! `{"name", "reading": "single"|"field", "explain", "width", "height", "cells": [{"box", "code",
//! "probability"}]}`, or `{"name", "error"}` for a file the app cannot read. `box` is `[x, y, w, h]`
//! in the original image's pixels as the page shows it (`data-box`), `null` for a single cell whose
//! crop was not cut around a measured cell; `code` and `probability` are the top class. A field's
//! cells come in detection order, less any skipped (listed under `"skipped"`).
//! `tests/e2e/pipeline.test.mjs` compares this with the built site.

use marrowscope::cells::fields::Layout;
use marrowscope::{pipeline, Classifier};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The record of one file.
fn outcome_of(clf: &mut Classifier, path: &Path) -> Value {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    let read = std::fs::read(path)
        .map_err(|e| format!("{}: {e}", path.display()))
        .and_then(|bytes| pipeline::read_file(clf, &bytes, &mut |_| {}).map_err(|e| e.to_string()));
    let o = match read {
        Ok(o) => o,
        Err(error) => return json!({"name": name, "error": error}),
    };
    let cells: Vec<Value> = o
        .cells
        .iter()
        .map(|c| json!({"box": c.bbox, "code": c.prediction.top().code, "probability": c.prediction.top().probability}))
        .collect();
    let skipped: Vec<Value> = o.skipped.iter().map(|s| json!({"index": s.index, "error": s.error.to_string()})).collect();
    json!({
        "name": name,
        "reading": match o.layout { Layout::Single => "single", Layout::Field => "field" },
        "explain": o.explain,
        "width": o.width,
        "height": o.height,
        "cells": cells,
        "skipped": skipped,
    })
}

fn run() -> Result<(), String> {
    let mut model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("public/model");
    let mut files = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--model" => model = PathBuf::from(it.next().ok_or("--model needs a folder")?),
            "-h" | "--help" => return Err("usage: outcomes [--model DIR] FILE...".into()),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if files.is_empty() {
        return Err("usage: outcomes [--model DIR] FILE...".into());
    }
    let mut clf = Classifier::from_dir(&model).map_err(|e| e.to_string())?;
    let records: Vec<Value> = files.iter().map(|f| outcome_of(&mut clf, f)).collect();
    println!("{}", serde_json::to_string_pretty(&records).map_err(|e| e.to_string())?);
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("outcomes: {e}");
        std::process::exit(2);
    }
}
