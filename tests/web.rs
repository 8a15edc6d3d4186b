//! The same core, compiled to wasm and run in headless Chromium by
//! wasm-bindgen-test: decode a real test-split cell, load the shipped model
//! with tract, classify, and check CAM and error paths.
//!
//! Built with `harness = false` (the wasm32 std built from source has no libtest);
//! wasm-bindgen-test-runner finds and runs the `#[wasm_bindgen_test]` functions itself.

fn main() {}

#[cfg(target_arch = "wasm32")]
#[path = "support/rounding.rs"]
mod rounding_support;

#[cfg(target_arch = "wasm32")]
mod browser {
    use marrowscope::{Classifier, Error, Manifest};
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    const MANIFEST: &str = include_str!("../public/model/manifest.json");
    const MODEL: &[u8] = include_bytes!("../public/model/model.int8.onnx");
    // Real test-split images from the MLL subset (read at compile time, never committed).
    const NGS: &[u8] = include_bytes!("../../shared/data/mll-subset/images/NGS/NGS_00803.jpg");
    const LYT: &[u8] = include_bytes!("../../shared/data/mll-subset/images/LYT/LYT_00801.jpg");

    fn classifier() -> Classifier {
        Classifier::new(Manifest::from_json(MANIFEST).unwrap(), MODEL).unwrap()
    }

    #[wasm_bindgen_test]
    fn classifies_real_cells_in_the_browser() {
        let mut clf = classifier();
        let m = clf.manifest().clone();
        for (bytes, code) in [(NGS, "NGS"), (LYT, "LYT")] {
            let p = clf.classify_bytes(bytes).unwrap();
            assert_eq!(p.top().code, code);
            assert!((p.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-3);
            let k = m.classes.iter().position(|c| c == code).unwrap();
            let h = p.heatmap(&m, k).unwrap();
            assert!(h.centre_to_corner_ratio() > 1.0);
        }
    }

    #[wasm_bindgen_test]
    fn bad_input_and_bad_model_are_errors_not_panics() {
        let mut clf = classifier();
        assert_eq!(clf.classify_bytes(&[]).unwrap_err(), Error::EmptyFile);
        assert!(matches!(clf.classify_bytes(&NGS[..NGS.len() / 3]), Err(Error::CorruptImage { .. })));
        assert!(matches!(clf.classify_bytes(b"%PDF-1.7"), Err(Error::UnsupportedFormat { .. })));
        let m = Manifest::from_json(MANIFEST).unwrap();
        assert!(matches!(Classifier::new(m, &MODEL[..1000]), Err(Error::ModelChecksum { .. })));
    }

    #[wasm_bindgen_test]
    fn softmax_and_top_k_match_native() {
        let p = marrowscope::model::scores::softmax(&[1.0, 2.0, 3.0]);
        assert_eq!(marrowscope::model::scores::top_k(&p, 2), vec![2, 1]);
        assert!((p[2] - 0.665_240_9).abs() < 1e-6);
    }

    /// A result as the worker posts it: the crop and the preview travel as `Uint8Array`s (one
    /// copy each, not one JS number per byte), and the page reads back exactly what was sent.
    #[wasm_bindgen_test]
    fn a_result_message_carries_its_jpegs_as_byte_arrays() {
        use js_sys::{Reflect, Uint8Array};
        use marrowscope::results::{CellResult, ModelCrop};
        use marrowscope::web::protocol::Reply;
        use wasm_bindgen::{JsCast, JsValue};
        let mut clf = classifier();
        let m = clf.manifest().clone();
        let decoded = marrowscope::image::decode::decode(NGS).unwrap();
        let p = clf.classify_decoded(&decoded).unwrap();
        let thumb = marrowscope::image::thumbnail::jpeg(&decoded.image).unwrap();
        let reply = Reply::Done {
            id: 7,
            result: CellResult::from_prediction(&m, &p, 1.0, None),
            crop: Some(ModelCrop { jpeg: NGS.to_vec(), bbox: Some([1, 2, 3, 4]), nucleus_px: Some(40.0), scale: 1.0 }),
            thumb: Some(thumb.clone()),
        };
        let v = serde_wasm_bindgen::to_value(&reply).unwrap();
        let field = |o: &JsValue, k: &str| Reflect::get(o, &JsValue::from_str(k)).unwrap();
        let t = field(&v, "thumb").dyn_into::<Uint8Array>().expect("thumb is a Uint8Array");
        assert_eq!(t.to_vec(), thumb);
        let j = field(&field(&v, "crop"), "jpeg").dyn_into::<Uint8Array>().expect("crop jpeg is a Uint8Array");
        assert_eq!(j.length() as usize, NGS.len());
        let back: Reply = serde_wasm_bindgen::from_value(v).unwrap();
        assert_eq!(back, reply);
        // A result without a preview still reads (older workers, fields).
        let none = Reply::Done { id: 8, result: CellResult::from_prediction(&m, &p, 1.0, None), crop: None, thumb: None };
        let back: Reply = serde_wasm_bindgen::from_value(serde_wasm_bindgen::to_value(&none).unwrap()).unwrap();
        assert_eq!(back, none);
    }

    /// The wasm build of the patched tract-data rounds with `f32.nearest` (vendor/README.md); it
    /// must agree bit for bit with tract 0.23.9's own rounding, and QuantizeLinear must still
    /// round ties to even.
    #[wasm_bindgen_test]
    fn patched_quantize_rounding_equals_upstream_in_wasm() {
        use tract_onnx::prelude::round_ties_to_even;
        use tract_onnx::tract_core::ops::quant::quantize_linear_f32_u8;
        let (checked, mismatches) = crate::rounding_support::compare(round_ties_to_even);
        assert!(mismatches.is_empty(), "mismatches (first ones):\n{}", mismatches.join("\n"));
        assert!(checked > 33_000_000, "checked {checked}");
        assert_eq!(quantize_linear_f32_u8(0.25, 10.0, 128), 130);
        assert_eq!(quantize_linear_f32_u8(-0.25, 10.0, 128), 126);
        assert_eq!(quantize_linear_f32_u8(0.35, 10.0, 128), 132);
    }
}
