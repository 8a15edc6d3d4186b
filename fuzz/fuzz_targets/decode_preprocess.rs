//! bytes → decode (with limits) → preprocess → tensor. Any panic, overflow or
//! out-of-memory is a bug: every input must end in a tensor or an Error value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marrowscope::manifest::{InputSpec, Manifest};
use std::sync::OnceLock;

/// The shipped model's input contract, shrunk to 64×64 so each run is cheap.
fn spec() -> &'static InputSpec {
    static SPEC: OnceLock<InputSpec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let m = Manifest::from_json(include_str!("../../public/model/manifest.json")).expect("the shipped manifest parses");
        InputSpec { width: 64, height: 64, ..m.input }
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = marrowscope::image::decode::decode(data) {
        let t = marrowscope::image::preprocess::to_tensor(&d.image, spec());
        assert_eq!(t.len(), 3 * 64 * 64);
        assert!(t.iter().all(|v| v.is_finite()));
    }
});
