//! One image (a cell, or a crop at the model's scale) → a ranked prediction: preprocess → infer → rank,
//! with the prediction set, the outside-the-model flag and the class activation map. The whole
//! path from a file's bytes (single cell or field) is [`crate::pipeline`].

use crate::manifest::Manifest;
use crate::model::cam::{self, FeatureMap};
pub use crate::model::scores::Ranked;
#[cfg(feature = "engine")]
use crate::{
    cells::crop::{self, Around, Crop},
    cells::FoundCell,
    error::Result,
    image::cell_scale::CellScale,
    image::decode::{decode, Decoded},
    image::preprocess::to_tensor,
    model::inference::{Io, Model},
    model::scores::{softmax, top_k},
    taxonomy,
};
#[cfg(feature = "engine")]
use image::RgbImage;

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
    pub ood: Option<crate::uncertainty::ood::OodAssessment>,
    /// The source (specimen) the image looks like, when the manifest's conformal calibration has
    /// a source model: its prediction sets use that source's calibration.
    pub source: Option<crate::uncertainty::conformal::SourceGuess>,
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
    pub fn prediction_set(&self, manifest: &Manifest, level: crate::uncertainty::conformal::Level) -> Option<Vec<&Ranked>> {
        let set = manifest.conformal.as_ref()?.set_for_ranked(&self.ranked, level, self.source.as_ref())?;
        Some(self.ranked.iter().take(set.size).collect())
    }

    /// The class activation map of the class at manifest index `class_index`.
    pub fn heatmap(&self, manifest: &Manifest, class_index: usize) -> Option<cam::Heatmap> {
        cam::class_activation(self.features.as_ref()?, manifest.cam.as_ref()?, class_index)
    }
}

/// A loaded model ready to classify many images, with its manifest.
#[cfg(feature = "engine")]
pub struct Classifier {
    manifest: Manifest,
    model: Model,
}

#[cfg(feature = "engine")]
impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier").field("model_id", &self.manifest.model_id).field("model", &self.model).finish()
    }
}

/// A classifier whose model is read and optimised but whose file is not yet checked against the
/// manifest's SHA-256 ([`Classifier::read_unchecked`]): it classifies nothing until
/// [`Unchecked::check`] has compared the file's digest.
#[cfg(feature = "engine")]
#[derive(Debug)]
#[must_use = "an unchecked model classifies nothing until `check` has compared its digest"]
pub struct Unchecked(Classifier);

#[cfg(feature = "engine")]
impl Unchecked {
    /// The classifier, if `sha256_hex` (the model file's digest, computed by the caller) is the
    /// manifest's; else the checksum error a wrong file gets from [`Classifier::new`].
    pub fn check(self, sha256_hex: &str) -> Result<Classifier> {
        self.0.manifest().verify_model_digest(sha256_hex)?;
        Ok(self.0)
    }
}

#[cfg(feature = "engine")]
impl Classifier {
    /// Checks the manifest and the model file against its SHA-256, then reads and optimises the
    /// model ([`Model::read`]). Call once; then classify every image.
    pub fn new(manifest: Manifest, onnx: &[u8]) -> Result<Classifier> {
        Self::new_observed(manifest, onnx, None, &mut |_| {})
    }

    /// Reads a model folder as the site ships it: `dir/manifest.json` and the ONNX file it names
    /// (the native tools and examples; the page and the worker fetch them instead).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_dir(dir: &std::path::Path) -> Result<Classifier> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| crate::error::Error::InvalidManifest(format!("{} could not be read ({e})", path.display())))?;
        let manifest = Manifest::from_json(&text)?;
        let path = dir.join(&manifest.onnx_file);
        let onnx =
            std::fs::read(&path).map_err(|e| crate::error::Error::ModelLoad(format!("{} could not be read ({e})", path.display())))?;
        Classifier::new(manifest, &onnx)
    }

    /// [`Classifier::new`], telling `phase` as each step of the load ends: `"checked"` (manifest
    /// and checksum), then [`Model::read`]'s. `sha256`: the bytes' digest (hex) when the caller
    /// computed it already; `None` computes it here.
    pub fn new_observed(manifest: Manifest, onnx: &[u8], sha256: Option<&str>, phase: &mut dyn FnMut(&'static str)) -> Result<Classifier> {
        manifest.validate()?;
        match sha256 {
            Some(hex) => manifest.verify_model_digest(hex)?,
            None => manifest.verify_model_bytes(onnx)?,
        }
        phase("checked");
        Self::read(manifest, onnx, phase)
    }

    /// Reads and optimises the model without checking its file against the manifest's SHA-256
    /// yet: the worker reads the model while the browser computes the digest on another thread
    /// (`crypto.subtle`), then calls [`Unchecked::check`]. `phase` as for
    /// [`Classifier::new_observed`], without `"checked"`.
    pub fn read_unchecked(manifest: Manifest, onnx: &[u8], phase: &mut dyn FnMut(&'static str)) -> Result<Unchecked> {
        manifest.validate()?;
        Ok(Unchecked(Self::read(manifest, onnx, phase)?))
    }

    /// Reads and optimises the model of a valid manifest, as much of it as the model stage needs.
    fn read(manifest: Manifest, onnx: &[u8], phase: &mut dyn FnMut(&'static str)) -> Result<Classifier> {
        let io = Io {
            width: manifest.input.width as usize,
            height: manifest.input.height as usize,
            logits: manifest.outputs.logits.clone(),
            features: manifest.outputs.features.clone(),
            classes: manifest.classes.len(),
            feature_channels: manifest.cam.as_ref().map(|c| c.channels),
        };
        let model = Model::read(&io, onnx, phase)?;
        Ok(Classifier { manifest, model })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Classifies an image file's bytes.
    /// Classifies an image file's bytes as a single-cell image ([`Classifier::classify_single`]).
    pub fn classify_bytes(&mut self, bytes: &[u8]) -> Result<Prediction> {
        let decoded = decode(bytes)?;
        Ok(self.classify_single(&decoded)?.0)
    }

    /// Classifies a single-cell image as the app does: where the manifest gives the model's
    /// training scale (`input.cell_scale`), the central cell is found, measured and cut out at
    /// that scale first ([`crop::cut`] around [`Around::Centre`]), whatever the image's framing or
    /// resolution; the crop the model saw comes back with the prediction (`None`: the image was
    /// resized whole). Width, height and format are the original image's.
    pub fn classify_single(&mut self, decoded: &Decoded) -> Result<(Prediction, Option<Crop>)> {
        let Some(scale) = self.manifest.input.cell_scale else {
            return Ok((self.classify_decoded(decoded)?, None));
        };
        let (mut p, crop) = self.classify_cut(&decoded.image, Around::Centre, &scale)?;
        (p.width, p.height, p.format) = (decoded.image.width(), decoded.image.height(), decoded.format);
        Ok((p, Some(crop)))
    }

    /// Classifies one cell of a field (found, or pointed at) as the app does: cut out of `image`
    /// (the full-resolution original) at the model's training scale, or the MLL scale where the
    /// manifest gives none ([`crop::cut`] around [`Around::Cell`]). Width and height are the
    /// crop's, the format "field crop".
    pub fn classify_cell(&mut self, image: &RgbImage, cell: &FoundCell) -> Result<(Prediction, Crop)> {
        let scale = self.manifest.input.cell_scale.unwrap_or_default();
        let (mut p, crop) = self.classify_cut(image, Around::Cell(cell), &scale)?;
        (p.width, p.height, p.format) = (crop.image.width(), crop.image.height(), "field crop");
        Ok((p, crop))
    }

    /// The cell `around` cut out of `image` at `scale` and classified.
    fn classify_cut(&mut self, image: &RgbImage, around: Around<'_>, scale: &CellScale) -> Result<(Prediction, Crop)> {
        let crop = crop::cut(image, around, scale).map_err(|e| crate::error::Error::Inference(e.to_string()))?;
        let tensor = to_tensor(&crop.image, &self.manifest.input);
        Ok((self.classify_tensor(&tensor)?, crop))
    }

    /// Classifies the image resized whole (no cell-finding: for crops already at the model's
    /// scale, such as a field's cells).
    pub fn classify_decoded(&mut self, decoded: &Decoded) -> Result<Prediction> {
        let tensor = to_tensor(&decoded.image, &self.manifest.input);
        let mut p = self.classify_tensor(&tensor)?;
        (p.width, p.height, p.format) = (decoded.image.width(), decoded.image.height(), decoded.format);
        Ok(p)
    }

    /// Runs an already preprocessed tensor (used by the parity check).
    pub fn classify_tensor(&mut self, tensor: &[f32]) -> Result<Prediction> {
        let raw = self.model.run(tensor)?;
        let probabilities = softmax(&raw.logits);
        let m = &self.manifest;
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
        let source = match (m.conformal.as_ref().and_then(|c| c.source_model.as_ref()), &raw.features) {
            (Some(sm), Some(f)) => crate::uncertainty::ood::pool(f).and_then(|pooled| sm.guess(&pooled)),
            _ => None,
        };
        Ok(Prediction { probabilities, ranked, low_confidence, ood, source, features: raw.features, width: 0, height: 0, format: "tensor" })
    }
}
