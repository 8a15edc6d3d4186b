//! The patched `tract_data::round_ties_to_even` (vendor/README.md) must give exactly what
//! tract 0.23.9's own version gave, since it is the rounding inside every QuantizeLinear of the
//! int8 model. The full comparison over all 2^32 bit patterns was run once (0 mismatches); this
//! test repeats it on a sample that covers every exponent, the halfway cases and signed zero.

use tract_onnx::prelude::round_ties_to_even;
use tract_onnx::tract_core::ops::quant::quantize_linear_f32_u8;

/// tract-data 0.23.9, `datum.rs`, verbatim.
fn upstream(x: f32) -> f32 {
    const TOINT: f32 = 1.0f32 / f32::EPSILON;
    let u = x.to_bits();
    let e = (u >> 23) & 0xff;
    if e >= 0x7f + 23 {
        return x;
    }
    let s = u >> 31;
    let y = if s == 1 { x - TOINT + TOINT } else { x + TOINT - TOINT };
    if y == 0.0 { if s == 1 { -0f32 } else { 0f32 } } else { y }
}

fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn patched_rounding_equals_upstream_bit_for_bit() {
    let mut checked = 0u64;
    let mut mismatches = Vec::new();
    let mut check = |x: f32| {
        checked += 1;
        let (a, b) = (round_ties_to_even(x), upstream(x));
        if !same(a, b) && mismatches.len() < 10 {
            mismatches.push(format!("{x:e} ({:#010x}): patched {a:e}, upstream {b:e}", x.to_bits()));
        }
    };
    // 2^24 bit patterns spread over the whole range (every 256th), all signs and exponents.
    for u in (0..=u32::MAX).step_by(256) {
        check(f32::from_bits(u));
        check(f32::from_bits(u | 0xff)); // the other end of each stride
    }
    // Every quarter-integer in [-300, 300]: the ties (x.5) and their neighbours.
    for q in -1200..=1200 {
        let x = q as f32 / 4.0;
        check(x);
        check(f32::from_bits(x.to_bits() + 1));
        check(f32::from_bits(x.to_bits().wrapping_sub(1)));
    }
    for x in [0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 8388607.5, -8388607.5, f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
        check(x);
    }
    assert!(mismatches.is_empty(), "{} mismatches (first ones):\n{}", mismatches.len(), mismatches.join("\n"));
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
