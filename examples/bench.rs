//! Native tract latency of the shipped (or a given) model, per image, after warm-up.
//!
//! `cargo run --release --example bench -- [--model public/model] [--n 200]`

use marrowscope::eval::dataset;
use marrowscope::image::{decode, preprocess};
use marrowscope::{Classifier, Manifest};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut model = root.join("public/model");
    let mut n = 200usize;
    let data = std::env::var_os("MLL_DATA").map(PathBuf::from).unwrap_or_else(|| root.join("../shared/data/mll-subset"));
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model = PathBuf::from(args.next().expect("--model DIR")),
            "--n" => n = args.next().and_then(|v| v.parse().ok()).expect("--n NUMBER"),
            _ => panic!("usage: bench [--model DIR] [--n N]"),
        }
    }
    let text = std::fs::read_to_string(model.join("manifest.json")).expect("manifest.json");
    let m = Manifest::from_json(&text).expect("valid manifest");
    let onnx = std::fs::read(model.join(&m.onnx_file)).expect("model file");
    let t0 = Instant::now();
    let mut clf = Classifier::new(m.clone(), &onnx).expect("model loads");
    let load = t0.elapsed().as_secs_f64() * 1000.0;
    let items: Vec<_> = dataset::from_dir(&data).expect("dataset").into_iter().filter(|i| i.split == "test").collect();
    let tensors: Vec<Vec<f32>> = items
        .iter()
        .cycle()
        .take(n + 20)
        .map(|i| {
            let d = decode::decode(&std::fs::read(&i.path).unwrap()).unwrap();
            preprocess::to_tensor(&d.image, &m.input)
        })
        .collect();
    let mut pre = Vec::new();
    for i in items.iter().take(n) {
        let bytes = std::fs::read(&i.path).unwrap();
        let t = Instant::now();
        let d = decode::decode(&bytes).unwrap();
        let _ = preprocess::to_tensor(&d.image, &m.input);
        pre.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    for t in &tensors[..20] {
        clf.classify_tensor(t).unwrap();
    }
    let mut times: Vec<f64> = tensors[20..]
        .iter()
        .map(|t| {
            let s = Instant::now();
            clf.classify_tensor(t).unwrap();
            s.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let q = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * p).round() as usize]
    };
    println!("model {} {}x{}: load+optimise {load:.0} ms", m.model_id, m.input.width, m.input.height);
    println!("native tract inference over {n} images: p50 {:.2} ms, p95 {:.2} ms", q(&mut times, 0.5), q(&mut times, 0.95));
    println!("decode + preprocess: p50 {:.2} ms, p95 {:.2} ms", q(&mut pre, 0.5), q(&mut pre, 0.95));
}
