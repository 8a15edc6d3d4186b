//! The whole path from file bytes to a result: decode → preprocess → infer → rank.

use crate::cam::{self, FeatureMap};
use crate::manifest::Manifest;
#[cfg(feature = "engine")]
use crate::{
    decode::{decode, Decoded},
    error::Result,
    inference::Model,
    preprocess::to_tensor,
    scores::{softmax, top_k},
    taxonomy,
};

/// One ranked class of a prediction.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Ranked {
    pub code: String,
    pub name: String,
    pub probability: f32,
}

/// The model's answer for one image.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// Probabilities in the manifest's class order.
    pub probabilities: Vec<f32>,
    /// All classes, most probable first.
    pub ranked: Vec<Ranked>,
    /// True when the top probability is below the manifest's low-confidence threshold.
    pub low_confidence: bool,
    /// The out-of-distribution flag, when the manifest has `ood` statistics and the model a
    /// feature map.
    pub ood: Option<crate::ood::OodAssessment>,
    pub features: Option<FeatureMap>,
    pub width: u32,
    pub height: u32,
    pub format: &'static str,
}

impl Prediction {
    pub fn top(&self) -> &Ranked {
        &self.ranked[0]
    }

    /// The prediction set at `level`, when the manifest has a conformal calibration.
    pub fn prediction_set(&self, manifest: &Manifest, level: crate::conformal::Level) -> Option<Vec<&Ranked>> {
        let set = manifest.conformal.as_ref()?.set_for_ranked(&self.ranked, level)?;
        Some(self.ranked.iter().take(set.size).collect())
    }

    /// The class activation map of the class at manifest index `class_index`.
    pub fn heatmap(&self, manifest: &Manifest, class_index: usize) -> Option<cam::Heatmap> {
        cam::class_activation(self.features.as_ref()?, manifest.cam.as_ref()?, class_index)
    }
}

/// A loaded model ready to classify many images.
#[cfg(feature = "engine")]
#[derive(Debug)]
pub struct Classifier {
    model: Model,
}

#[cfg(feature = "engine")]
impl Classifier {
    pub fn new(manifest: Manifest, onnx: &[u8]) -> Result<Classifier> {
        Ok(Classifier { model: Model::load(manifest, onnx)? })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.model.manifest
    }

    /// Classifies an image file's bytes.
    pub fn classify_bytes(&mut self, bytes: &[u8]) -> Result<Prediction> {
        let decoded = decode(bytes)?;
        self.classify_decoded(&decoded)
    }

    pub fn classify_decoded(&mut self, decoded: &Decoded) -> Result<Prediction> {
        let tensor = to_tensor(&decoded.image, &self.model.manifest.input);
        let mut p = self.classify_tensor(&tensor)?;
        (p.width, p.height, p.format) = (decoded.image.width(), decoded.image.height(), decoded.format);
        Ok(p)
    }

    /// Runs an already preprocessed tensor (used by the parity check).
    pub fn classify_tensor(&mut self, tensor: &[f32]) -> Result<Prediction> {
        let raw = self.model.run(tensor)?;
        let probabilities = softmax(&raw.logits);
        let m = &self.model.manifest;
        let ranked: Vec<Ranked> = top_k(&probabilities, probabilities.len())
            .into_iter()
            .map(|i| Ranked {
                code: m.classes[i].clone(),
                name: taxonomy::name_of(&m.classes[i]).to_string(),
                probability: probabilities[i],
            })
            .collect();
        let low_confidence = ranked[0].probability < m.low_confidence_threshold;
        let ood = match (&m.ood, &raw.features) {
            (Some(spec), Some(f)) => spec.assess(f),
            _ => None,
        };
        Ok(Prediction { probabilities, ranked, low_confidence, ood, features: raw.features, width: 0, height: 0, format: "tensor" })
    }
}
