//! Model loading and inference with tract: load (parse ONNX), optimise once,
//! then run many images through one reusable plan and state.

use crate::error::{Error, Result};
use crate::model::cam::FeatureMap;
use std::io::Cursor;
use tract_onnx::prelude::*;

/// What reading and running a model needs to know of it: its manifest says it, and
/// `crate::classify` hands it over (this stage never reads the whole manifest).
#[derive(Debug, Clone, PartialEq)]
pub struct Io {
    /// The input's width and height (pixels): NCHW, batch 1, three channels.
    pub width: usize,
    pub height: usize,
    /// The name of the output that holds the class scores.
    pub logits: String,
    /// The name of the feature map's output, if the model has one.
    pub features: Option<String>,
    /// How many classes the scores cover.
    pub classes: usize,
    /// The feature map's channels that the class activation map expects, if it has one.
    pub feature_channels: Option<usize>,
}

/// The raw outputs of one forward pass.
#[derive(Debug, Clone)]
pub struct RawOutput {
    pub logits: Vec<f32>,
    /// The feature map before global pooling, `[channels, height, width]`, if the model has one.
    pub features: Option<FeatureMap>,
}

/// An optimised, runnable model.
pub struct Model {
    state: TypedSimpleState,
    has_features: bool,
    width: usize,
    height: usize,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("width", &self.width).field("height", &self.height).field("has_features", &self.has_features).finish()
    }
}

fn load_err(e: impl std::fmt::Display) -> Error {
    Error::ModelLoad(format!("{e:#}"))
}

impl Model {
    /// Reads, types, declutters and optimises the ONNX model `onnx` (its inputs and outputs as
    /// `io` says; the caller has checked its manifest and digest), telling `phase` as each step
    /// ends: `"parsed"` (ONNX read), `"typed"`, `"decluttered"`, `"optimised"`, `"planned"`. The
    /// worker marks them on the browser's timeline (scripts/bench/bench-cold.mjs). Call once; then
    /// [`Model::run`] for every image.
    pub fn read(io: &Io, onnx: &[u8], phase: &mut dyn FnMut(&'static str)) -> Result<Model> {
        let (w, h) = (io.width, io.height);
        let mut outputs = vec![io.logits.clone()];
        if let Some(f) = &io.features {
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
        let n = io.classes;
        if logits_fact.shape.as_concrete().map(|s| s.iter().product::<usize>()) != Some(n) {
            return Err(Error::ModelLoad(format!("the model outputs {:?} scores but the manifest lists {n} classes", logits_fact.shape)));
        }
        if let (Some(channels), true) = (io.feature_channels, outputs.len() > 1) {
            let ff = typed.output_fact(1).map_err(load_err)?;
            let c = ff.shape.as_concrete().and_then(|s| s.get(1).copied());
            if ff.rank() != 4 || c != Some(channels) {
                return Err(Error::ModelLoad(format!(
                    "the feature map has shape {:?}, the manifest expects {} channels",
                    ff.shape, channels
                )));
            }
        }
        let plan = typed.into_runnable().map_err(load_err)?;
        let state = TypedSimpleState::new(&plan).map_err(load_err)?;
        phase("planned");
        Ok(Model { has_features: outputs.len() > 1, state, width: w, height: h })
    }

    /// Runs one preprocessed NCHW tensor through the model.
    pub fn run(&mut self, input: &[f32]) -> Result<RawOutput> {
        let (w, h) = (self.width, self.height);
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
