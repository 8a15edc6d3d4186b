//! The tensor dump read by `training/parity.py`: every input tensor with tract's
//! probabilities, so onnxruntime can be run on exactly the same inputs.
//!
//! Little-endian: `b"MSDUMP1\0"`, u32 count, channels, height, width, classes; then per
//! item `f32[C*H*W]` input and `f32[K]` probabilities.

use crate::image::preprocess::InputSpec;
use std::io::{self, Write};

pub struct DumpWriter<W: Write> {
    out: W,
}

impl<W: Write> DumpWriter<W> {
    pub fn new(mut out: W, count: usize, input: &InputSpec, classes: usize) -> io::Result<Self> {
        out.write_all(b"MSDUMP1\0")?;
        for v in [count as u32, 3, input.height, input.width, classes as u32] {
            out.write_all(&v.to_le_bytes())?;
        }
        Ok(DumpWriter { out })
    }

    pub fn push(&mut self, tensor: &[f32], probabilities: &[f32]) -> io::Result<()> {
        for v in tensor.iter().chain(probabilities) {
            self.out.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
