//! How far to trust a prediction: prediction sets with guaranteed coverage ([`conformal`]) and
//! the "outside what this model knows" flag from the model's own features ([`ood`]).

pub mod conformal;
pub mod lab;
pub mod ood;
pub mod shift;
