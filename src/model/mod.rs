//! The model: what a model is ([`manifest`], read from `manifest.json`), loading, optimising and
//! running it with tract ([`inference`], with [`dequantize`] and [`fake_quant`], all behind
//! feature `engine`), and what its outputs become: probabilities and ranks ([`scores`]) and
//! class activation maps ([`cam`]).

pub mod cam;
#[cfg(feature = "engine")]
pub mod dequantize;
#[cfg(feature = "engine")]
pub mod fake_quant;
#[cfg(feature = "engine")]
pub mod inference;
pub mod manifest;
pub mod scores;
