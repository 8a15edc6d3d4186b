//! ONNX `DequantizeLinear` of constant per-channel weights, computed in one pass at load.
//!
//! A quantised ONNX model stores each convolution's weights as int8 with one scale per output
//! channel. tract 0.23 turns that into a cast, a subtraction and a multiplication broadcast over
//! the weight's own shape, and folds them while typing the model. For a 1×1 convolution
//! (`[O, I, 1, 1]`) the innermost axis of that broadcast has length 1, which costs about 40 ns
//! per weight: 320 of the shipped model's 405 ms of load natively, and most of its start in the
//! browser (`cargo run --release --example load_phases`).
//!
//! [`onnx`] is tract's ONNX reader with `DequantizeLinear` wrapped: where the quantised input
//! is a constant, the float tensor is computed directly, `(q − zero_point) × scale` per element
//! with the same `f32` operations in the same order, so the bits are those tract computed
//! before; every other case goes to tract's own operator. Users' own quantised models load
//! faster too.

use std::sync::OnceLock;
use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::expandable::{expand, Expansion};

type Builder = fn(&ParsingContext, &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)>;

/// tract's own builder for `DequantizeLinear`.
fn tracts_builder() -> Option<Builder> {
    static ORIGINAL: OnceLock<Option<Builder>> = OnceLock::new();
    *ORIGINAL.get_or_init(|| tract_onnx::onnx().op_register.0.get("DequantizeLinear").copied())
}

/// tract's ONNX reader, with `DequantizeLinear` of constants done in one pass.
pub fn onnx() -> tract_onnx::Onnx {
    let mut onnx = tract_onnx::onnx();
    if tracts_builder().is_some() {
        onnx.op_register.insert("DequantizeLinear", build);
    }
    onnx
}

fn build(ctx: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let original = tracts_builder().context("tract has no DequantizeLinear")?;
    let (op, closures) = original(ctx, node)?;
    let Some(inner) = op.as_op().downcast_ref::<Box<dyn Expansion>>().cloned() else { return Ok((op, closures)) };
    let axis = node.attribute.iter().find(|a| a.name == "axis").map(|a| a.i).unwrap_or(1);
    let has_zero_point = node.input.len() == 3 && !node.input[2].is_empty();
    Ok((expand(ConstDequantize { inner, axis, has_zero_point }), closures))
}

#[derive(Debug, Clone)]
struct ConstDequantize {
    inner: Box<dyn Expansion>,
    axis: i64,
    has_zero_point: bool,
}

impl Expansion for ConstDequantize {
    fn name(&self) -> StaticName {
        self.inner.name()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(&'s self, s: &mut Solver<'r>, inputs: &'p [TensorProxy], outputs: &'p [TensorProxy]) -> InferenceResult {
        self.inner.rules(s, inputs, outputs)
    }

    fn wire(&self, prefix: &str, model: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        if let Some(t) = self.dequantize_const(model, inputs)? {
            return Ok(tvec!(model.add_const(prefix, t)?));
        }
        self.inner.wire(prefix, model, inputs)
    }
}

impl ConstDequantize {
    /// The float tensor, when the quantised input, the scale and the zero point are constants.
    fn dequantize_const(&self, model: &TypedModel, inputs: &[OutletId]) -> TractResult<Option<Tensor>> {
        let konst = |ix: usize| -> TractResult<Option<Arc<Tensor>>> { Ok(model.outlet_fact(inputs[ix])?.konst.clone()) };
        let (Some(x), Some(scale)) = (konst(0)?, konst(1)?) else { return Ok(None) };
        let zero_point = match self.has_zero_point {
            true => match konst(2)? {
                Some(z) => z,
                None => return Ok(None),
            },
            false => rctensor0(0u8),
        };
        if x.rank() == 0 || (scale.len() == 1 && zero_point.len() == 1) || !x.is_plain() {
            return Ok(None); // scalar parameters: tract's DequantizeLinearF32 is already direct
        }
        let axis = if self.axis < 0 { self.axis + x.rank() as i64 } else { self.axis } as usize;
        let channels = x.shape().get(axis).copied().context("quantisation axis out of range")?;
        let per = |t: &Tensor| -> TractResult<Vec<f32>> {
            let v = t.cast_to::<f32>()?;
            let v = v.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
            Ok(if v.len() == 1 { vec![v[0]; channels] } else { v })
        };
        let (scales, zeros) = (per(&scale)?, per(&zero_point)?);
        if scales.len() != channels || zeros.len() != channels {
            return Ok(None);
        }
        let q = x.cast_to::<f32>()?;
        let mut out = q.into_owned();
        let inner: usize = x.shape()[axis + 1..].iter().product();
        let mut plain = out.try_as_plain_ram_mut()?;
        let data = plain.as_slice_mut::<f32>()?;
        for (i, chunk) in data.chunks_mut(inner.max(1)).enumerate() {
            let c = i % channels;
            let (z, s) = (zeros[c], scales[c]);
            chunk.iter_mut().for_each(|v| *v = (*v - z) * s);
        }
        Ok(Some(out))
    }
}
