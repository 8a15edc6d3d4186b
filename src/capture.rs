//! Counting at the microscope with a camera (issue 52): what the page's camera view decides,
//! in plain Rust so that it is tested natively. The page (`src/ui/camera.rs`) only asks the
//! browser for the camera and its frames; a captured frame then takes the same path as a
//! dropped file ([`crate::pipeline::read_file`]).
//!
//! - [`capture_name`]: the name a captured frame is listed and stored under (`capture-…`);
//! - [`Problem`]: what went wrong with the camera, from the browser's error name, in words;
//! - [`too_dark`]: a frame too dark to find cells in (checked on the live view and on capture);
//! - [`live_boxes`]: the white cells of a live frame, detection only (no classification);
//! - [`Target`]: the running differential's target (100, 200 or 500 white cells) and progress.

use crate::cells::fields::{self, Layout};
use crate::cells::FoundCell;
use crate::count::reference::CountKind;
use image::RgbImage;

/// The name of a frame captured at this local date and time: `capture-2026-12-07-180503-123.jpg`
/// (milliseconds included, so that two captures within a second are two entries, and no
/// character a file system refuses, so that the exports and a saved copy keep it).
pub fn capture_name(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32, ms: u32) -> String {
    format!("capture-{year:04}-{month:02}-{day:02}-{hour:02}{minute:02}{second:02}-{ms:03}.jpg")
}

/// Whether `name` is that of a captured frame.
pub fn is_capture(name: &str) -> bool {
    name.starts_with("capture-")
}

/// What stops the live view, from the name of the browser's error (`DOMException.name`) or
/// from what the page saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The browser has no camera API here (an old browser, or a page not served securely).
    Unsupported,
    /// No camera is connected (or the one chosen is gone).
    NoCamera,
    /// The person (or the browser's settings) refused the permission.
    Denied,
    /// The camera is used by another program, or could not start.
    Busy,
    /// The camera stopped while the view was open (unplugged, taken by another program).
    Lost,
    /// Anything else the browser said.
    Other,
}

impl Problem {
    /// From `DOMException.name` of a failed `getUserMedia`.
    pub fn from_error_name(name: &str) -> Problem {
        match name {
            "NotAllowedError" | "PermissionDeniedError" | "SecurityError" => Problem::Denied,
            "NotFoundError" | "DevicesNotFoundError" | "OverconstrainedError" | "ConstraintNotSatisfiedError" => Problem::NoCamera,
            "NotReadableError" | "TrackStartError" | "AbortError" => Problem::Busy,
            "TypeError" | "NotSupportedError" => Problem::Unsupported,
            _ => Problem::Other,
        }
    }

    /// The view's `data-state`: `denied`, `no-camera` or `error`.
    pub fn state(self) -> &'static str {
        match self {
            Problem::Denied => "denied",
            Problem::NoCamera | Problem::Unsupported => "no-camera",
            Problem::Busy | Problem::Lost | Problem::Other => "error",
        }
    }

    /// What the person reads, and what to do.
    pub fn message(self) -> &'static str {
        match self {
            Problem::Unsupported => {
                "This browser cannot use a camera on this page. Use a current Chrome, Edge, Firefox or Safari, or take the pictures with the camera's own program and drop them here."
            }
            Problem::NoCamera => {
                "No camera was found. Connect the microscope's camera (or a webcam) and press Retry; on a phone, use \"Take a photo\"."
            }
            Problem::Denied => {
                "The permission to use the camera was refused. Allow the camera for this site in the browser's address bar (the camera icon), then press Retry. Nothing is sent anywhere: the pictures stay in this browser."
            }
            Problem::Busy => {
                "The camera could not start: another program (a video call, the microscope's own software) may be using it. Close that program and press Retry."
            }
            Problem::Lost => {
                "The camera stopped sending pictures: it was unplugged or taken by another program. Plug it in again or close the other program, then press Retry. Your captures are kept."
            }
            Problem::Other => "The camera could not be opened. Press Retry, or choose another camera.",
        }
    }
}

/// Below this mean brightness (0–255) a frame is too dark to find cells in.
pub const DARK_MEAN: f32 = 40.0;

/// What the person reads about a frame too dark to find cells in.
pub const TOO_DARK: &str =
    "The frame is too dark to find cells: turn up the microscope's light or the camera's exposure, then capture again.";

/// The mean brightness (Rec. 601 luma, 0–255) of RGBA pixels, every `step`th pixel read.
pub fn mean_luma(rgba: &[u8], step: usize) -> f32 {
    let step = step.max(1);
    let (mut sum, mut n) = (0.0f64, 0u64);
    for px in rgba.chunks_exact(4).step_by(step) {
        sum += 0.299 * px[0] as f64 + 0.587 * px[1] as f64 + 0.114 * px[2] as f64;
        n += 1;
    }
    if n == 0 {
        0.0
    } else {
        (sum / n as f64) as f32
    }
}

/// Whether RGBA pixels are too dark to find cells in (an empty frame is).
pub fn too_dark(rgba: &[u8]) -> bool {
    mean_luma(rgba, 7) < DARK_MEAN
}

/// RGBA pixels (a canvas's `ImageData`) as an RGB image; `None` when their number is not
/// `width × height`.
pub fn rgb_of_rgba(rgba: &[u8], width: u32, height: u32) -> Option<RgbImage> {
    if width == 0 || height == 0 || rgba.len() != width as usize * height as usize * 4 {
        return None;
    }
    let mut rgb = Vec::with_capacity(width as usize * height as usize * 3);
    for px in rgba.chunks_exact(4) {
        rgb.extend_from_slice(&px[..3]);
    }
    RgbImage::from_raw(width, height, rgb)
}

/// What the live view shows of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveFrame {
    /// `[x, y, w, h]` of each white cell found, in the frame's pixels (none for a single cell
    /// filling the view, or a frame too dark).
    pub boxes: Vec<[u32; 4]>,
    pub too_dark: bool,
}

/// The white cells of a live frame (RGBA, `width × height`): detection only, as a field's are
/// found ([`fields::analyse`]), nothing classified. `None` for pixels that are not a frame.
pub fn live_boxes(rgba: &[u8], width: u32, height: u32) -> Option<LiveFrame> {
    if too_dark(rgba) {
        return Some(LiveFrame { boxes: Vec::new(), too_dark: true });
    }
    let image = rgb_of_rgba(rgba, width, height)?;
    let analysis = fields::analyse(&image);
    let boxes = match analysis.layout {
        Layout::Field => analysis.cells.iter().map(FoundCell::bbox).collect(),
        Layout::Single => Vec::new(),
    };
    Some(LiveFrame { boxes, too_dark: false })
}

/// The targets a person may choose for a differential.
pub const TARGETS: [u32; 3] = [100, 200, 500];

/// How far a running differential is toward its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// White cells counted (classified, and those too small to classify).
    pub n: usize,
    pub target: u32,
}

impl Target {
    /// The default target for a count of this kind: 100 white cells of blood, 200 of marrow.
    pub fn default_for(kind: CountKind) -> u32 {
        match kind {
            CountKind::Blood => 100,
            CountKind::Marrow => 200,
        }
    }

    /// A target the person chose, if it is one of [`TARGETS`].
    pub fn parse(s: &str) -> Option<u32> {
        s.trim().parse::<u32>().ok().filter(|t| TARGETS.contains(t))
    }

    pub fn reached(&self) -> bool {
        self.n >= self.target as usize
    }

    /// Percent of the target, at most 100 (for a progress bar).
    pub fn percent(&self) -> f64 {
        if self.target == 0 {
            return 100.0;
        }
        (self.n as f64 * 100.0 / self.target as f64).min(100.0)
    }

    /// "86 of 100 cells", and once reached, that it is and that counting goes on.
    pub fn words(&self) -> String {
        let cells = if self.target == 1 { "cell" } else { "cells" };
        if self.reached() {
            format!("{} of {} {cells}: target reached. The differential is complete; cells you add still count.", self.n, self.target)
        } else {
            format!("{} of {} {cells}", self.n, self.target)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_time_and_are_safe() {
        let a = capture_name(2026, 12, 7, 9, 5, 3, 7);
        assert_eq!(a, "capture-2026-12-07-090503-007.jpg");
        let b = capture_name(2026, 12, 7, 10, 0, 0, 0);
        assert!(a < b);
        assert!(is_capture(&a));
        assert!(!a.contains([':', '/', '\\', ' ']));
    }

    #[test]
    fn errors_in_words() {
        assert_eq!(Problem::from_error_name("NotAllowedError").state(), "denied");
        assert_eq!(Problem::from_error_name("NotFoundError").state(), "no-camera");
        assert_eq!(Problem::from_error_name("OverconstrainedError"), Problem::NoCamera);
        assert_eq!(Problem::from_error_name("NotReadableError"), Problem::Busy);
        assert_eq!(Problem::from_error_name("Whatever").state(), "error");
        assert_eq!(Problem::Lost.state(), "error");
        for p in [Problem::Unsupported, Problem::NoCamera, Problem::Denied, Problem::Busy, Problem::Lost, Problem::Other] {
            assert!(p.message().ends_with('.'), "{p:?}");
        }
    }

    #[test]
    fn darkness() {
        let black = [0u8, 0, 0, 255].repeat(100);
        let grey = [200u8, 190, 210, 255].repeat(100);
        assert!(too_dark(&black));
        assert!(!too_dark(&grey));
        assert!(too_dark(&[]));
        assert!((mean_luma(&[255, 255, 255, 255], 1) - 255.0).abs() < 0.01);
        assert_eq!(live_boxes(&black, 10, 10), Some(LiveFrame { boxes: vec![], too_dark: true }));
        assert_eq!(live_boxes(&grey, 10, 11), None);
    }

    #[test]
    fn rgba_to_rgb() {
        let img = rgb_of_rgba(&[1, 2, 3, 255, 4, 5, 6, 0], 2, 1).unwrap();
        assert_eq!(img.as_raw(), &vec![1, 2, 3, 4, 5, 6]);
        assert!(rgb_of_rgba(&[1, 2, 3], 1, 1).is_none());
        assert!(rgb_of_rgba(&[], 0, 0).is_none());
    }

    #[test]
    fn an_empty_glass_has_no_boxes() {
        let glass = [230u8, 225, 235, 255].repeat(320 * 240);
        let f = live_boxes(&glass, 320, 240).unwrap();
        assert!(!f.too_dark);
        assert!(f.boxes.is_empty());
    }

    #[test]
    fn targets() {
        assert_eq!(Target::default_for(CountKind::Blood), 100);
        assert_eq!(Target::default_for(CountKind::Marrow), 200);
        assert_eq!(Target::parse("500"), Some(500));
        assert_eq!(Target::parse("50"), None);
        assert_eq!(Target::parse("x"), None);
        let t = Target { n: 86, target: 100 };
        assert_eq!(t.words(), "86 of 100 cells");
        assert!(!t.reached());
        let t = Target { n: 104, target: 100 };
        assert!(t.reached());
        assert!(t.words().starts_with("104 of 100 cells: target reached"));
        assert_eq!(t.percent(), 100.0);
    }
}
