//! Finding and measuring cells on the real data (`../shared/data`, or the folders named by
//! `BCCD_DATA`, `MLL_DATA`, `PBC_DATA`, `PBC_SAMPLE_DATA`). Like the other native tests, these
//! need the data and fail with a clear message where it is missing. No model needed.

use marrowscope::cells::{crop_to_scale, find_cells, measure_central_cell, FindOptions, FoundCell};
use std::path::{Path, PathBuf};

fn data(var: &str, dir: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(dir));
    assert!(p.is_dir(), "the {dir} data must be at {} (or set {var})", p.display());
    p
}

fn open(path: PathBuf) -> image::RgbImage {
    image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8()
}

/// WBC boxes (xmin, ymin, xmax, ymax) of a BCCD field.
fn wbc_boxes(id: &str) -> Vec<[f32; 4]> {
    let xml = std::fs::read_to_string(data("BCCD_DATA", "bccd").join(format!("Annotations/{id}.xml"))).expect("annotation");
    marrowscope::eval::dataset::voc_wbc_boxes(&xml)
}

/// (true positives, false positives, boxes): a detection counts when its centre lies inside a
/// WBC box not yet taken.
fn score(found: &[FoundCell], boxes: &[[f32; 4]]) -> (usize, usize, usize) {
    let matched = marrowscope::eval::dataset::match_to_boxes(found.iter().map(|c| c.centre), boxes);
    let tp = matched.iter().flatten().count();
    (tp, matched.len() - tp, boxes.len())
}

fn bccd_field(id: &str) -> image::RgbImage {
    open(data("BCCD_DATA", "bccd").join(format!("JPEGImages/{id}.jpg")))
}

#[test]
fn finds_the_white_cells_of_bccd_val() {
    let dir = data("BCCD_DATA", "bccd");
    let ids = std::fs::read_to_string(dir.join("ImageSets/val.txt")).expect("val split");
    let (mut tp, mut fp, mut n) = (0, 0, 0);
    for id in ids.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let found = find_cells(&bccd_field(id), &FindOptions::default());
        let (t, f, b) = score(&found, &wbc_boxes(id));
        tp += t;
        fp += f;
        n += b;
    }
    let recall = tp as f64 / n as f64;
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    // Measured on val: recall 1.000, precision 0.926 (docs/finding-cells.md).
    assert!(recall >= 0.95, "recall {recall:.3} ({tp}/{n})");
    assert!(precision >= 0.88, "precision {precision:.3} ({tp} true, {fp} false)");
}

#[test]
fn separates_two_close_white_cells() {
    // Train field 34: a large lymphocyte and a neutrophil whose nuclei the lobe-joining closes
    // into one blob; the split gives one detection in each box.
    let id = "BloodImage_00034";
    let img = bccd_field(id);
    let boxes = wbc_boxes(id);
    assert_eq!(boxes.len(), 2);
    let found = find_cells(&img, &FindOptions::default());
    assert_eq!(score(&found, &boxes), (2, 0, 2), "{found:?}");
    let unsplit = find_cells(&img, &FindOptions { split_distance: f32::INFINITY, ..FindOptions::default() });
    assert_eq!(unsplit.len(), 1, "without the split the two are one blob: {unsplit:?}");
}

#[test]
fn a_field_without_white_cells_gives_few_or_none() {
    // Fields with no WBC box: nothing, or at most one false detection each.
    let dir = data("BCCD_DATA", "bccd");
    let mut empty = 0;
    let mut false_total = 0;
    for set in ["train", "val"] {
        let ids = std::fs::read_to_string(dir.join(format!("ImageSets/{set}.txt"))).expect("split");
        for id in ids.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if wbc_boxes(id).is_empty() {
                empty += 1;
                false_total += find_cells(&bccd_field(id), &FindOptions::default()).len();
            }
        }
    }
    assert!(empty > 0);
    assert!(false_total <= empty, "{false_total} detections in {empty} fields without white cells");
}

fn first_of(dir: &Path, class: &str, n: usize) -> Vec<PathBuf> {
    let csv = std::fs::read_to_string(dir.join("splits.csv")).expect("splits.csv");
    csv.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.len() >= 3 && f[1] == class && f[f.len() - 1] == "train").then(|| dir.join(f[0]))
        })
        .take(n)
        .collect()
}

/// Bounds: around the measured IQRs (docs/finding-cells.md); the whole-cell diameter misses
/// pale cytoplasm, so its lower bounds sit well below the true cell sizes.
#[test]
fn central_cell_of_mll_and_pbc_crops() {
    let mll = data("MLL_DATA", "mll-subset");
    let pbc = data("PBC_DATA", "pbc");
    for (dir, class, lo, hi) in
        [(&mll, "NGS", 80.0, 250.0), (&mll, "LYT", 60.0, 220.0), (&pbc, "SNE", 70.0, 160.0), (&pbc, "LY", 60.0, 150.0)]
    {
        for path in first_of(dir, class, 6) {
            let img = open(path.clone());
            let c = measure_central_cell(&img).unwrap_or_else(|| panic!("no central cell in {}", path.display()));
            let (w, h) = img.dimensions();
            assert!((c.centre.0 - w as f32 / 2.0).abs() < 0.25 * w as f32, "{}: {c:?}", path.display());
            assert!((c.centre.1 - h as f32 / 2.0).abs() < 0.25 * h as f32, "{}: {c:?}", path.display());
            assert!((lo..=hi).contains(&c.diameter_px), "{} {class}: cell {:.0} px", path.display(), c.diameter_px);
            assert!(c.nucleus_diameter_px <= c.diameter_px + 1.0, "{}: {c:?}", path.display());
        }
    }
}

fn median(mut v: Vec<f32>) -> f32 {
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}

#[test]
fn a_pbc_original_rescaled_to_mll_scale_measures_near_the_mll_median() {
    let mll = data("MLL_DATA", "mll-subset");
    let mll_median =
        median(first_of(&mll, "NGS", 40).into_iter().filter_map(|p| measure_central_cell(&open(p))).map(|c| c.diameter_px).collect());
    let sample = data("PBC_SAMPLE_DATA", "pbc-sample");
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(sample.join("neutrophil")).expect("pbc-sample/neutrophil").filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for p in paths.into_iter().take(12) {
        let img = open(p);
        let c = measure_central_cell(&img).expect("a neutrophil in a PBC original");
        let out = crop_to_scale(&img, &c, mll_median, 250).expect("a crop");
        assert_eq!(out.dimensions(), (250, 250));
        before.push(c.diameter_px);
        after.push(measure_central_cell(&out).expect("the cell after rescaling").diameter_px);
    }
    let (b, a) = (median(before), median(after));
    assert!(b > 0.0);
    assert!((a - mll_median).abs() < 0.15 * mll_median, "after rescaling {a:.0} px, MLL median {mll_median:.0} px");
}

/// The masks the cell finder opens and closes, on real images of every source (marrow crops,
/// blood crops and originals, smear fields): `cells::morphology` gives imageproc's results for
/// the Euclidean norm, pixel for pixel, at the radii the finder uses and beyond.
#[test]
fn morphology_is_imageprocs_on_real_stain_masks() {
    use imageproc::distance_transform::Norm;
    use marrowscope::cells::{morphology, StainModel};
    let mut images: Vec<PathBuf> = Vec::new();
    for (var, dir) in [("MLL_DATA", "mll-subset"), ("PBC_DATA", "pbc"), ("PBC_SAMPLE_DATA", "pbc-sample"), ("BCCD_DATA", "bccd")] {
        let items = marrowscope::eval::dataset::from_dir(&data(var, dir)).unwrap_or_default();
        let mut paths: Vec<PathBuf> = items.into_iter().map(|i| i.path).collect();
        if paths.is_empty() {
            paths = std::fs::read_dir(data(var, dir).join("JPEGImages")).expect("images").filter_map(|e| Some(e.ok()?.path())).collect();
        }
        paths.sort();
        let step = (paths.len() / 6).max(1);
        images.extend(paths.into_iter().step_by(step).take(6));
    }
    assert!(images.len() >= 20, "only {} images", images.len());
    for path in images {
        let img = open(path.clone());
        let model = StainModel::estimate(&img);
        let maps = model.maps(&img);
        let (w, h) = (maps.width, maps.height);
        let nuclear: Vec<u8> = maps.azure.iter().map(|&a| if a > model.azure_threshold { 255 } else { 0 }).collect();
        let dense: Vec<u8> = maps.density.iter().map(|&d| if d > model.cytoplasm_density() { 255 } else { 0 }).collect();
        for mask in [nuclear, dense] {
            let mask = image::GrayImage::from_raw(w, h, mask).expect("mask");
            for k in [1u8, 2, 4, 9, 10, 25] {
                assert_eq!(morphology::open(&mask, k), imageproc::morphology::open(&mask, Norm::L2, k), "{} open {k}", path.display());
                assert_eq!(morphology::close(&mask, k), imageproc::morphology::close(&mask, Norm::L2, k), "{} close {k}", path.display());
            }
        }
    }
}
