//! Model loading and inference with tract: load (parse ONNX), optimise once,
//! then run many images through one reusable plan and state.

use crate::error::{Error, Result};
use crate::model::manifest::Manifest;
use std::io::Cursor;
use tract_onnx::prelude::*;

/// The raw outputs of one forward pass.
#[derive(Debug, Clone)]
pub struct RawOutput {
    pub logits: Vec<f32>,
    /// The feature map before global pooling, `[channels, height, width]`, if the model has one.
    pub features: Option<FeatureMap>,
}

use crate::model::cam::FeatureMap;

/// An optimised, runnable model with its manifest.
pub struct Model {
    pub manifest: Manifest,
    state: TypedSimpleState,
    has_features: bool,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("model_id", &self.manifest.model_id).finish()
    }
}

fn load_err(e: impl std::fmt::Display) -> Error {
    Error::ModelLoad(format!("{e:#}"))
}

impl Model {
    /// Verifies the checksum, parses the ONNX bytes, fixes the input shape and
    /// optimises the graph. Call once; then [`Model::run`] for every image.
    pub fn load(manifest: Manifest, onnx: &[u8]) -> Result<Model> {
        Self::load_observed(manifest, onnx, None, &mut |_| {})
    }

    /// [`Model::load`], telling `phase` as each step ends: `"checked"` (manifest and checksum),
    /// `"parsed"` (ONNX read), `"typed"`, `"decluttered"`, `"optimised"`, `"planned"`. The
    /// worker marks them on the browser's timeline (scripts/bench/bench-cold.mjs). `sha256`: the
    /// bytes' digest (hex) when the caller computed it already; `None` computes it here.
    pub fn load_observed(manifest: Manifest, onnx: &[u8], sha256: Option<&str>, phase: &mut dyn FnMut(&'static str)) -> Result<Model> {
        manifest.validate()?;
        match sha256 {
            Some(hex) => manifest.verify_model_digest(hex)?,
            None => manifest.verify_model_bytes(onnx)?,
        }
        phase("checked");
        Self::read(manifest, onnx, phase)
    }

    /// [`Model::load_observed`] without the checksum (and without its `"checked"` phase): for
    /// [`crate::classify::Unchecked`] only, whose owner checks the digest before any use.
    pub(crate) fn load_unchecked(manifest: Manifest, onnx: &[u8], phase: &mut dyn FnMut(&'static str)) -> Result<Model> {
        manifest.validate()?;
        Self::read(manifest, onnx, phase)
    }

    /// Reads, types, declutters and optimises a model whose manifest is valid.
    fn read(manifest: Manifest, onnx: &[u8], phase: &mut dyn FnMut(&'static str)) -> Result<Model> {
        let (w, h) = (manifest.input.width as usize, manifest.input.height as usize);
        let mut outputs = vec![manifest.outputs.logits.clone()];
        if let Some(f) = &manifest.outputs.features {
            outputs.push(f.clone());
        }
        let model = crate::model::dequantize::onnx()
            .model_for_read(&mut Cursor::new(onnx))
            .map_err(|e| Error::ModelLoad(format!("the file is not a readable ONNX model ({e})")))?
            .with_input_fact(0, f32::fact([1, 3, h, w]).into())
            .map_err(load_err)?
            .with_outputs_by_name(&outputs)
            .map_err(|e| Error::ModelLoad(format!("the model lacks an output the manifest names ({e})")))?;
        phase("parsed");
        let mut typed = model.into_typed().map_err(load_err)?;
        phase("typed");
        typed.declutter().map_err(load_err)?;
        crate::model::fake_quant::fuse_quantize_dequantize(&mut typed).map_err(load_err)?;
        phase("decluttered");
        typed.optimize().map_err(load_err)?;
        phase("optimised");
        let logits_fact = typed.output_fact(0).map_err(load_err)?;
        let n = manifest.classes.len();
        if logits_fact.shape.as_concrete().map(|s| s.iter().product::<usize>()) != Some(n) {
            return Err(Error::ModelLoad(format!("the model outputs {:?} scores but the manifest lists {n} classes", logits_fact.shape)));
        }
        if let (Some(cam), true) = (&manifest.cam, outputs.len() > 1) {
            let ff = typed.output_fact(1).map_err(load_err)?;
            let c = ff.shape.as_concrete().and_then(|s| s.get(1).copied());
            if ff.rank() != 4 || c != Some(cam.channels) {
                return Err(Error::ModelLoad(format!(
                    "the feature map has shape {:?}, the manifest expects {} channels",
                    ff.shape, cam.channels
                )));
            }
        }
        let plan = typed.into_runnable().map_err(load_err)?;
        let state = TypedSimpleState::new(&plan).map_err(load_err)?;
        phase("planned");
        Ok(Model { has_features: outputs.len() > 1, manifest, state })
    }

    /// Runs one preprocessed NCHW tensor through the model.
    pub fn run(&mut self, input: &[f32]) -> Result<RawOutput> {
        let (w, h) = (self.manifest.input.width as usize, self.manifest.input.height as usize);
        let tensor = Tensor::from_shape(&[1, 3, h, w], input).map_err(|e| Error::Inference(e.to_string()))?;
        let out = self.state.run(tvec!(tensor.into())).map_err(|e| Error::Inference(format!("{e:#}")))?;
        let logits = out[0].to_plain_array_view::<f32>().map_err(|e| Error::Inference(e.to_string()))?.iter().copied().collect();
        let features = if self.has_features {
            let view = out[1].to_plain_array_view::<f32>().map_err(|e| Error::Inference(e.to_string()))?;
            let shape = view.shape().to_vec();
            Some(FeatureMap { channels: shape[1], height: shape[2], width: shape[3], data: view.iter().copied().collect() })
        } else {
            None
        };
        Ok(RawOutput { logits, features })
    }
}
