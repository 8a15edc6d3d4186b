//! Where the model's load time goes (native): manifest, checksum, ONNX parse, typing,
//! decluttering, optimisation, plan; with tract's own ONNX reader and with Marrowscope's
//! (`marrowscope::model::dequantize`); and, for comparison, the same model read back from tract's NNEF
//! form (typed and decluttered once, as a build step could ship it). A diagnostic for
//! docs/benchmarks.md ("Cold start"), not part of the app.
//!
//! `cargo run --release --example load_phases -- [--model public/model] [--n 5]`

use marrowscope::Manifest;
use std::path::PathBuf;
use std::time::Instant;
use tract_nnef::internal::*;
use tract_nnef::ser::{invocation, numeric};
use tract_onnx::prelude::{Framework, InferenceModelExt, WithOnnx};
use tract_onnx::tract_hir::tract_core::ops::element_wise::ElementWiseOp;
use tract_onnx::tract_hir::tract_core::ops::quant::{quantize_linear_u8, DequantizeLinearF32, QuantizeLinearU8};

/// tract 0.23 writes no NNEF for these two operators (an ONNX QuantizeLinear/DequantizeLinear
/// pair on a float tensor); this registry adds them, exactly (f32 literals round-trip).
fn nnef() -> tract_nnef::framework::Nnef {
    fn params() -> Vec<Parameter> {
        vec![TypeName::Scalar.tensor().named("input"), TypeName::Scalar.named("scale"), TypeName::Integer.named("zero_point")]
    }
    fn dump_q(ast: &mut IntoAst, node: &TypedNode) -> TractResult<Option<Arc<RValue>>> {
        let Some(op) = node.op_as::<ElementWiseOp>().and_then(|op| op.0.downcast_ref::<QuantizeLinearU8>()) else { return Ok(None) };
        let args = [("scale", numeric(op.scale)), ("zero_point", numeric(op.zero_point as i64))];
        Ok(Some(invocation("ms_quantize_u8", &[ast.mapping[&node.inputs[0]].clone()], &args)))
    }
    fn load_q(builder: &mut ModelBuilder, inv: &ResolvedInvocation) -> TractResult<Value> {
        let input = inv.named_arg_as(builder, "input")?;
        let zp: i64 = inv.named_arg_as(builder, "zero_point")?;
        let scale: f32 = inv.named_arg_as(builder, "scale")?;
        builder.wire(quantize_linear_u8(scale, u8::try_from(zp)?), &[input])
    }
    fn dump_dq(ast: &mut IntoAst, node: &TypedNode, op: &DequantizeLinearF32) -> TractResult<Option<Arc<RValue>>> {
        let args = [("scale", numeric(op.scale)), ("zero_point", numeric(op.zero_point as i64))];
        Ok(Some(invocation("ms_dequantize_f32", &[ast.mapping[&node.inputs[0]].clone()], &args)))
    }
    fn load_dq(builder: &mut ModelBuilder, inv: &ResolvedInvocation) -> TractResult<Value> {
        let input = inv.named_arg_as(builder, "input")?;
        let zp: i64 = inv.named_arg_as(builder, "zero_point")?;
        let scale: f32 = inv.named_arg_as(builder, "scale")?;
        builder.wire(DequantizeLinearF32 { scale, zero_point: i32::try_from(zp)? }, &[input])
    }
    let mut r = Registry::new("ms");
    r.register_element_wise("ms_quantize_u8", std::any::TypeId::of::<QuantizeLinearU8>(), Box::new(dump_q), params(), load_q);
    r.register_dumper(dump_dq);
    r.register_primitive("ms_dequantize_f32", &params(), &[("output", TypeName::Scalar.tensor())], load_dq);
    let mut nnef = tract_nnef::nnef().with_onnx();
    nnef.registries.push(r);
    nnef
}

fn ms(t: &mut Instant) -> f64 {
    let e = t.elapsed().as_secs_f64() * 1e3;
    *t = Instant::now();
    e
}

fn main() -> TractResult<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut model_dir = root.join("public/model");
    let mut n = 5usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model_dir = PathBuf::from(args.next().expect("--model DIR")),
            "--n" => n = args.next().and_then(|v| v.parse().ok()).expect("--n NUMBER"),
            _ => panic!("usage: load_phases [--model DIR] [--n N]"),
        }
    }
    let text = std::fs::read_to_string(model_dir.join("manifest.json"))?;
    let m = Manifest::from_json(&text).expect("valid manifest");
    let bytes = std::fs::read(model_dir.join(&m.onnx_file))?;
    let (w, h) = (m.input.width as usize, m.input.height as usize);
    let mut outputs = vec![m.outputs.logits.clone()];
    outputs.extend(m.outputs.features.clone());
    let mut tar = Vec::new();
    println!("model {} ({} bytes), {n} runs each; ms", m.model_id, bytes.len());
    for (reader, onnx) in
        [("tract's ONNX reader", tract_onnx::onnx()), ("marrowscope::model::dequantize::onnx", marrowscope::model::dequantize::onnx())]
    {
        for _ in 0..n {
            let (mut t, t0) = (Instant::now(), Instant::now());
            let manifest = Manifest::from_json(&text).expect("valid manifest");
            let a = ms(&mut t);
            manifest.verify_model_bytes(&bytes).expect("checksum");
            let b = ms(&mut t);
            let model = onnx.model_for_read(&mut std::io::Cursor::new(&bytes))?;
            let model = model.with_input_fact(0, f32::fact([1, 3, h, w]).into())?.with_outputs_by_name(&outputs)?;
            let c = ms(&mut t);
            let typed = model.into_typed()?;
            let d = ms(&mut t);
            let dec = typed.into_decluttered()?;
            let e = ms(&mut t);
            if tar.is_empty() {
                tar = nnef().write_to_tar(&dec, Vec::new())?;
                t = Instant::now();
            }
            let plan = dec.into_optimized()?.into_runnable()?;
            let _state = TypedSimpleState::new(&plan)?;
            let f = ms(&mut t);
            let total = t0.elapsed().as_secs_f64() * 1e3;
            println!(
                "{reader}: manifest {a:.1} sha256 {b:.1} parse {c:.1} typing {d:.1} declutter {e:.1} optimise+plan {f:.1} = {total:.1}"
            );
        }
    }
    // The app's own load (`Classifier::new_observed`, as the worker runs it: Marrowscope's reader,
    // then the activations' quantise–dequantise pairs fused after decluttering).
    for _ in 0..n {
        let t0 = Instant::now();
        let mut last = Instant::now();
        let mut line = String::new();
        let manifest = Manifest::from_json(&text).expect("valid manifest");
        let _model = marrowscope::Classifier::new_observed(manifest, &bytes, None, &mut |p| {
            line.push_str(&format!("{p} {:.1} ", last.elapsed().as_secs_f64() * 1e3));
            last = Instant::now();
        })
        .expect("the model loads");
        println!("the app's load (Classifier::new_observed, fused): {line}= {:.1}", t0.elapsed().as_secs_f64() * 1e3);
    }
    for _ in 0..n {
        let (mut t, t0) = (Instant::now(), Instant::now());
        let back = nnef().model_for_read(&mut std::io::Cursor::new(&tar))?;
        let a = ms(&mut t);
        let plan = back.into_optimized()?.into_runnable()?;
        let _state = TypedSimpleState::new(&plan)?;
        let b = ms(&mut t);
        let total = t0.elapsed().as_secs_f64() * 1e3;
        println!("NNEF, decluttered ({} bytes; f32 weights): read {a:.1} optimise+plan {b:.1} = {total:.1}", tar.len());
    }
    Ok(())
}
