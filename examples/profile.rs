//! Where tract spends its time on the shipped model: every node of the optimised plan timed over
//! `--n` runs of one preprocessed test image, summed by operator. A diagnostic for
//! docs/benchmarks.md ("what limits it"), not part of the app.
//!
//! `cargo run --release --example profile -- [--model public/model] [--n 50] [--unfused]`
//! (the dev profile optimises tract as well: `cargo run --example profile` gives the same shares)

use marrowscope::eval::dataset;
use marrowscope::image::{decode, preprocess};
use marrowscope::Manifest;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;
use tract_onnx::prelude::*;

fn main() -> TractResult<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut model_dir = root.join("public/model");
    let mut n = 50usize;
    let mut unfused = false;
    let data = std::env::var_os("MLL_DATA").map(PathBuf::from).unwrap_or_else(|| root.join("../shared/data/mll-subset"));
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model_dir = PathBuf::from(args.next().expect("--model DIR")),
            "--n" => n = args.next().and_then(|v| v.parse().ok()).expect("--n NUMBER"),
            "--unfused" => unfused = true,
            _ => panic!("usage: profile [--model DIR] [--n N] [--unfused]"),
        }
    }
    let m = Manifest::from_json(&std::fs::read_to_string(model_dir.join("manifest.json"))?).expect("valid manifest");
    let (w, h) = (m.input.width as usize, m.input.height as usize);
    let mut outputs = vec![m.outputs.logits.clone()];
    outputs.extend(m.outputs.features.clone());
    // The app's own loading (marrowscope::model::inference): the fast int8 weight reader, and the
    // activations' QuantizeLinear → DequantizeLinear pairs fused (`--unfused`: tract's two ops).
    let mut typed = marrowscope::model::dequantize::onnx()
        .model_for_path(model_dir.join(&m.onnx_file))?
        .with_input_fact(0, f32::fact([1, 3, h, w]).into())?
        .with_outputs_by_name(&outputs)?
        .into_typed()?;
    typed.declutter()?;
    if !unfused {
        marrowscope::model::fake_quant::fuse_quantize_dequantize(&mut typed)?;
    }
    typed.optimize()?;
    let plan = typed.into_runnable()?;
    let item = dataset::from_dir(&data).expect("dataset").into_iter().find(|i| i.split == "test").expect("a test image");
    let img = decode::decode(&std::fs::read(&item.path)?).expect("decodes");
    let input: Tensor = tract_ndarray::Array4::from_shape_vec((1, 3, h, w), preprocess::to_tensor(&img.image, &m.input))?.into();
    let mut state = TypedSimpleState::new(&plan)?;
    for _ in 0..5 {
        state.run(tvec!(input.clone().into()))?;
    }
    let mut by_op: HashMap<String, (f64, usize)> = HashMap::new();
    let t0 = Instant::now();
    for _ in 0..n {
        state.run_plan_with_eval(tvec!(input.clone().into()), |session, op_state, node, inputs| {
            let t = Instant::now();
            let r = tract_onnx::tract_core::plan::eval(session, op_state, node, inputs);
            let e = by_op.entry(node.op.name().to_string()).or_default();
            e.0 += t.elapsed().as_secs_f64() * 1000.0;
            e.1 += 1;
            r
        })?;
    }
    let total = t0.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let mut rows: Vec<_> = by_op.into_iter().collect();
    rows.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
    let timed: f64 = rows.iter().map(|r| r.1 .0).sum::<f64>() / n as f64;
    println!(
        "model {} ({}x{}), {} nodes in the plan, {n} runs: {total:.2} ms per run, {timed:.2} ms inside nodes",
        m.model_id,
        w,
        h,
        plan.model().nodes().len()
    );
    println!("{:<28} {:>8} {:>7} {:>6}", "operator", "ms/run", "share", "nodes");
    for (op, (ms, count)) in rows {
        println!("{:<28} {:>8.2} {:>6.1}% {:>6}", op, ms / n as f64, 100.0 * ms / n as f64 / timed, count / n);
    }
    Ok(())
}
