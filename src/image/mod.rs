//! The file as pixels: bytes → RGB image with size and memory limits ([`decode`]), an image
//! (a cell or a cell's crop) → the model's input tensor as the manifest says ([`preprocess`]),
//! the scale the model was trained at, which every cell is cut to ([`cell_scale`]),
//! the largest centred square of an image ([`frame`]), the batch list's small previews made
//! from the decoded pixels ([`thumbnail`]), and JPEG bytes of a crop or a preview ([`jpeg`]).
//!
//! This module shares its name with the `image` crate. Outside the crate root, `use image::…`
//! still means the crate (a module's own names come first, and none imports this module by the
//! name `image`); this stage is always written `crate::image::…`.

pub mod cell_scale;
pub mod decode;
pub mod frame;
pub mod jpeg;
pub mod preprocess;
pub mod thumbnail;
