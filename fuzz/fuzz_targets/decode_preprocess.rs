//! bytes → decode (with limits) → preprocess → tensor. Any panic, overflow or
//! out-of-memory is a bug: every input must end in a tensor or an Error value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marrowscope::manifest::InputSpec;

fuzz_target!(|data: &[u8]| {
    let spec = InputSpec {
        name: "input".into(),
        width: 64,
        height: 64,
        layout: "NCHW".into(),
        channels: "RGB".into(),
        scale: 255.0,
        mean: [0.5; 3],
        std: [0.5; 3],
        resize: "bilinear".into(),
    };
    if let Ok(d) = marrowscope::decode::decode(data) {
        let t = marrowscope::preprocess::to_tensor(&d.image, &spec);
        assert_eq!(t.len(), 3 * 64 * 64);
        assert!(t.iter().all(|v| v.is_finite()));
    }
});
