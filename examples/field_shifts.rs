//! Finding white cells in fields from any laboratory and camera, measured on what this project
//! has and on shifts made from it (issue 31). No model needed:
//!
//! ```sh
//! cargo run --release --no-default-features --example field_shifts               # BCCD test, the table
//! cargo run --release --no-default-features --example field_shifts -- --split val # choosing: val only
//! ```
//!
//! Every image goes through [`fields::analyse`], the app's own decision (single cell or field, and
//! a field's white cells). A field's detections are its cells; an image taken for a single cell
//! counts as one detection at its central cell (the app classifies that cell; where no nucleus is
//! near the centre, the image's centre). A detection is right when its nucleus centre lies inside
//! a white-cell box (one detection per box); recall = boxes found / boxes, precision = right
//! detections / detections. A box counts for a cut when its centre lies inside it.
//!
//! Shifts of each BCCD field of the split (640×480): as it is; resized 0.25×–2×; cut to squares
//! (the central 480×480 resized to 416 and to 300, a 300×300 cut at native scale around the
//! field's centre, the whole frame stretched to 416×416 as object-detection exports do); stain
//! (haematoxylin and eosin optical density scaled in HED space), gamma, background tints,
//! a phone's white balance, JPEG quality 30, blur, an eyepiece photo at low magnification (the
//! field at 0.2×, tiled 10×10 with alternate tiles mirrored, inside the dark round aperture of a
//! 1600×1200 frame, JPEG 70: nuclei of 15–25 px among many red cells); close-ups of one white cell (a square of twice
//! the box's long side around each box, resized to 575×575: expected single, that cell).
//!
//! Then the real phone photos through an eyepiece (`eyepiece-phone`, `EYEPIECE_PHONE_DATA` or
//! `../shared/data/eyepiece-phone`; issue 51): valid (reported) and train (what the choices were
//! made on), 416×416 JPEGs with YOLO labels, scored as the shifts are. `--dump-phone DIR` writes
//! PNG overlays of them (green: the labels, red: what was found; blue: the central cell of an
//! image decided single).
//!
//! Then the share of single-cell images decided single: MLL and PBC splits (val to choose, test to
//! report) and the 320 PBC originals (report only).

use image::{imageops, RgbImage};
use marrowscope::cells::fields::{self, Layout};
use marrowscope::cells::measure_central_cell;
use marrowscope::eval::{dataset, shift};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn data(var: &str, dir: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(dir))
}

/// A box `[x0, y0, x1, y1]` in pixels of the image it belongs to.
type Box4 = [f32; 4];

/// One image of a shift and its white-cell boxes.
struct Case {
    image: RgbImage,
    boxes: Vec<Box4>,
}

#[derive(Default)]
struct Tally {
    name: String,
    boxes: usize,
    found: usize,
    detections: usize,
    right: usize,
    fields: usize,
    images: usize,
    too_small: usize,
    ms: Vec<f64>,
}

impl Tally {
    fn add(&mut self, case: &Case) {
        let start = Instant::now();
        let a = fields::analyse(&case.image);
        self.ms.push(start.elapsed().as_secs_f64() * 1e3);
        let (w, h) = case.image.dimensions();
        let c = measure_central_cell(&case.image).map(|c| c.centre).unwrap_or((w as f32 / 2.0, h as f32 / 2.0));
        let hit = case.boxes.iter().any(|b| c.0 >= b[0] && c.0 <= b[2] && c.1 >= b[1] && c.1 <= b[3]);
        dump(&self.name, &a, case.boxes.len() * 10 + hit as usize);
        self.images += 1;
        let centres: Vec<(f32, f32)> = match a.layout {
            Layout::Field => {
                self.fields += 1;
                self.too_small += a.cells.iter().filter(|c| c.nucleus_diameter_px < fields::MIN_CLASSIFIABLE_NUCLEUS_PX).count();
                a.cells.iter().map(|c| c.centre).collect()
            }
            Layout::Single => {
                let (w, h) = case.image.dimensions();
                vec![measure_central_cell(&case.image).map(|c| c.centre).unwrap_or((w as f32 / 2.0, h as f32 / 2.0))]
            }
        };
        let right = marrowscope::eval::dataset::match_to_boxes(centres.iter().copied(), &case.boxes).iter().flatten().count();
        // Each box counts for one detection: the detections counted right are the boxes found.
        self.right += right;
        self.found += right;
        self.detections += centres.len();
        self.boxes += case.boxes.len();
    }

    fn row(&mut self, name: &str) -> String {
        let recall = self.found as f64 / self.boxes.max(1) as f64;
        let precision = self.right as f64 / self.detections.max(1) as f64;
        self.ms.sort_by(f64::total_cmp);
        let med = self.ms.get(self.ms.len() / 2).copied().unwrap_or(f64::NAN);
        format!(
            "| {name} | {} | {} | {recall:.3} | {precision:.3} | {}/{} | {} | {med:.1} |",
            self.images, self.boxes, self.fields, self.images, self.too_small
        )
    }
}

/// With `FIELD_SHIFTS_DUMP=FILE`, one CSV row per image: what the decision rests on.
fn dump(group: &str, a: &fields::Analysis, boxes: usize) {
    dump_path(group, a, boxes, "")
}

fn dump_path(group: &str, a: &fields::Analysis, boxes: usize, path: &str) {
    use std::io::Write;
    static FILE: std::sync::OnceLock<Option<std::sync::Mutex<std::fs::File>>> = std::sync::OnceLock::new();
    let file =
        FILE.get_or_init(|| std::env::var_os("FIELD_SHIFTS_DUMP").and_then(|p| std::fs::File::create(p).ok()).map(std::sync::Mutex::new));
    if let Some(Ok(mut f)) = file.as_ref().map(|m| m.lock()) {
        let c = &a.content;
        let _ = writeln!(
            f,
            "{group}\t{boxes}\t{:?}\t{:.3}\t{}\t{:.3}\t{:.3}\t{:.3}\t{:.3}\t{}\t{:.3}\t{path}",
            a.layout, a.aspect, c.found, c.nuclei_across, c.central_across, c.central_offset, c.central_stain, c.others, c.other_size
        );
    }
}

fn resize(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    if img.dimensions() == (w, h) {
        return img.clone();
    }
    if w < img.width() && h < img.height() {
        return imageops::thumbnail(img, w, h);
    }
    imageops::resize(img, w, h, imageops::FilterType::Triangle)
}

/// `case` scaled by `sx`, `sy` (to `w`×`h`).
fn scaled(case: &Case, w: u32, h: u32) -> Case {
    let (sx, sy) = (w as f32 / case.image.width() as f32, h as f32 / case.image.height() as f32);
    Case { image: resize(&case.image, w, h), boxes: case.boxes.iter().map(|b| [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy]).collect() }
}

/// The `w`×`h` cut of `case` at (`x`, `y`); boxes whose centre lies inside, clipped.
fn cut(case: &Case, x: u32, y: u32, w: u32, h: u32) -> Case {
    let image = imageops::crop_imm(&case.image, x, y, w, h).to_image();
    let (fx, fy) = (x as f32, y as f32);
    let boxes = case
        .boxes
        .iter()
        .filter(|b| {
            let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
            cx >= fx && cx < fx + w as f32 && cy >= fy && cy < fy + h as f32
        })
        .map(|b| [(b[0] - fx).max(0.0), (b[1] - fy).max(0.0), (b[2] - fx).min(w as f32), (b[3] - fy).min(h as f32)])
        .collect();
    Case { image, boxes }
}

fn map_pixels(case: &Case, f: impl Fn([f32; 3]) -> [f32; 3]) -> Case {
    Case { image: shift::map_pixels(&case.image, f), boxes: case.boxes.clone() }
}

fn hed_shift(case: &Case, h: f32, e: f32) -> Case {
    Case { image: shift::stain(&case.image, h, e), boxes: case.boxes.clone() }
}

fn jpeg(case: &Case, quality: u8) -> Case {
    Case { image: shift::jpeg(&case.image, quality), boxes: case.boxes.clone() }
}

fn blur(case: &Case, sigma: f32) -> Case {
    Case { image: shift::blur(&case.image, sigma), boxes: case.boxes.clone() }
}

fn eyepiece(case: &Case, scale: f32) -> Case {
    let (image, boxes) = shift::eyepiece(&case.image, &case.boxes, scale);
    Case { image, boxes }
}

/// Close-ups of each white cell: a square of twice the box's long side around it (moved inside
/// the field), resized to 575×575.
fn close_ups(case: &Case) -> Vec<Case> {
    let (w, h) = case.image.dimensions();
    case.boxes
        .iter()
        .filter_map(|b| {
            let side = (2.0 * (b[2] - b[0]).max(b[3] - b[1])).min(w.min(h) as f32) as u32;
            let cx = (b[0] + b[2]) / 2.0;
            let cy = (b[1] + b[3]) / 2.0;
            let x = (cx - side as f32 / 2.0).clamp(0.0, (w - side) as f32) as u32;
            let y = (cy - side as f32 / 2.0).clamp(0.0, (h - side) as f32) as u32;
            let mut c = cut(case, x, y, side, side);
            // Only this cell is expected: the close-up is of it.
            c.boxes = vec![[b[0] - x as f32, b[1] - y as f32, b[2] - x as f32, b[3] - y as f32]];
            (side >= 32).then(|| scaled(&c, 575, 575))
        })
        .collect()
}

type MakeCases = Box<dyn Fn(&Case) -> Vec<Case>>;
type Shift = (&'static str, MakeCases);

fn shifts() -> Vec<Shift> {
    let one = |f: fn(&Case) -> Case| -> MakeCases { Box::new(move |c| vec![f(c)]) };
    vec![
        ("as it is (640×480)", one(|c| Case { image: c.image.clone(), boxes: c.boxes.clone() })),
        ("resized 0.15× (96×72)", one(|c| scaled(c, 96, 72))),
        ("resized 0.25× (160×120)", one(|c| scaled(c, 160, 120))),
        ("resized 0.5× (320×240)", one(|c| scaled(c, 320, 240))),
        ("resized 0.75× (480×360)", one(|c| scaled(c, 480, 360))),
        ("resized 1.5× (960×720)", one(|c| scaled(c, 960, 720))),
        ("resized 2× (1280×960)", one(|c| scaled(c, 1280, 960))),
        ("central square → 416×416", one(|c| scaled(&cut(c, 80, 0, 480, 480), 416, 416))),
        ("central square → 300×300", one(|c| scaled(&cut(c, 80, 0, 480, 480), 300, 300))),
        ("square 300 cut, native scale", one(|c| cut(c, 170, 90, 300, 300))),
        ("square 416 cut, native scale", one(|c| cut(c, 112, 32, 416, 416))),
        ("stretched to 416×416", one(|c| scaled(c, 416, 416))),
        ("central square → 208×208 (0.43×)", one(|c| scaled(&cut(c, 80, 0, 480, 480), 208, 208))),
        ("haematoxylin 0.6×", one(|c| hed_shift(c, 0.6, 1.0))),
        ("haematoxylin 1.5×, eosin 0.6×", one(|c| hed_shift(c, 1.5, 0.6))),
        ("eosin 1.6×", one(|c| hed_shift(c, 1.0, 1.6))),
        ("gamma 0.6", one(|c| map_pixels(c, |p| p.map(|v| 255.0 * (v / 255.0).powf(0.6))))),
        ("gamma 1.6", one(|c| map_pixels(c, |p| p.map(|v| 255.0 * (v / 255.0).powf(1.6))))),
        ("yellow background (tungsten)", one(|c| map_pixels(c, |p| [p[0] * 1.0, p[1] * 0.93, p[2] * 0.70]))),
        ("blue background (daylight filter)", one(|c| map_pixels(c, |p| [p[0] * 0.78, p[1] * 0.90, p[2] * 1.0]))),
        ("phone white balance (green, contrast)", one(|c| map_pixels(c, |p| [0.85 * p[0] + 10.0, 1.0 * p[1] + 14.0, 0.9 * p[2]]))),
        ("JPEG quality 30", one(|c| jpeg(c, 30))),
        ("blur σ 2 (defocus)", one(|c| blur(c, 2.0))),
        (
            "eyepiece photo, low magnification (0.2× fields tiled in a dark aperture, 1600×1200, JPEG 70)",
            Box::new(|c| vec![eyepiece(c, 0.2)]),
        ),
        ("eyepiece photo, 0.4× fields tiled in a dark aperture (1600×1200, JPEG 70)", Box::new(|c| vec![eyepiece(c, 0.4)])),
        ("close-ups of one white cell (575×575)", Box::new(close_ups)),
    ]
}

/// The photos of one split of `eyepiece-phone` (YOLO labels `0 cx cy w h`, fractions of the
/// image) with their names; empty when the data set is absent.
fn phone_cases(split: &str) -> Vec<(String, Case)> {
    let dir = data("EYEPIECE_PHONE_DATA", "eyepiece-phone").join(split);
    let Ok(entries) = std::fs::read_dir(dir.join("images")) else { return Vec::new() };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_string();
            let image = image::open(&p).ok()?.to_rgb8();
            let labels = std::fs::read_to_string(dir.join("labels").join(format!("{stem}.txt"))).unwrap_or_default();
            let boxes = marrowscope::eval::dataset::yolo_boxes(&labels, image.width(), image.height());
            Some((stem, Case { image, boxes }))
        })
        .collect()
}

/// `case` with its labels (green), the detections (red) and, where decided single, the central
/// cell (blue) drawn on it.
fn overlay(case: &Case, a: &fields::Analysis) -> RgbImage {
    let mut img = case.image.clone();
    let mut draw = |b: [f32; 4], c: [u8; 3]| {
        let r = imageproc::rect::Rect::at(b[0] as i32, b[1] as i32).of_size(((b[2] - b[0]) as u32).max(1), ((b[3] - b[1]) as u32).max(1));
        imageproc::drawing::draw_hollow_rect_mut(&mut img, r, image::Rgb(c));
    };
    for b in &case.boxes {
        draw(*b, [0, 220, 0]);
    }
    for c in &a.cells {
        draw([c.x as f32, c.y as f32, (c.x + c.w) as f32, (c.y + c.h) as f32], [255, 0, 0]);
    }
    if a.layout == Layout::Single {
        if let Some(c) = measure_central_cell(&case.image) {
            draw([c.x as f32, c.y as f32, (c.x + c.w) as f32, (c.y + c.h) as f32], [0, 0, 255]);
        }
    }
    img
}

fn bccd_cases(split: &str) -> Vec<Case> {
    let dir = data("BCCD_DATA", "bccd");
    let ids = std::fs::read_to_string(dir.join(format!("ImageSets/{split}.txt"))).expect("BCCD ImageSets (set BCCD_DATA)");
    ids.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|id| {
            let image = image::open(dir.join(format!("JPEGImages/{id}.jpg"))).ok()?.to_rgb8();
            let xml = std::fs::read_to_string(dir.join(format!("Annotations/{id}.xml"))).ok()?;
            Some(Case { image, boxes: marrowscope::eval::dataset::voc_wbc_boxes(&xml) })
        })
        .collect()
}

/// Paths of `split` rows of a `path,label,…,split` CSV in `dir`.
fn split_paths(dir: &Path, split: &str) -> Vec<PathBuf> {
    let Ok(items) = dataset::from_csv(&dir.join("splits.csv")) else { return Vec::new() };
    items.into_iter().filter(|i| i.split.trim() == split).map(|i| i.path).collect()
}

fn single_share(name: &str, paths: &[PathBuf], verbose: bool) {
    let (mut single, mut n) = (0, 0);
    for p in paths {
        let Ok(img) = image::open(p) else { continue };
        let a = fields::analyse(&img.to_rgb8());
        dump_path(name, &a, 1, &p.display().to_string());
        n += 1;
        if a.layout == Layout::Single {
            single += 1;
        } else if verbose {
            println!("    field: {} ({})", p.display(), a.explain());
        }
    }
    println!("| {name} | {n} | {single} | {:.4} |", single as f64 / n.max(1) as f64);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let split = arg("--split").unwrap_or_else(|| "test".into());
    let only = arg("--only");
    let verbose = args.iter().any(|a| a == "--verbose");
    let cases = bccd_cases(&split);
    println!("BCCD {split}: {} fields\n", cases.len());
    println!("| shift | images | WBC boxes | recall | precision | taken as fields | too small to classify | ms/image (median) |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, make) in shifts() {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let mut t = Tally { name: name.to_string(), ..Tally::default() };
        for (i, case) in cases.iter().enumerate() {
            for c in make(case) {
                if let (Some(dir), true) = (std::env::var_os("FIELD_SHIFTS_SAVE"), i < 3) {
                    let _ = c.image.save(PathBuf::from(dir).join(format!("{}-{i}.png", name.split(' ').next().unwrap_or("x"))));
                }
                t.add(&c);
            }
        }
        println!("{}", t.row(name));
    }
    let dump_phone = arg("--dump-phone").map(PathBuf::from);
    for phone_split in ["valid", "train"] {
        let name = format!("phone photos through an eyepiece, eyepiece-phone {phone_split} (416×416)");
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let cases = phone_cases(phone_split);
        if cases.is_empty() {
            println!("| {name} | absent | | | | | | |");
            continue;
        }
        let mut t = Tally { name: name.clone(), ..Tally::default() };
        for (stem, case) in &cases {
            t.add(case);
            if let Some(dir) = &dump_phone {
                let a = fields::analyse(&case.image);
                if verbose {
                    println!("    {phone_split} {stem}: {} box(es); {}", case.boxes.len(), a.explain());
                }
                let _ = overlay(case, &a).save(dir.join(format!("{phone_split}-{stem}.png")));
            }
        }
        println!("{}", t.row(&name));
    }
    if only.is_some() && !args.iter().any(|a| a == "--singles") {
        return;
    }
    let single_split = if split == "test" { "test" } else { "val" };
    println!("\nSingle-cell images decided single:\n");
    println!("| images | n | single | share |");
    println!("| --- | ---: | ---: | ---: |");
    single_share(&format!("MLL {single_split} (250×250)"), &split_paths(&data("MLL_DATA", "mll-subset"), single_split), verbose);
    single_share(&format!("PBC {single_split} (224×224 central crops)"), &split_paths(&data("PBC_DATA", "pbc"), single_split), verbose);
    if split == "test" {
        let sample = data("PBC_SAMPLE_DATA", "pbc-sample");
        let paths: Vec<PathBuf> =
            dataset::from_csv(&sample.join("labels.csv")).map(|items| items.into_iter().map(|i| i.path).collect()).unwrap_or_default();
        single_share("PBC originals, pbc-sample (360×363)", &paths, verbose);
    }
}
