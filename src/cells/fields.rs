//! Single cell or field? And, for a field, its white cells.
//!
//! Every dropped image goes through [`analyse`]: a single-cell image (an MLL or PBC crop, any
//! crop centred on one cell) has its central cell cut out; a smear field goes through
//! [`crate::cells::find_cells`] and each white cell found is cut out; both at the model's
//! training scale, by [`crate::cells::crop::cut`]. The decision comes from
//! what the image holds ([`decide`], explained by [`Analysis::explain`]): whether its centre lies
//! on a nucleus, how large the white cells are against the frame, how many there are; the shape
//! is only a hint. None of it depends on the resolution (a crop upscaled to 6000×6000 stays a
//! crop).
//!
//! Large images: detection runs on a copy of at most [`DETECT_MAX_SIDE`] pixels on its long
//! side; crops are cut from the full-resolution image. See docs/finding-cells.md ("In the app").

use crate::cells::eyepiece::{self, Aperture, EyepieceOptions};
use crate::cells::{find_cells, measure_central_cell, romanowsky_share, FindOptions, FoundCell, StainModel};
use image::RgbImage;

/// The image's centre within this many nucleus diameters of the central nucleus's centre lies on
/// that cell: a crop of it (MLL val: 93 % of crops, PBC val: 99.8 %; BCCD val fields cut to
/// squares where a single-cell decision would miss a white cell: none; docs/finding-cells.md).
pub const CENTRE_ON_NUCLEUS: f32 = 1.2;

/// A square frame whose centre is at least this blue-stained (0 glass, 1 the nuclear threshold,
/// [`Content::central_stain`]) holds a cell there: MLL val 5th percentile 0.29, BCCD fields cut
/// square with no white cell at the centre 95th percentile 0.06.
pub const CENTRAL_STAIN_MIN: f32 = 0.1;

/// A camera frame (not square) is one cell only when its central cell fills it as a crop's does:
/// at most this many of its nuclei across the short side (MLL crops: median 2.1; BCCD 640×480
/// fields with a white cell in the middle, val: 1st percentile 2.3).
pub const WIDE_SINGLE_MAX_NUCLEI_ACROSS: f32 = 2.2;

/// Another white cell whose nucleus is at least this fraction of the central one's makes a
/// camera frame a field.
pub const COMPARABLE_NUCLEUS: f32 = 0.7;

/// Long side / short side from which a frame counts as a camera frame rather than a crop: a hint
/// for [`decide`], never the rule.
pub const FIELD_HINT_ASPECT: f32 = 1.15;

/// Pixels darker than this fraction of the glass's brightest channel, in every channel, are
/// outside the illuminated field ([`lit_field`]): nuclei keep at least twice that in their
/// brightest (blue) channel.
pub const DARK_SURROUND: f32 = 0.2;

/// A frame with white cells is a field only when at least this many of their nucleus diameters
/// (median) fit across its short side. BCCD train/val: 1st percentile 2.3; a 250×200 cut of a
/// crop is about 1.8.
pub const FIELD_MIN_NUCLEI_ACROSS: f32 = 2.1;

/// A field's stained pixels are mostly in a Romanowsky stain's colours: at least this share
/// ([`romanowsky_share`]). Chosen between the smears (BCCD val fields and their shifts 0.65–1,
/// MLL crops over 0.6 but for a few artefacts) and the generated non-cell images that
/// white-cell-like blobs were found in (noise, photographs, most screenshots: under 0.46).
pub const SMEAR_COLOURS_MIN: f32 = 0.5;

/// A white cell whose nucleus is smaller than this (pixels of the original image) is found, boxed
/// and counted as a white cell but not classified: below it a few blurred pixels carry too little
/// for a differential (measured by `examples/scale_limit.rs` on the val splits: see
/// docs/finding-cells.md, "Too small to classify").
pub const MIN_CLASSIFIABLE_NUCLEUS_PX: f32 = 32.0;

/// A photo through an eyepiece whose lit field spans at least this share of the frame's width and
/// height (a phone held to the eyepiece: the whole field in the frame, `eyepiece-phone` 0.92–1)
/// is searched by [`eyepiece::find_white_cells`]; a smaller lit field in a wider frame (the
/// BCCD-made eyepiece proxies of issue 31, 0.75 of the width) by [`find_cells`] inside
/// [`lit_frame`].
pub const EYEPIECE_FILLS_FRAME: f32 = 0.9;

/// Detection runs on a copy whose long side is at most this (pixels); crops come from the full image.
pub const DETECT_MAX_SIDE: u32 = 2048;

/// Long side of the survey copy the scale is measured on (as in [`FindOptions::survey_side`]).
const SURVEY_SIDE: f32 = 320.0;

/// What kind of image it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One cell, framed (a crop): classify the image as it is.
    Single,
    /// A smear field: find its white cells and classify each.
    Field,
}

/// What the decision rests on: the white cells found, how large they are against the frame, and
/// what lies at its centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Content {
    /// White cells found by [`find_cells`].
    pub found: usize,
    /// Short side in nucleus diameters of the white cells found (median); 0 when none was found.
    pub nuclei_across: f32,
    /// Short side in nucleus diameters of the cell at the centre, measured as a single-cell
    /// image's cell is ([`measure_central_cell`]); ∞ when no nucleus lies near the centre.
    pub central_across: f32,
    /// Distance of the image's centre from that nucleus's centre, in its diameters (∞: none).
    pub central_offset: f32,
    /// Blue stain at the centre of the frame: median azure of a central disc (a fifth of the short
    /// side across), 0 at the glass's, 1 at the image's nuclear threshold. A single-cell crop
    /// has a nucleus there, however pale; a field's centre is mostly red cells and plasma.
    pub central_stain: f32,
    /// White cells found away from the central one (all of them when there is none).
    pub others: usize,
    /// The largest nucleus among `others`, in nuclei of the central cell (0: none).
    pub other_size: f32,
    /// The frame is (nearly) square, as crops are; camera frames are 4:3 or 3:2.
    pub square: bool,
    /// Share of the stained pixels in a Romanowsky stain's colours ([`romanowsky_share`]);
    /// measured only where the rest of the content says field (`None`: not needed).
    pub smear_colours: Option<f32>,
    /// A photo through an eyepiece that its lit field fills ([`EYEPIECE_FILLS_FRAME`]): searched
    /// inside that field only, and a field wherever white cells are found in it.
    pub eyepiece: bool,
}

/// The decision for one image and what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub layout: Layout,
    /// Long side / short side (said in the explanation; the decision does not use it).
    pub aspect: f32,
    pub content: Content,
    /// The white cells found, boxes in pixels of the original image, best first (empty for a
    /// single cell: the image goes to the classifier as it is).
    pub cells: Vec<FoundCell>,
    /// Reduction of the copy detection ran on (≥ 1).
    pub detect_factor: f32,
}

impl Analysis {
    /// The decision in words, as the page shows it.
    pub fn explain(&self) -> String {
        let c = &self.content;
        match self.layout {
            Layout::Single if c.found == 0 => "Single image (no white cell found in it: classified whole)".to_string(),
            Layout::Single if c.central_offset <= CENTRE_ON_NUCLEUS => {
                format!("Single cell (a nucleus at the centre, {:.1} of its diameters across the frame)", c.central_across)
            }
            Layout::Single if c.square && c.central_stain >= CENTRAL_STAIN_MIN => {
                "Single cell (stained material at the centre of a square crop)".to_string()
            }
            Layout::Single if c.nuclei_across >= FIELD_MIN_NUCLEI_ACROSS && c.smear_colours.is_some_and(|s| s < SMEAR_COLOURS_MIN) => format!(
                "Single image (its colours are not a stained smear's: {:.0} % of the stained pixels in a Romanowsky stain's colours; classified whole)",
                100.0 * c.smear_colours.unwrap_or_default()
            ),
            Layout::Single => {
                format!("Single cell (only {:.1} nuclei across the frame: too small to be a field, a crop)", c.nuclei_across)
            }
            Layout::Field => {
                let n = self.cells.len();
                let cells = if n == 1 { "1 white cell".to_string() } else { format!("{n} white cells") };
                if c.eyepiece {
                    return format!(
                        "Field: {cells} found, {:.0} nuclei across the lit field (a photo through an eyepiece: its dark surround left out)",
                        c.nuclei_across
                    );
                }
                let why = if c.central_across.is_finite() && c.central_offset <= CENTRE_ON_NUCLEUS {
                    "the cell at the centre does not fill the frame"
                } else {
                    "none at the centre"
                };
                format!("Field: {cells} found, {:.0} nuclei across the frame ({why})", c.nuclei_across)
            }
        }
    }
}

/// A copy of `image` whose long side is at most `max_side`, and the factor it was reduced by.
pub fn detection_copy(image: &RgbImage, max_side: u32) -> (std::borrow::Cow<'_, RgbImage>, f32) {
    let long = image.width().max(image.height());
    if long <= max_side {
        return (std::borrow::Cow::Borrowed(image), 1.0);
    }
    let f = long as f32 / max_side as f32;
    let nw = ((image.width() as f32 / f).round() as u32).max(1);
    let nh = ((image.height() as f32 / f).round() as u32).max(1);
    (std::borrow::Cow::Owned(image::imageops::thumbnail(image, nw, nh)), image.width() as f32 / nw as f32)
}

/// The typical cell radius of `image` (pixels of `image`), measured on a small survey copy.
pub fn typical_cell_radius(image: &RgbImage) -> Option<f32> {
    let (w, h) = image.dimensions();
    if w < 16 || h < 16 {
        return None;
    }
    // Measured as `analyse` measures it: inside an eyepiece photo's lit field.
    let (lit, offset) = lit_frame(std::borrow::Cow::Borrowed(image));
    let (_, r) = crate::cells::find_cells::survey(&lit, SURVEY_SIDE as u32, offset.is_some());
    (r.is_finite() && r > 0.0).then_some(r)
}

/// Decides whether `image` is a single cell or a field and finds its white cells (on a copy of
/// at most [`DETECT_MAX_SIDE`] pixels; boxes in pixels of `image`). The decision rests on what
/// is in the image (see [`decide`]), whatever its shape.
pub fn analyse(image: &RgbImage) -> Analysis {
    let (iw, ih) = image.dimensions();
    let aspect = iw.max(ih).max(1) as f32 / iw.min(ih).max(1) as f32;
    let (det, factor) = detection_copy(image, DETECT_MAX_SIDE);
    let square = aspect < FIELD_HINT_ASPECT;
    // A phone photo through an eyepiece: its lit field, searched on its own terms.
    let eyepiece_options = EyepieceOptions::default();
    if let Some(aperture) = eyepiece::find_aperture(&det, &eyepiece_options).filter(|a| a.fills_frame(EYEPIECE_FILLS_FRAME)) {
        return analyse_eyepiece(image, &det, factor, aspect, &aperture, &eyepiece_options);
    }
    // A photo through an eyepiece: the dark surround is not part of the smear.
    let (det, offset) = lit_frame(det);
    let eyepiece = offset.is_some();
    let (x0, y0) = offset.unwrap_or((0, 0));
    let (w, h) = det.dimensions();
    let short = w.min(h).max(1) as f32;
    if square {
        if let Some(quick) = quick_single(&det, factor, aspect) {
            return quick;
        }
    }
    let central = measure_central_cell(&det);
    let (central_across, central_offset) = match &central {
        Some(c) => {
            let d = c.nucleus_diameter_px.max(1.0);
            (short / d, (c.centre.0 - w as f32 / 2.0).hypot(c.centre.1 - h as f32 / 2.0) / d)
        }
        None => (f32::INFINITY, f32::INFINITY),
    };
    // A square frame whose centre lies on a nucleus is a crop of that cell whatever else it
    // holds ([`decide`]): decided before the field is searched, so single cells pay only for
    // their own measure (docs/benchmarks.md, "One cell or a field").
    if square && central_offset <= CENTRE_ON_NUCLEUS {
        let content = Content {
            found: 1,
            nuclei_across: central_across,
            central_across,
            central_offset,
            central_stain: 1.0,
            others: 0,
            other_size: 0.0,
            square,
            smear_colours: None,
            eyepiece: false,
        };
        return Analysis { layout: Layout::Single, aspect, content, cells: Vec::new(), detect_factor: factor };
    }
    let found = find_cells(&det, &FindOptions { eyepiece, ..FindOptions::default() });
    let mut nuclei: Vec<f32> = found.iter().map(|c| c.nucleus_diameter_px).filter(|d| *d > 0.0).collect();
    nuclei.sort_by(f32::total_cmp);
    let nuclei_across = nuclei.get(nuclei.len() / 2).map(|d| short / d).unwrap_or(0.0);
    // White cells other than the central one, and the largest of their nuclei against its nucleus.
    let (others, other_size) = match &central {
        Some(c) => {
            let rest: Vec<&FoundCell> = found
                .iter()
                .filter(|f| {
                    (f.centre.0 - c.centre.0).hypot(f.centre.1 - c.centre.1) > 0.6 * c.nucleus_diameter_px.max(f.nucleus_diameter_px)
                })
                .collect();
            let size = rest.iter().map(|f| f.nucleus_diameter_px / c.nucleus_diameter_px.max(1.0)).fold(0.0, f32::max);
            (rest.len(), size)
        }
        None => (found.len(), 0.0),
    };
    let mut content = Content {
        found: found.len(),
        nuclei_across,
        central_across,
        central_offset,
        central_stain: central_stain(&det),
        others,
        other_size,
        square,
        smear_colours: None,
        eyepiece: false,
    };
    // The colours decide only between a field and a single image: read them only then.
    let mut layout = decide(&content);
    if layout == Layout::Field {
        content.smear_colours = Some(romanowsky_share(&det));
        layout = decide(&content);
    }
    let cells = match layout {
        Layout::Single => Vec::new(),
        Layout::Field => found.iter().map(|c| scale_cell(&c.shifted(x0, y0), factor, image.width(), image.height())).collect(),
    };
    Analysis { layout, aspect, content, cells, detect_factor: factor }
}

/// Long side of the copy that [`quick_single`] looks at.
const QUICK_SIDE: f32 = 128.0;

/// [`quick_single`] decides only where the central nucleus is at most this many of its diameters
/// across the frame's short side: a crop's cell (MLL crops: median 2.1), not a white cell that
/// happens to lie at the centre of a field.
const QUICK_MAX_NUCLEI_ACROSS: f32 = 4.0;

/// A quick look at a square frame (`det`, the lit-framed detection copy) before anything else is
/// measured: its central cell ([`measure_central_cell`]) on a copy of long side [`QUICK_SIDE`];
/// where the frame's centre lies on that nucleus ([`CENTRE_ON_NUCLEUS`]) and it is large in the
/// frame ([`QUICK_MAX_NUCLEI_ACROSS`]), the frame is a crop of that cell, as [`decide`] would say
/// of it. `None`: look properly.
fn quick_single(det: &RgbImage, factor: f32, aspect: f32) -> Option<Analysis> {
    let (w, h) = det.dimensions();
    let f = w.max(h) as f32 / QUICK_SIDE;
    if f < 1.5 {
        return None;
    }
    let small = crate::cells::downscale(det, f);
    let c = measure_central_cell(&small)?;
    let (sw, sh) = small.dimensions();
    let d = c.nucleus_diameter_px.max(1.0);
    let across = sw.min(sh) as f32 / d;
    let offset = (c.centre.0 - sw as f32 / 2.0).hypot(c.centre.1 - sh as f32 / 2.0) / d;
    if offset > CENTRE_ON_NUCLEUS || across > QUICK_MAX_NUCLEI_ACROSS {
        return None;
    }
    let content = Content {
        found: 1,
        nuclei_across: across,
        central_across: across,
        central_offset: offset,
        central_stain: 1.0,
        others: 0,
        other_size: 0.0,
        square: true,
        smear_colours: None,
        eyepiece: false,
    };
    Some(Analysis { layout: Layout::Single, aspect, content, cells: Vec::new(), detect_factor: factor })
}

/// [`analyse`] for a phone photo through an eyepiece (`det`, the detection copy of `image`
/// reduced by `factor`, whose lit field `aperture` fills the frame): its white cells are found
/// inside the lit field ([`eyepiece::find_white_cells`]), and its colours are read there too
/// (the surround painted as the field's glass), so that the dark surround and the rim neither
/// count as stained pixels of other colours nor set the white point.
fn analyse_eyepiece(image: &RgbImage, det: &RgbImage, factor: f32, aspect: f32, aperture: &Aperture, opts: &EyepieceOptions) -> Analysis {
    let found = eyepiece::find_white_cells(det, aperture, opts);
    let mut nuclei: Vec<f32> = found.iter().map(|c| c.nucleus_diameter_px).filter(|d| *d > 0.0).collect();
    nuclei.sort_by(f32::total_cmp);
    let nuclei_across = nuclei.get(nuclei.len() / 2).map(|d| aperture.diameter / d).unwrap_or(0.0);
    let mut content = Content {
        found: found.len(),
        nuclei_across,
        central_across: f32::INFINITY,
        central_offset: f32::INFINITY,
        central_stain: 0.0,
        others: found.len(),
        other_size: 0.0,
        square: aspect < FIELD_HINT_ASPECT,
        smear_colours: None,
        eyepiece: true,
    };
    let mut layout = decide(&content);
    if layout == Layout::Field {
        content.smear_colours = Some(romanowsky_share(&eyepiece::paint_surround(det, aperture)));
        layout = decide(&content);
    }
    let cells = match layout {
        Layout::Single => Vec::new(),
        Layout::Field => found.iter().map(|c| scale_cell(c, factor, image.width(), image.height())).collect(),
    };
    Analysis { layout, aspect, content, cells, detect_factor: factor }
}

/// `image` ready to be measured: a photo through an eyepiece ([`lit_bounds`]) cut to its lit
/// field's bounding box, with the offset of that cut; in any image, what remains of a dark
/// surround painted as glass ([`lit_field`]). The frame is cut first because a surround of half
/// the photo, painted, would outweigh the smear's own glass in the stain model and the scale.
pub fn lit_frame(image: std::borrow::Cow<'_, RgbImage>) -> (std::borrow::Cow<'_, RgbImage>, Option<(u32, u32)>) {
    let white = white_point(&image);
    let (n, bounds) = dark_pixels(&image, dark_cut(&white));
    match bounds {
        Some((x, y, w, h)) => {
            let cut = image::imageops::crop_imm(image.as_ref(), x, y, w, h).to_image();
            (lit_field(std::borrow::Cow::Owned(cut)), Some((x, y)))
        }
        None => (paint_dark(image, n, white), None),
    }
}

/// `image` with a dark surround (the black outside an eyepiece's round field of view, a
/// vignetted corner) painted the colour of its glass, so that the stain model and the scale are
/// read from the smear only. Unchanged where under 3 % of the image is that dark.
pub fn lit_field(image: std::borrow::Cow<'_, RgbImage>) -> std::borrow::Cow<'_, RgbImage> {
    let white = white_point(&image);
    let (n, _) = dark_pixels(&image, dark_cut(&white));
    paint_dark(image, n, white)
}

/// [`lit_field`] for an image with `n` dark pixels under the glass colour `white`.
fn paint_dark(image: std::borrow::Cow<'_, RgbImage>, n: usize, white: [u8; 3]) -> std::borrow::Cow<'_, RgbImage> {
    if n * 100 < 3 * image.pixels().len() {
        return image;
    }
    let cut = dark_cut(&white);
    let mut out = image.into_owned();
    for p in out.pixels_mut() {
        if is_dark(p, cut) {
            p.0 = white;
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The bounding box `(x, y, w, h)` of the illuminated field of `image` where a dark surround (an
/// eyepiece's black outside its round field of view) takes at least 3 % of it and the lit part
/// is at least a quarter of each side; `None` otherwise.
pub fn lit_bounds(image: &RgbImage) -> Option<(u32, u32, u32, u32)> {
    dark_pixels(image, dark_cut(&white_point(image))).1
}

fn is_dark(p: &image::Rgb<u8>, cut: u8) -> bool {
    p.0.iter().all(|&v| v < cut)
}

/// How many pixels of `image` are darker than `cut` in every channel, and [`lit_bounds`].
fn dark_pixels(image: &RgbImage, cut: u8) -> (usize, Option<(u32, u32, u32, u32)>) {
    let (iw, ih) = image.dimensions();
    let (mut x0, mut y0, mut x1, mut y1, mut n) = (u32::MAX, u32::MAX, 0u32, 0u32, 0usize);
    for (x, y, p) in image.enumerate_pixels() {
        if is_dark(p, cut) {
            n += 1;
        } else {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    let bounds = (x1 >= x0 && y1 >= y0)
        .then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
        .filter(|&(_, _, w, h)| n * 100 >= 3 * image.pixels().len() && (w, h) != (iw, ih) && 4 * w >= iw && 4 * h >= ih);
    (n, bounds)
}

/// Level below which a pixel, in every channel, is outside the illuminated field: a fraction
/// ([`DARK_SURROUND`]) of the glass's (`white`) brightest channel.
fn dark_cut(white: &[u8; 3]) -> u8 {
    (white.iter().copied().max().unwrap_or(255) as f32 * DARK_SURROUND) as u8
}

/// Each channel's 99th percentile over every 7th pixel (the glass's colour).
pub(crate) fn white_point(image: &RgbImage) -> [u8; 3] {
    std::array::from_fn(|c| {
        let mut v: Vec<u8> = image.pixels().step_by(7).map(|p| p[c]).collect();
        if v.is_empty() {
            return 255;
        }
        let k = (v.len() * 99 / 100).min(v.len() - 1);
        *v.select_nth_unstable(k).1
    })
}

/// Median blue stain of a central disc (a fifth of the short side across): 0 at the glass's
/// azure, 1 at the image's nuclear threshold (see [`Content::central_stain`]).
fn central_stain(image: &RgbImage) -> f32 {
    let (w0, h0) = image.dimensions();
    if w0 < 16 || h0 < 16 {
        return 0.0;
    }
    let work = crate::cells::downscale(image, (w0.max(h0) as f32 / 256.0).max(1.0));
    let model = StainModel::estimate(&work);
    let maps = model.maps(&work);
    let (w, h) = (maps.width as f32, maps.height as f32);
    let r = 0.1 * w.min(h);
    let (cx, cy) = (w / 2.0, h / 2.0);
    let span = (model.azure_threshold - model.glass_azure).max(1e-3);
    let mut vals: Vec<f32> = Vec::new();
    for y in (cy - r).max(0.0) as u32..((cy + r) as u32).min(maps.height) {
        for x in (cx - r).max(0.0) as u32..((cx + r) as u32).min(maps.width) {
            if (x as f32 + 0.5 - cx).hypot(y as f32 + 0.5 - cy) <= r {
                vals.push((maps.azure[(y * maps.width + x) as usize] - model.glass_azure) / span);
            }
        }
    }
    if vals.is_empty() {
        return 0.0;
    }
    let k = vals.len() / 2;
    *vals.select_nth_unstable_by(k, f32::total_cmp).1
}

/// Single cell or field, from what the image holds (thresholds chosen on the val splits of MLL,
/// PBC and BCCD cut, rescaled and shifted by `examples/field_shifts.rs`; docs/finding-cells.md):
/// - no white cell found: the image is classified whole (a field the detector found nothing in
///   cannot be told from a picture of something else; the classifier's out-of-distribution flag
///   then says what it can);
/// - the image's centre lies on a nucleus (within [`CENTRE_ON_NUCLEUS`] of its diameters from
///   it), or, in a square frame, the centre is blue-stained material (at least
///   [`CENTRAL_STAIN_MIN`]: a pale nucleus the detector did not separate): a crop of that cell,
///   whatever shows at its edges (bone-marrow crops are dense). A camera frame (not square, the
///   only use of the shape) must also be filled by that cell (at most
///   [`WIDE_SINGLE_MAX_NUCLEI_ACROSS`] of its nuclei across) with no other white cell of
///   comparable size: a field photographed with a white cell in its middle stays a field;
/// - white cells found, but the frame holds fewer than [`FIELD_MIN_NUCLEI_ACROSS`] of their
///   nuclei across: too small to be a field, a crop;
/// - white cells found, but the image is not coloured as a stained smear (under
///   [`SMEAR_COLOURS_MIN`] of its stained pixels in a Romanowsky stain's colours: a photograph
///   of something else, a screenshot, a drawing): classified whole, so that the
///   out-of-distribution flag can say so, rather than blobs of it boxed as white cells;
/// - otherwise a field: white cells off the centre, several of them, or small in the frame.
pub fn decide(c: &Content) -> Layout {
    if c.found == 0 {
        return Layout::Single;
    }
    let colours_off = c.smear_colours.is_some_and(|s| s < SMEAR_COLOURS_MIN);
    if c.eyepiece {
        // The lit field of an eyepiece photo is a field: no crop has a dark round surround.
        return if c.nuclei_across < FIELD_MIN_NUCLEI_ACROSS || colours_off { Layout::Single } else { Layout::Field };
    }
    let on_centre = c.central_offset <= CENTRE_ON_NUCLEUS;
    let single = if c.square {
        on_centre || c.central_stain >= CENTRAL_STAIN_MIN
    } else {
        on_centre && c.central_across <= WIDE_SINGLE_MAX_NUCLEI_ACROSS && !(c.others > 0 && c.other_size >= COMPARABLE_NUCLEUS)
    };
    if single || c.nuclei_across < FIELD_MIN_NUCLEI_ACROSS || colours_off {
        Layout::Single
    } else {
        Layout::Field
    }
}

/// `cell` (pixels of a copy reduced by `factor`) in pixels of the `w`×`h` original.
pub fn scale_cell(cell: &FoundCell, factor: f32, w: u32, h: u32) -> FoundCell {
    if factor == 1.0 {
        return cell.clone();
    }
    let s = |v: u32| ((v as f32 * factor).round().max(0.0)) as u32;
    let x = s(cell.x).min(w.saturating_sub(1));
    let y = s(cell.y).min(h.saturating_sub(1));
    FoundCell {
        x,
        y,
        w: s(cell.w).clamp(1, w - x),
        h: s(cell.h).clamp(1, h - y),
        centre: (cell.centre.0 * factor, cell.centre.1 * factor),
        area_px: cell.area_px * factor * factor,
        nucleus_diameter_px: cell.nucleus_diameter_px * factor,
        diameter_px: cell.diameter_px * factor,
        score: cell.score,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cells::crop::{cut, Around};
    use crate::image::cell_scale::{CellScale, CROP_SIDE};
    use image::Rgb;

    /// Pink discs (red cells) on glass, with purple nuclei at `nuclei` (radius 30).
    pub(crate) fn field(w: u32, h: u32, nuclei: &[(f32, f32)]) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let d = |cx: f32, cy: f32| ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            if nuclei.iter().any(|&(cx, cy)| d(cx, cy) < 30.0) {
                return Rgb([95, 70, 160]);
            }
            let (gx, gy) = ((x % 80) as f32, (y % 80) as f32);
            if ((gx - 40.0).powi(2) + (gy - 40.0).powi(2)).sqrt() < 32.0 {
                return Rgb([200, 150, 165]);
            }
            Rgb([222, 222, 226])
        })
    }

    #[test]
    fn a_wide_field_is_a_field_and_its_crop_a_single_cell() {
        let img = field(960, 720, &[(200.0, 200.0), (700.0, 500.0)]);
        let a = analyse(&img);
        assert_eq!(a.layout, Layout::Field, "{a:?}");
        assert_eq!(a.cells.len(), 2, "{a:?}");
        assert!(a.explain().starts_with("Field: 2 white cells"), "{}", a.explain());
        let crop = cut(&img, Around::Cell(&a.cells[0]), &CellScale::default()).unwrap().image;
        assert_eq!(crop.dimensions(), (CROP_SIDE, CROP_SIDE));
        assert_eq!(analyse(&crop).layout, Layout::Single);
    }

    #[test]
    fn a_square_field_is_a_field_by_its_content() {
        // Square, as object-detection exports are: white cells off the centre, red cells between.
        let img = field(640, 640, &[(150.0, 150.0), (500.0, 470.0)]);
        let a = analyse(&img);
        assert_eq!(a.layout, Layout::Field, "{a:?}");
        assert_eq!(a.cells.len(), 2, "{a:?}");
        assert!(a.explain().contains("none at the centre"), "{}", a.explain());
        // The same frame around one of them: the cell at the centre makes it a crop.
        let crop = image::imageops::crop_imm(&img, 30, 30, 240, 240).to_image();
        let a = analyse(&crop);
        assert_eq!(a.layout, Layout::Single, "{a:?}");
        assert!(a.explain().starts_with("Single cell (a nucleus at the centre"), "{}", a.explain());
    }

    #[test]
    fn a_dark_eyepiece_surround_is_painted_as_glass() {
        let mut img = field(400, 300, &[(200.0, 150.0)]);
        for (x, y, p) in img.enumerate_pixels_mut() {
            if (x as f32 - 200.0).hypot(y as f32 - 150.0) > 140.0 {
                *p = Rgb([10, 9, 12]);
            }
        }
        let lit = lit_field(std::borrow::Cow::Borrowed(&img));
        assert_eq!(lit.get_pixel(0, 0).0, [222, 222, 226]);
        assert_eq!(lit.get_pixel(200, 150).0, [95, 70, 160]);
        let plain = field(400, 300, &[]);
        assert!(matches!(lit_field(std::borrow::Cow::Borrowed(&plain)), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn an_eyepiece_photo_is_measured_inside_its_aperture_and_mapped_back() {
        // A round lit field off the middle of a dark frame, white cells inside it.
        let mut img = field(1000, 600, &[(520.0, 200.0), (700.0, 420.0)]);
        for (x, y, p) in img.enumerate_pixels_mut() {
            if (x as f32 - 600.0).hypot(y as f32 - 300.0) > 280.0 {
                *p = Rgb([10, 9, 12]);
            }
        }
        let (x, y, w, h) = lit_bounds(&img).expect("a dark surround");
        assert!(x.abs_diff(320) <= 2 && y.abs_diff(20) <= 2 && w.abs_diff(560) <= 3 && h.abs_diff(560) <= 3, "{x} {y} {w} {h}");
        assert_eq!(lit_bounds(&field(400, 300, &[(200.0, 150.0)])), None);
        let a = analyse(&img);
        assert_eq!(a.layout, Layout::Field, "{a:?}");
        let mut centres: Vec<(f32, f32)> = a.cells.iter().map(|c| c.centre).collect();
        centres.sort_by(|p, q| p.0.total_cmp(&q.0));
        assert_eq!(centres.len(), 2, "{a:?}");
        for (c, want) in centres.iter().zip([(520.0, 200.0), (700.0, 420.0)]) {
            assert!((c.0 - want.0).abs() < 6.0 && (c.1 - want.1).abs() < 6.0, "{c:?} for {want:?}");
        }
    }

    #[test]
    fn blank_and_tiny_images() {
        // A frame without any white cell is classified whole.
        let a = analyse(&RgbImage::from_pixel(640, 480, Rgb([230, 230, 230])));
        assert_eq!(a.layout, Layout::Single);
        assert!(a.explain().contains("no white cell found"), "{}", a.explain());
        assert_eq!(analyse(&RgbImage::from_pixel(250, 250, Rgb([230, 230, 230]))).layout, Layout::Single);
        assert_eq!(analyse(&RgbImage::new(4, 4)).layout, Layout::Single);
    }

    #[test]
    fn large_images_are_detected_on_a_copy_and_mapped_back() {
        let small = field(960, 720, &[(200.0, 200.0)]);
        let big = image::imageops::resize(&small, 3840, 2880, image::imageops::FilterType::Nearest);
        let a = analyse(&big);
        assert!(a.detect_factor > 1.0);
        assert_eq!(a.layout, Layout::Field);
        assert_eq!(a.cells.len(), 1, "{a:?}");
        let c = &a.cells[0];
        assert!((c.centre.0 - 800.0).abs() < 30.0 && (c.centre.1 - 800.0).abs() < 30.0, "{c:?}");
        assert!(c.x + c.w <= 3840 && c.y + c.h <= 2880);
    }
}
