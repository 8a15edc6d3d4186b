//! The model: loading, optimising and running it with tract ([`inference`], with [`dequantize`]
//! and [`fake_quant`], all behind feature `engine`), and what its outputs become: probabilities
//! and ranks ([`scores`]) and class activation maps ([`cam`]). What a model is, read from
//! `manifest.json`, is [`crate::manifest`], above this stage.

pub mod cam;
#[cfg(feature = "engine")]
pub mod dequantize;
#[cfg(feature = "engine")]
pub mod fake_quant;
#[cfg(feature = "engine")]
pub mod inference;
pub mod scores;
