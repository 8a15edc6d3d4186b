//! The patched `tract_data::round_ties_to_even` (vendor/README.md) must give exactly what
//! tract 0.23.9's own version gave: it is the rounding inside every QuantizeLinear of the int8
//! model. The full comparison over all 2^32 bit patterns was run once (0 mismatches, both
//! versions); this test repeats it on a sample (tests/support/rounding.rs). The wasm version is
//! checked the same way in Chromium by tests/web.rs.

#[path = "support/rounding.rs"]
mod support;

use tract_onnx::prelude::round_ties_to_even;
use tract_onnx::tract_core::ops::quant::quantize_linear_f32_u8;

#[test]
fn patched_rounding_equals_upstream_bit_for_bit() {
    let (checked, mismatches) = support::compare(round_ties_to_even);
    assert!(mismatches.is_empty(), "mismatches (first ones):\n{}", mismatches.join("\n"));
    assert!(checked > 33_000_000, "checked {checked}");
    // Ties go to even, and the sign of zero is kept.
    assert_eq!(round_ties_to_even(2.5), 2.0);
    assert_eq!(round_ties_to_even(-3.5), -4.0);
    assert!(round_ties_to_even(-0.4).is_sign_negative());
}

#[test]
fn quantize_linear_u8_uses_it() {
    // QuantizeLinear: round(x / scale) + zero_point, saturated to 0..=255 (tract passes 1/scale).
    assert_eq!(quantize_linear_f32_u8(0.25, 10.0, 128), 130); // 2.5 -> 2 (tie to even)
    assert_eq!(quantize_linear_f32_u8(0.35, 10.0, 128), 132); // 3.5 -> 4
    assert_eq!(quantize_linear_f32_u8(-0.25, 10.0, 128), 126); // -2.5 -> -2
    assert_eq!(quantize_linear_f32_u8(100.0, 10.0, 128), 255);
    assert_eq!(quantize_linear_f32_u8(-100.0, 10.0, 128), 0);
    assert_eq!(quantize_linear_f32_u8(f32::NAN, 10.0, 3), 3);
}
