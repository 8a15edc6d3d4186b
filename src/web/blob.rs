//! Browser `Blob`s of the JPEGs the worker makes (the crop the model saw, the list's preview):
//! made in the worker for a single cell (`protocol::BLOBS`), on the page otherwise.

/// JPEG bytes as a browser Blob of type `image/jpeg`.
pub fn jpeg(bytes: &[u8]) -> Option<web_sys::Blob> {
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("image/jpeg");
    web_sys::Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(&js_sys::Uint8Array::from(bytes)), &opts).ok()
}
