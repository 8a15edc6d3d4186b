//! The shipped model through the project's own code, on real cells.

mod common;

use marrowscope::{Classifier, Error, Manifest};

#[test]
fn manifest_describes_the_model() {
    let m = common::manifest();
    let bytes = common::model_bytes(&m);
    assert!(bytes.len() <= 6 * 1024 * 1024, "shipped model is {} bytes, over 6 MB", bytes.len());
    m.verify_model_bytes(&bytes).expect("sha256 matches");
    assert!(m.classes.len() >= 2);
    let cam = m.cam.as_ref().expect("manifest carries CAM weights");
    assert_eq!(cam.weights.len(), m.classes.len());
    assert!(m.low_confidence_threshold > 0.0 && m.low_confidence_threshold < 1.0);
    assert!(m.training.citation.contains("10.7937/TCIA.AXH3-T579"));
}

#[test]
fn classifies_real_test_cells() {
    let mut clf = common::classifier();
    let m = clf.manifest().clone();
    // 16 evenly spaced test images per class and source (marrow 250×250 crops, blood 224×224
    // crops): enough that a broken pipeline (wrong normalisation, channel order, resize or cell
    // scale) shows, as such faults fall far below these floors.
    let marrow = common::test_sample(&m, 16);
    let blood = if m.class_sources.values().flatten().any(|s| s == "blood") {
        common::sample_of(&common::blood_split("test"), &m, 16)
    } else {
        Vec::new()
    };
    for (name, sample, side, floor) in [("marrow", &marrow, 250, 0.75), ("blood", &blood, 224, 0.85)] {
        if sample.is_empty() {
            continue;
        }
        let classes = sample.iter().map(|i| i.label.as_str()).collect::<std::collections::BTreeSet<_>>().len();
        assert!(sample.len() >= 16 * classes - 2);
        let mut correct = 0;
        for item in sample.iter() {
            // The app's path: the file read as a single cell, cut at the model's scale.
            let p = common::read_single(&mut clf, &item.path).prediction;
            assert!((p.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-3);
            assert_eq!(p.ranked.len(), m.classes.len());
            assert!(p.ranked.windows(2).all(|w| w[0].probability >= w[1].probability));
            assert_eq!((p.width, p.height), (side, side));
            correct += (p.top().code == item.label) as usize;
        }
        let acc = correct as f64 / sample.len() as f64;
        println!("{name} sample accuracy {correct}/{} = {acc:.3}", sample.len());
        // The whole test splits give more (docs/model-card.md); a fixed sample must stay near.
        assert!(acc >= floor, "{name}: accuracy on a spread test sample is {acc:.3}");
    }
}

#[test]
fn class_activation_maps_look_at_the_cell() {
    let mut clf = common::classifier();
    let m = clf.manifest().clone();
    let mut ratios = Vec::new();
    for item in common::test_sample(&m, 3) {
        let bytes = std::fs::read(&item.path).unwrap();
        let p = clf.classify_bytes(&bytes).unwrap();
        let k = m.classes.iter().position(|c| *c == p.top().code).unwrap();
        let h = p.heatmap(&m, k).expect("the shipped model yields CAMs");
        assert!(h.values.iter().all(|v| (0.0..=1.0).contains(v)));
        ratios.push((item.label.clone(), h.centre_to_corner_ratio()));
    }
    println!("centre/corner CAM ratios: {ratios:?}");
    // Artefacts and unidentifiable images have no centred cell to look at.
    let cells: Vec<f32> = ratios.iter().filter(|(l, _)| l != "ART" && l != "NIF").map(|(_, r)| *r).collect();
    let above = cells.iter().filter(|r| **r > 1.0).count();
    assert!(above as f64 >= 0.8 * cells.len() as f64, "CAMs should favour the centre: {ratios:?}");
}

#[test]
fn damaged_model_gives_clear_errors() {
    let m = common::manifest();
    let bytes = common::model_bytes(&m);
    // Truncated: checksum catches it before tract sees it.
    let err = Classifier::new(m.clone(), &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(matches!(err, Error::ModelChecksum { .. }), "{err}");
    assert!(err.to_string().contains("does not match its manifest"));
    // Corrupted with a manifest that matches the corrupted bytes: tract refuses to parse.
    let mut bad = bytes.clone();
    for b in bad.iter_mut().take(4096) {
        *b ^= 0x5a;
    }
    let mut m2 = m.clone();
    m2.sha256 = marrowscope::manifest::sha256_hex(&bad);
    let err = Classifier::new(m2, &bad).unwrap_err();
    assert!(matches!(err, Error::ModelLoad(_)), "{err}");
    // Manifest that disagrees with the model's outputs.
    let mut m3 = m.clone();
    m3.classes.pop();
    m3.cam = None;
    let err = Classifier::new(m3, &bytes).unwrap_err();
    assert!(err.to_string().contains("classes"), "{err}");
    // Unknown class code in a manifest.
    let text = common::manifest_text().replacen(&format!("\"{}\"", m.classes[0]), "\"XYZ\"", 1);
    assert!(Manifest::from_json(&text).unwrap_err().to_string().contains("XYZ"));
}

#[test]
fn foreign_images_do_not_crash() {
    let mut clf = common::classifier();
    let items = marrowscope::eval::dataset::from_dir(&common::pbc_sample_dir()).expect("pbc-sample present");
    let mut n = 0;
    for item in items.iter().step_by(8) {
        let p = common::read_single(&mut clf, &item.path).prediction;
        assert!(p.top().probability > 0.0);
        n += 1;
    }
    assert!(n >= 30);
}

/// `marrowscope::model::dequantize` computes the int8 weights' float values itself (fast); the plan it
/// gives must compute exactly what tract's own ONNX reader gives, bit for bit, on real cells
/// of both sources.
#[test]
fn fast_dequantize_gives_the_same_bits_as_tracts_reader() {
    use tract_onnx::prelude::*;
    let m = common::manifest();
    let bytes = common::model_bytes(&m);
    let (w, h) = (m.input.width as usize, m.input.height as usize);
    let mut outputs = vec![m.outputs.logits.clone()];
    outputs.extend(m.outputs.features.clone());
    let plan = |onnx: tract_onnx::Onnx| {
        onnx.model_for_read(&mut std::io::Cursor::new(&bytes))
            .and_then(|model| model.with_input_fact(0, f32::fact([1, 3, h, w]).into()))
            .and_then(|model| model.with_outputs_by_name(&outputs))
            .and_then(|model| model.into_optimized())
            .and_then(|model| model.into_runnable())
            .unwrap()
    };
    let (tracts, ours) = (plan(tract_onnx::onnx()), plan(marrowscope::model::dequantize::onnx()));
    assert_same_bits_on_real_cells(&m, &tracts, &ours, outputs.len());
}

/// Runs two plans of the shipped model on real test cells of both sources (two per class) and
/// asserts that every output (logits, feature map) has the same bits in both.
fn assert_same_bits_on_real_cells(
    m: &Manifest,
    a: &std::sync::Arc<tract_onnx::prelude::TypedRunnableModel>,
    b: &std::sync::Arc<tract_onnx::prelude::TypedRunnableModel>,
    outputs: usize,
) {
    use tract_onnx::prelude::*;
    let (w, h) = (m.input.width as usize, m.input.height as usize);
    let mut items = common::sample_of(&common::split("test"), m, 2);
    items.extend(common::sample_of(&common::blood_split("test"), m, 2));
    assert!(items.len() >= 20, "{} images", items.len());
    let bits = |v: &TValue| v.to_plain_array_view::<f32>().unwrap().iter().map(|f| f.to_bits()).collect::<Vec<u32>>();
    for item in &items {
        let image = marrowscope::image::decode::decode(&std::fs::read(&item.path).unwrap()).unwrap().image;
        let t: Tensor = tract_ndarray::Array4::from_shape_vec((1, 3, h, w), marrowscope::image::preprocess::to_tensor(&image, &m.input))
            .unwrap()
            .into();
        let (x, y) = (a.run(tvec!(t.clone().into())).unwrap(), b.run(tvec!(t.into())).unwrap());
        assert_eq!(x.len(), outputs);
        for (x, y) in x.iter().zip(y.iter()) {
            assert_eq!(bits(x), bits(y), "{}", item.path.display());
        }
    }
}

/// `marrowscope::model::fake_quant` runs each activation's `QuantizeLinear → DequantizeLinear` pair as
/// one in-place pass; the plan must still compute exactly what tract's two operators compute,
/// bit for bit, on real cells of both sources, and every pair of the shipped model is fused.
#[test]
fn fused_quantize_dequantize_gives_the_same_bits_as_tracts_pair() {
    use tract_onnx::prelude::*;
    let m = common::manifest();
    let bytes = common::model_bytes(&m);
    let (w, h) = (m.input.width as usize, m.input.height as usize);
    let mut outputs = vec![m.outputs.logits.clone()];
    outputs.extend(m.outputs.features.clone());
    let count = |model: &TypedModel, name: &str| model.nodes().iter().filter(|n| n.op.name() == name).count();
    let plan = |fuse: bool| {
        let mut typed = marrowscope::model::dequantize::onnx()
            .model_for_read(&mut std::io::Cursor::new(&bytes))
            .and_then(|model| model.with_input_fact(0, f32::fact([1, 3, h, w]).into()))
            .and_then(|model| model.with_outputs_by_name(&outputs))
            .and_then(|model| model.into_typed())
            .unwrap();
        typed.declutter().unwrap();
        if fuse {
            let pairs = count(&typed, "DequantizeLinearF32");
            let fused = marrowscope::model::fake_quant::fuse_quantize_dequantize(&mut typed).unwrap();
            // Every activation pair of the shipped model (onnxruntime's QDQ format) is fused.
            assert!(pairs >= 40, "{pairs} DequantizeLinear nodes");
            assert_eq!(fused, pairs);
            assert_eq!(count(&typed, "DequantizeLinearF32"), 0);
            assert_eq!(count(&typed, "QuantizeLinearU8"), 0);
        }
        typed.optimize().unwrap();
        typed.into_runnable().unwrap()
    };
    let (tracts, ours) = (plan(false), plan(true));
    assert_same_bits_on_real_cells(&m, &tracts, &ours, outputs.len());
}

/// The worker reads the model while the browser computes its digest: the read gives nothing to
/// classify with until `check` has compared the digest; a wrong one is the checksum error.
#[test]
fn a_model_read_before_its_digest_classifies_only_after_the_check() {
    let m = common::manifest();
    let bytes = common::model_bytes(&m);
    let mut phases = Vec::new();
    let unchecked = Classifier::read_unchecked(m.clone(), &bytes, &mut |p| phases.push(p)).expect("the model reads");
    assert_eq!(phases, ["parsed", "typed", "decluttered", "optimised", "planned"]);
    match unchecked.check(&"0".repeat(64)) {
        Err(Error::ModelChecksum { expected, .. }) => assert_eq!(expected, m.sha256.to_ascii_lowercase()),
        other => panic!("expected a checksum error, got {:?}", other.map(|_| ())),
    }
    let right = marrowscope::manifest::sha256_hex(&bytes);
    let mut c = Classifier::read_unchecked(m.clone(), &bytes, &mut |_| {}).unwrap().check(&right).expect("the right digest passes");
    let mut reference = Classifier::new(m.clone(), &bytes).unwrap();
    for item in common::test_sample(&m, 1) {
        let cell = std::fs::read(&item.path).unwrap();
        let (a, b) = (c.classify_bytes(&cell).unwrap(), reference.classify_bytes(&cell).unwrap());
        assert_eq!(a.probabilities, b.probabilities, "{}", item.path.display());
    }
}

/// The worker checks the model's SHA-256 with the browser's own code and hands the digest to the
/// load: a right digest loads, a wrong one is the same clear checksum error as for wrong bytes.
#[test]
fn a_digest_computed_elsewhere_is_checked_against_the_manifest() {
    let m = common::manifest();
    let bytes = common::model_bytes(&m);
    let right = m.sha256.to_ascii_uppercase();
    let mut phases = Vec::new();
    let c = Classifier::new_observed(m.clone(), &bytes, Some(&right), &mut |p| phases.push(p));
    assert!(c.is_ok(), "{:?}", c.err());
    assert_eq!(phases, ["checked", "parsed", "typed", "decluttered", "optimised", "planned"]);
    let wrong = "0".repeat(64);
    match Classifier::new_observed(m, &bytes, Some(&wrong), &mut |_| {}) {
        Err(Error::ModelChecksum { expected, actual }) => assert_eq!((expected.len(), actual), (64, wrong)),
        other => panic!("expected a checksum error, got {:?}", other.map(|_| ())),
    }
}
