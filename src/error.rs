//! Errors as values, with messages written for the person at the microscope.

use thiserror::Error;

/// Everything that can go wrong between a file and a result.
///
/// Every variant's message is meant to be shown as it is to a clinician or a
/// student: it says what happened and, where possible, what to do.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    #[error("The file is empty (0 bytes). Choose the image file again; it may not have finished copying.")]
    EmptyFile,
    #[error("The file is too big ({size_mb:.1} MB; the limit is {limit_mb} MB). Export a single-cell crop instead.")]
    FileTooBig { size_mb: f64, limit_mb: u64 },
    #[error("This is {kind}, not a photograph of a cell. Use a JPEG, PNG, GIF, BMP, TIFF or WebP image.")]
    UnsupportedFormat { kind: String },
    #[error("The image could not be read: {detail}. The file may be damaged or not an image.")]
    CorruptImage { detail: String },
    #[error("The image is {width}×{height} pixels; the limit is {limit}×{limit}. Crop it to a single cell first.")]
    ImageTooLarge { width: u32, height: u32, limit: u32 },
    #[error("The image is {width}×{height} pixels, too small to show a cell (at least {min}×{min} is needed).")]
    ImageTooSmall { width: u32, height: u32, min: u32 },
    #[error("The model description (manifest) is not valid: {0}")]
    InvalidManifest(String),
    #[error("The model file does not match its manifest: its checksum is {actual}, the manifest expects {expected}. The download may be incomplete or the wrong file was chosen.")]
    ModelChecksum { expected: String, actual: String },
    #[error("The model could not be loaded: {0}")]
    ModelLoad(String),
    #[error("The model could not classify this image: {0}")]
    Inference(String),
    #[error("Export failed: {0}")]
    Export(String),
}

pub type Result<T> = std::result::Result<T, Error>;
