//! The worker's benchmark (`bench`, run by scripts/bench/bench.mjs): one image decoded and
//! preprocessed once, then the same tensor through the model `n` times, each timed.

use super::{now, scope, with_classifier};
use crate::web::protocol::Reply;

/// Decodes and preprocesses once, then times `n` inferences of the same tensor.
pub(super) fn bench(id: u32, bytes: &[u8], n: usize) -> Reply {
    with_classifier(id, |c| {
        let t0 = now();
        let tensor = match crate::image::decode::decode(bytes) {
            Ok(d) => crate::image::preprocess::to_tensor(&d.image, &c.manifest().input),
            Err(e) => return Reply::Failed { id, message: e.to_string() },
        };
        let preprocess_ms = now() - t0;
        let perf = scope().performance();
        let clock = || perf.as_ref().map(|p| p.now()).unwrap_or_else(now);
        let mut inference_ms = Vec::with_capacity(n);
        for _ in 0..n {
            let t = clock();
            if let Err(e) = c.classify_tensor(&tensor) {
                return Reply::Failed { id, message: e.to_string() };
            }
            inference_ms.push(clock() - t);
        }
        Reply::Bench { id, preprocess_ms, inference_ms }
    })
}
