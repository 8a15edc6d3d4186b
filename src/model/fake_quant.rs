//! The int8 model's activation round trips, `QuantizeLinear` then `DequantizeLinear`, done as one
//! in-place pass over `f32`.
//!
//! A QDQ-quantised ONNX model (the shipped one: onnxruntime's static QDQ format) stores after
//! almost every layer a `QuantizeLinear` to `uint8` followed by a `DequantizeLinear` back to
//! `f32`: the next convolution reads the activation as the int8 model would, rounded to 256
//! levels. tract 0.23 runs each pair as two operators, each allocating its output: `f32 → u8`
//! (multiply, round, add the zero point, clamp) and `u8 → f32` (subtract it, multiply). Natively
//! the first was a fifth of the whole path's time per image (`perf` on `examples/path_profile`).
//!
//! [`fuse_quantize_dequantize`] replaces every such pair by [`FakeQuantU8`], which computes the
//! same value in place: `clamp(round_ties_even(x · s⁻¹), −z, 255 − z) · s`. For every finite
//! input of either sign whose `x · s⁻¹` lies within ±2³¹ − 256 (every activation a real image
//! gives) the bits equal tract's pair: the product, the rounding and the final multiplication are
//! the same `f32` operations, and `q − z` is the same small integer (`tests/model.rs` checks the
//! logits and feature maps bit for bit on real cells of both sources). NaN gives 0, as tract's
//! pair does; beyond ±2³¹ tract's integer addition wraps and ours clamps to the end of the range.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::element_wise::{ElementWiseMiniOp, ElementWiseOp};
use tract_onnx::tract_core::ops::quant::{DequantizeLinearF32, QuantizeLinearU8};

/// `QuantizeLinear` to `uint8` and `DequantizeLinear` back to `f32` in one in-place pass.
#[derive(Debug, Clone)]
pub struct FakeQuantU8 {
    /// The multiplier of `QuantizeLinear` (tract stores `1 / scale`).
    pub inv_scale: f32,
    /// `DequantizeLinear`'s scale.
    pub scale: f32,
    /// The zero point shared by both.
    pub zero_point: u8,
}

impl PartialEq for FakeQuantU8 {
    fn eq(&self, other: &Self) -> bool {
        self.inv_scale.to_bits() == other.inv_scale.to_bits()
            && self.scale.to_bits() == other.scale.to_bits()
            && self.zero_point == other.zero_point
    }
}
impl Eq for FakeQuantU8 {}

impl FakeQuantU8 {
    /// One value, as tract's `QuantizeLinearU8` then `DequantizeLinearF32` compute it.
    #[inline(always)]
    pub fn apply(&self, x: f32) -> f32 {
        let lo = -(self.zero_point as f32);
        let hi = 255.0 - self.zero_point as f32;
        let v = x * self.inv_scale;
        // Clamping first is the same as rounding first (the bounds are integers, the rounding
        // monotone), and keeps `v` where the rounding below is exact. NaN: tract's `as i32` is 0.
        let v = if v.is_nan() { 0.0 } else { v.clamp(lo, hi) };
        // `+ 0.0` turns a rounded −0 into +0, as `(q − z) as f32` is.
        (round_ties_even_small(v) + 0.0) * self.scale
    }

    /// Replaces each value of `xs` by [`Self::apply`] of it.
    pub fn apply_slice(&self, xs: &mut [f32]) {
        for x in xs.iter_mut() {
            *x = self.apply(*x);
        }
    }
}

/// Rounds half to even for `|v| ≤ 2²²`, in a form that vectorises: `f32.nearest` on wasm,
/// adding and subtracting 1.5 · 2²³ elsewhere (where `round_ties_even` may be a libm call).
#[inline(always)]
fn round_ties_even_small(v: f32) -> f32 {
    #[cfg(target_arch = "wasm32")]
    {
        v.round_ties_even()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        const MAGIC: f32 = 12_582_912.0; // 1.5 · 2²³
        (v + MAGIC) - MAGIC
    }
}

impl ElementWiseMiniOp for FakeQuantU8 {
    fn name(&self) -> String {
        "FakeQuantU8".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("scale: {} zero_point: {} (QuantizeLinear u8 + DequantizeLinear f32)", self.scale, self.zero_point)])
    }

    fn eval_in_place(&self, t: &mut Tensor, out_dt: Option<DatumType>) -> TractResult<()> {
        if out_dt.unwrap_or(t.datum_type()) != DatumType::F32 || t.datum_type() != DatumType::F32 {
            tract_onnx::tract_core::internal::bail!("FakeQuantU8 works on f32, got {:?}", t.datum_type());
        }
        let mut plain = t.try_as_plain_ram_mut()?;
        self.apply_slice(plain.as_slice_mut::<f32>()?);
        Ok(())
    }
}

/// The quantiser feeding `outlet`, if it is a `QuantizeLinearU8` node: its input and parameters.
fn quantizer_of(model: &TypedModel, outlet: OutletId) -> Option<(OutletId, f32, u8)> {
    let node = model.node(outlet.node);
    let q = node.op_as::<ElementWiseOp>()?.0.downcast_ref::<QuantizeLinearU8>()?;
    Some((*node.inputs.first()?, q.scale, q.zero_point))
}

/// Replaces every `QuantizeLinearU8 → DequantizeLinearF32` pair (same zero point, `f32` in) of
/// a typed model by one [`FakeQuantU8`]; a quantiser left without consumers is pruned. Returns
/// how many pairs were replaced. Run it on the decluttered model, before `optimize`.
pub fn fuse_quantize_dequantize(model: &mut TypedModel) -> TractResult<usize> {
    let mut patch = TypedModelPatch::new("fuse QuantizeLinear + DequantizeLinear");
    let mut fused = 0;
    for node in model.nodes() {
        let Some(dq) = node.op_as::<DequantizeLinearF32>() else { continue };
        let Some(&input) = node.inputs.first() else { continue };
        let Some((source, inv_scale, zero_point)) = quantizer_of(model, input) else { continue };
        if dq.zero_point != zero_point as i32 || model.outlet_fact(source)?.datum_type != DatumType::F32 {
            continue;
        }
        let op = ElementWiseOp(Box::new(FakeQuantU8 { inv_scale, scale: dq.scale, zero_point }), None);
        let tap = patch.tap_model(model, source)?;
        let out = patch.wire_node(format!("{}.fake_quant", node.name), op, &[tap])?[0];
        patch.shunt_outside(model, OutletId::new(node.id, 0), out)?;
        fused += 1;
    }
    if fused > 0 {
        patch.apply(model)?;
        model.compact()?;
    }
    Ok(fused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::tract_core::ops::quant::quantize_linear_f32_u8;

    /// tract's pair on one value.
    fn tracts(x: f32, inv_scale: f32, scale: f32, zp: u8) -> f32 {
        let q = quantize_linear_f32_u8(x, inv_scale, zp as i32);
        (q as i32 - zp as i32) as f32 * scale
    }

    #[test]
    fn one_value_is_tracts_pair_bit_for_bit() {
        // Scales and zero points like the shipped model's, and inputs across and beyond the range,
        // halfway cases and signed zeros included.
        for &(scale, zp) in &[(0.0235_f32, 0u8), (0.047_f32, 128), (0.0039_f32, 17), (1.7_f32, 255)] {
            let op = FakeQuantU8 { inv_scale: 1.0 / scale, scale, zero_point: zp };
            let mut x = -400.0 * scale;
            while x < 400.0 * scale {
                for v in [x, -0.0, 0.0, (x / scale).round() * scale + 0.5 * scale] {
                    let (a, b) = (op.apply(v), tracts(v, op.inv_scale, scale, zp));
                    assert_eq!(a.to_bits(), b.to_bits(), "x {v} scale {scale} zp {zp}: {a} vs {b}");
                }
                x += scale * 0.137;
            }
            for v in [f32::NAN, 1e6, -1e6, f32::MIN_POSITIVE, -f32::MIN_POSITIVE] {
                assert_eq!(op.apply(v).to_bits(), tracts(v, op.inv_scale, scale, zp).to_bits(), "{v}");
            }
        }
    }

    #[test]
    fn a_slice_is_done_in_place() {
        let op = FakeQuantU8 { inv_scale: 10.0, scale: 0.1, zero_point: 5 };
        let mut t = tensor1(&[0.04_f32, 0.05, 0.15, -0.6, 30.0]);
        op.eval_in_place(&mut t, None).unwrap();
        let got: Vec<f32> = t.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap().to_vec();
        let want: Vec<f32> = [0.04_f32, 0.05, 0.15, -0.6, 30.0].iter().map(|&x| tracts(x, 10.0, 0.1, 5)).collect();
        assert_eq!(got, want);
        assert!(op.eval_in_place(&mut tensor1(&[1u8]), None).is_err());
    }
}
