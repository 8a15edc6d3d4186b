//! Evaluation and parity tooling: labelled image lists ([`dataset`]), accuracy, F1, confusion
//! and calibration ([`metrics`]), and the tensor dump that `training/parity.py` compares with
//! onnxruntime ([`dump`]).

pub mod dataset;
pub mod dump;
pub mod five_way;
pub mod metrics;
pub mod shift;
