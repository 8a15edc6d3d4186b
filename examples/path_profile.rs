//! Where the worker's time goes per image (native): the same steps as `web::worker::classify`
//! for a single-cell image — decode, deciding single cell or field, finding and cutting the
//! cell, preprocessing, inference (with the out-of-distribution and source scores), the class
//! map, the crop's JPEG for the page and the list's preview — timed one by one on real test
//! images of both sources. A diagnostic for docs/benchmarks.md (issue 17, item 6).
//!
//! `cargo run --release --example path_profile -- [--n 100]`

use marrowscope::cells::crop::{self, Around};
use marrowscope::cells::fields;
use marrowscope::eval::dataset;
use marrowscope::image::{decode, preprocess};
use marrowscope::model::cam;
use marrowscope::{Classifier, Manifest};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut n = 100usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--n" => n = args.next().and_then(|v| v.parse().ok()).expect("--n NUMBER"),
            _ => panic!("usage: path_profile [--n N]"),
        }
    }
    let dir = root.join("public/model");
    let m = Manifest::from_json(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let scale = m.input.cell_scale.expect("the shipped manifest has cell_scale");
    let mut c = Classifier::new(m.clone(), &std::fs::read(dir.join(&m.onnx_file)).unwrap()).unwrap();
    const STEPS: [&str; 9] = [
        "read file",
        "decode",
        "single or field",
        "find + cut cell",
        "preprocess",
        "inference + scores",
        "class maps (all)",
        "crop JPEG",
        "preview JPEG",
    ];
    for (source, data) in [
        ("MLL marrow crops 250x250", "../shared/data/mll-subset"),
        ("PBC blood crops 224x224", "../shared/data/pbc"),
        ("pbc-sample originals 360x363", "../shared/data/pbc-sample"),
    ] {
        let items = dataset::from_dir(&root.join(data)).unwrap();
        let items: Vec<_> = items.iter().filter(|i| i.split == "test" || data.ends_with("sample")).collect();
        let step = (items.len() / n).max(1);
        let mut t = vec![Vec::new(); STEPS.len()];
        for item in items.iter().step_by(step).take(n) {
            let mut lap = Instant::now();
            let mut tick = |k: usize, lap: &mut Instant| {
                t[k].push(lap.elapsed().as_secs_f64() * 1e3);
                *lap = Instant::now();
            };
            let bytes = std::fs::read(&item.path).unwrap();
            tick(0, &mut lap);
            let d = decode::decode(&bytes).unwrap();
            tick(1, &mut lap);
            let analysis = fields::analyse(&d.image);
            tick(2, &mut lap);
            let crop = crop::cut(&d.image, Around::Centre, &scale).unwrap();
            tick(3, &mut lap);
            let tensor = preprocess::to_tensor(&crop.image, &m.input);
            tick(4, &mut lap);
            let p = c.classify_tensor(&tensor).unwrap();
            tick(5, &mut lap);
            let _maps: usize = (0..m.classes.len()).filter_map(|k| p.heatmap(&m, k)).map(|h: cam::Heatmap| h.values.len()).sum();
            tick(6, &mut lap);
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&crop.image).unwrap();
            tick(7, &mut lap);
            let _thumb = marrowscope::image::thumbnail::jpeg(&d.image).unwrap();
            tick(8, &mut lap);
            let _ = analysis;
        }
        let count = t[0].len();
        println!("{source}: {count} images, median ms per step");
        let mut total = 0.0;
        for (k, name) in STEPS.iter().enumerate() {
            let mut v = t[k].clone();
            v.sort_by(f64::total_cmp);
            let med = v[v.len() / 2];
            total += med;
            println!("  {name:<20} {med:7.2}");
        }
        println!("  {:<20} {total:7.2}", "sum of medians");
    }
}
