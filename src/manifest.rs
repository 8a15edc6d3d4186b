//! The model manifest: everything the app needs to know about a model, read
//! from `manifest.json` beside the ONNX file. Nothing about the model is
//! hard-coded in the UI.

// Each stage owns the description of what it needs (its "spec"): the manifest only assembles
// them, so the stages never import the manifest and the manifest sits above them
// (docs/architecture.md, "What each folder may import").
pub use crate::image::preprocess::InputSpec;
pub use crate::model::cam::CamSpec;

use crate::error::{Error, Result};
use crate::taxonomy;
use crate::uncertainty::conformal::ConformalSpec;
use crate::uncertainty::ood::OodSpec;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "marrowscope-manifest/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputSpec {
    pub logits: String,
    #[serde(default)]
    pub features: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Metrics {
    #[serde(default)]
    pub split: String,
    #[serde(default)]
    pub engine: String,
    #[serde(default)]
    pub accuracy: f64,
    #[serde(default)]
    pub macro_f1: f64,
    #[serde(default)]
    pub per_class: BTreeMap<String, ClassMetrics>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TrainingInfo {
    #[serde(default)]
    pub data: String,
    #[serde(default)]
    pub citation: String,
    #[serde(default)]
    pub license: String,
    #[serde(default)]
    pub backbone: String,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: String,
    pub model_id: String,
    pub version: String,
    pub onnx_file: String,
    pub sha256: String,
    pub classes: Vec<String>,
    pub input: InputSpec,
    pub outputs: OutputSpec,
    #[serde(default)]
    pub cam: Option<CamSpec>,
    pub low_confidence_threshold: f32,
    #[serde(default)]
    pub threshold_rule: String,
    #[serde(default)]
    pub training: TrainingInfo,
    #[serde(default)]
    pub metrics: Metrics,
    /// Conformal calibration for prediction sets (absent in older manifests: no sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conformal: Option<ConformalSpec>,
    /// Statistics of the model's own features for the out-of-distribution flag (absent in
    /// older manifests: no flag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ood: Option<OodSpec>,
    /// Per class, the sources (specimens) its training images came from: `marrow` (bone
    /// marrow, MLL) and/or `blood` (peripheral blood, PBC). Absent in older manifests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub class_sources: BTreeMap<String, Vec<String>>,
}

impl Manifest {
    /// Parses and validates a manifest.
    pub fn from_json(text: &str) -> Result<Manifest> {
        let m: Manifest = serde_json::from_str(text).map_err(|e| Error::InvalidManifest(format!("it is not valid manifest JSON ({e})")))?;
        m.validate()?;
        Ok(m)
    }

    /// Checks the manifest's own consistency and that every class is an MLL class.
    pub fn validate(&self) -> Result<()> {
        let bad = |s: String| Err(Error::InvalidManifest(s));
        if self.schema != SCHEMA {
            return bad(format!("schema is \"{}\", expected \"{SCHEMA}\"", self.schema));
        }
        if self.classes.is_empty() {
            return bad("it lists no classes".into());
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.classes {
            if taxonomy::by_code(c).is_none() {
                return bad(format!("class \"{c}\" is not one of the 21 MLL classes (or PLT, platelets)"));
            }
            if !seen.insert(c.to_ascii_uppercase()) {
                return bad(format!("class \"{c}\" is listed twice"));
            }
        }
        let i = &self.input;
        if !(16..=1024).contains(&i.width) || !(16..=1024).contains(&i.height) {
            return bad(format!("input size {}×{} is outside 16..1024", i.width, i.height));
        }
        if i.layout != "NCHW" {
            return bad(format!("input layout \"{}\" is not supported (only NCHW)", i.layout));
        }
        if i.channels != "RGB" {
            return bad(format!("input channels \"{}\" are not supported (only RGB)", i.channels));
        }
        if i.scale.is_nan() || i.scale <= 0.0 || i.std.iter().any(|s| s.is_nan() || *s <= 0.0) || i.mean.iter().any(|m| !m.is_finite()) {
            return bad("input scale and std must be positive and mean finite".into());
        }
        if !(0.0..=1.0).contains(&self.low_confidence_threshold) {
            return bad(format!("low_confidence_threshold {} is not between 0 and 1", self.low_confidence_threshold));
        }
        if self.sha256.len() != 64 || !self.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            return bad("sha256 is not a 64-digit hexadecimal checksum".into());
        }
        if let Some(cam) = &self.cam {
            if cam.weights.len() != self.classes.len() {
                return bad(format!("cam.weights has {} rows for {} classes", cam.weights.len(), self.classes.len()));
            }
            if cam.weights.iter().any(|w| w.len() != cam.channels) {
                return bad(format!("every cam.weights row must have {} values", cam.channels));
            }
            if self.outputs.features.as_deref() != Some(cam.features_output.as_str()) {
                return bad("cam.features_output must name outputs.features".into());
            }
        }
        if let Some(s) = &i.cell_scale {
            s.validate().map_err(Error::InvalidManifest)?;
        }
        for code in self.class_sources.keys() {
            if !self.knows(code) {
                return bad(format!("class_sources names \"{code}\", which is not one of the model's classes"));
            }
        }
        if let Some(c) = &self.conformal {
            c.validate().map_err(Error::InvalidManifest)?;
        }
        if let Some(o) = &self.ood {
            o.validate(self.cam.as_ref().map(|c| c.channels)).map_err(Error::InvalidManifest)?;
        }
        Ok(())
    }

    /// Verifies the model bytes against the manifest's sha256 before loading.
    pub fn verify_model_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.verify_model_digest(&sha256_hex(bytes))
    }

    /// [`Manifest::verify_model_bytes`] for a SHA-256 (hex) computed elsewhere: the browser's
    /// own (`crypto.subtle`) is about 15 times faster than this crate's in WebAssembly.
    pub fn verify_model_digest(&self, actual_hex: &str) -> Result<()> {
        if actual_hex.eq_ignore_ascii_case(&self.sha256) {
            Ok(())
        } else {
            Err(Error::ModelChecksum { expected: self.sha256.to_ascii_lowercase(), actual: actual_hex.to_ascii_lowercase() })
        }
    }

    /// How the model did on white cells of laboratories it never saw (`metrics.other_labs`,
    /// written by `training/record_other_labs.py`), in words; `None` when the manifest does not say.
    pub fn other_labs_text(&self) -> Option<String> {
        let sets = self.metrics.extra.get("other_labs")?.as_array()?;
        let parts: Vec<String> = sets
            .iter()
            .filter_map(|s| {
                let name = s.get("name").or_else(|| s.get("set"))?.as_str()?;
                let (n, f1) = (s.get("n")?.as_u64()?, s.get("macro_f1")?.as_f64()?);
                Some(format!("{name}: macro-F1 {f1:.2} ({n} cells)"))
            })
            .collect();
        (!parts.is_empty()).then(|| {
            format!(
                "five types (neutrophil, lymphocyte, monocyte, eosinophil, basophil) from laboratories it never learned from; {}. \
                 Expect your own laboratory's images to score lower than the figures above until you check them \
                 (the panel \"Calibrate to your laboratory\" beside the results).",
                parts.join("; ")
            )
        })
    }

    /// Where the model learned a class, in words ("learned from peripheral blood only"); `None`
    /// when the manifest does not say or the model does not know the class.
    pub fn learned_from(&self, code: &str) -> Option<String> {
        let sources = self.class_sources.iter().find(|(c, _)| c.eq_ignore_ascii_case(code))?.1;
        let has = |s: &str| sources.iter().any(|x| x == s);
        let name = |s: &str| match s {
            "marrow" => "bone marrow".to_string(),
            "blood" => "peripheral blood".to_string(),
            other => other.to_string(),
        };
        Some(match sources.as_slice() {
            [] => return None,
            [one] => format!("learned from {} only", name(one)),
            _ if has("marrow") && has("blood") && sources.len() == 2 => "learned from bone marrow and peripheral blood".to_string(),
            many => format!("learned from {}", many.iter().map(|s| name(s)).collect::<Vec<_>>().join(", ")),
        })
    }

    /// Whether this model can output the class with this code.
    pub fn knows(&self, code: &str) -> bool {
        self.classes.iter().any(|c| c.eq_ignore_ascii_case(code))
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            schema: SCHEMA.into(),
            model_id: "t".into(),
            version: "1".into(),
            onnx_file: "m.onnx".into(),
            sha256: sha256_hex(b"model"),
            classes: vec!["NGS".into(), "LYT".into()],
            input: InputSpec {
                name: "input".into(),
                width: 32,
                height: 32,
                layout: "NCHW".into(),
                channels: "RGB".into(),
                scale: 255.0,
                mean: [0.5; 3],
                std: [0.5; 3],
                resize: "bilinear".into(),
                cell_scale: None,
            },
            outputs: OutputSpec { logits: "logits".into(), features: Some("features".into()) },
            cam: Some(CamSpec {
                features_output: "features".into(),
                channels: 2,
                weights: vec![vec![1.0, 0.0], vec![0.0, 1.0]],
                bias: vec![0.0, 0.0],
            }),
            low_confidence_threshold: 0.6,
            threshold_rule: String::new(),
            training: Default::default(),
            metrics: Default::default(),
            conformal: None,
            ood: None,
            class_sources: BTreeMap::new(),
        }
    }

    #[test]
    fn round_trip_and_checksum() {
        let m = sample();
        let text = serde_json::to_string(&m).unwrap();
        let back = Manifest::from_json(&text).unwrap();
        assert_eq!(back, m);
        assert!(back.verify_model_bytes(b"model").is_ok());
        assert!(matches!(back.verify_model_bytes(b"modem"), Err(Error::ModelChecksum { .. })));
        assert!(back.knows("ngs") && !back.knows("BLA"));
    }

    #[test]
    fn rejects_unknown_class_and_bad_shapes() {
        let mut m = sample();
        m.classes[1] = "XYZ".into();
        assert!(m.validate().unwrap_err().to_string().contains("XYZ"));
        let mut m = sample();
        m.cam.as_mut().unwrap().weights.pop();
        assert!(m.validate().is_err());
        let mut m = sample();
        m.classes.push("NGS".into());
        assert!(m.validate().is_err());
        let mut m = sample();
        m.sha256 = "abc".into();
        assert!(m.validate().is_err());
        assert!(Manifest::from_json("{not json").is_err());
    }

    #[test]
    fn cell_scale_and_class_sources() {
        let mut m = sample();
        m.classes.push("PLT".into());
        m.cam = None;
        m.input.cell_scale = Some(crate::image::cell_scale::CellScale::default());
        m.class_sources = [("NGS", vec!["marrow", "blood"]), ("LYT", vec!["marrow"]), ("PLT", vec!["blood"])]
            .into_iter()
            .map(|(c, s)| (c.to_string(), s.into_iter().map(String::from).collect()))
            .collect();
        let back = Manifest::from_json(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back.input.cell_scale.map(|s| (s.nucleus_diameter_px, s.crop_side)), Some((120.0, 250)));
        assert_eq!(back.learned_from("PLT").as_deref(), Some("learned from peripheral blood only"));
        assert_eq!(back.learned_from("lyt").as_deref(), Some("learned from bone marrow only"));
        assert_eq!(back.learned_from("NGS").as_deref(), Some("learned from bone marrow and peripheral blood"));
        assert_eq!(back.learned_from("BLA"), None);
        let mut bad = m.clone();
        bad.class_sources.insert("BLA".into(), vec!["marrow".into()]);
        assert!(bad.validate().unwrap_err().to_string().contains("BLA"));
        let mut bad = m.clone();
        bad.input.cell_scale = Some(crate::image::cell_scale::CellScale {
            nucleus_diameter_px: 400.0,
            crop_side: 250,
            size_exponent: 1.0,
            nucleus_range_px: None,
            fill: crate::image::cell_scale::CropFill::Edge,
            white_balance: false,
            mask_radius: None,
        });
        assert!(bad.validate().is_err());
        // The other laboratories' figures, where the manifest has them.
        let mut with = m.clone();
        assert!(with.other_labs_text().is_none());
        with.metrics.extra.insert(
            "other_labs".into(),
            serde_json::json!([{"set": "tecom", "name": "Tecom cells", "n": 300, "macro_f1": 0.2686}, {"set": "broken"}]),
        );
        let text = with.other_labs_text().expect("a text");
        assert!(text.contains("Tecom cells: macro-F1 0.27 (300 cells)") && !text.contains("broken"), "{text}");
        // Older manifests have neither: whole-image resizing, no sources.
        let old = Manifest::from_json(&serde_json::to_string(&sample()).unwrap()).unwrap();
        assert!(old.input.cell_scale.is_none() && old.learned_from("NGS").is_none());
    }
}
