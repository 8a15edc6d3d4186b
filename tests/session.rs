//! Issue 16, the core of "never lose a count": a session's cells as the browser stores them
//! (crate::session) hold everything the exports need, so a count exported after a reload is
//! byte for byte the one exported before. Real results: MLL marrow and PBC blood test images
//! and the white cells of a BCCD smear field, through the shipped model.

mod common;

use marrowscope::cells::fields::Layout;
use marrowscope::count;
use marrowscope::image::decode::decode;
use marrowscope::pipeline;
use marrowscope::results::{CellResult, FieldInfo};
use marrowscope::session::record::{self, SessionMeta, StoredFieldRef};
use marrowscope::session::{export, resume, StoredCell, StoredState};
use marrowscope::uncertainty::conformal::LEVELS;

fn bccd_field() -> std::path::PathBuf {
    let dir = std::env::var_os("BCCD_DATA").map(std::path::PathBuf::from).unwrap_or_else(|| common::root().join("../shared/data/bccd"));
    dir.join("JPEGImages/BloodImage_00000.jpg")
}

/// A session like one the page builds: single files (some reassigned, one failed, one still
/// waiting), then a field with its white cells.
fn session_of_real_results() -> Vec<StoredCell> {
    let mut clf = common::classifier();
    let m = clf.manifest().clone();
    let mut items = common::sample_of(&common::split("test"), &m, 1);
    items.extend(common::sample_of(&common::blood_split("test"), &m, 1));
    let mut cells = Vec::new();
    let mut id = 0u32;
    for item in &items {
        id += 1;
        let cell = common::read_single(&mut clf, &item.path);
        let result = CellResult::from_prediction(&m, &cell.prediction, 21.5, Some("single".into()));
        cells.push(StoredCell {
            id,
            name: item.path.file_name().unwrap().to_string_lossy().into_owned(),
            state: StoredState::Done,
            // The person reassigns every third cell.
            final_class: id.is_multiple_of(3).then(|| "BLA".to_string()),
            result: Some(result),
            error: None,
            field: None,
            field_info: None,
            crop: cell.geometry.map(|g| record::StoredCrop { bbox: cell.bbox, nucleus_px: g.nucleus_px, scale: 1.0 }),
        });
    }
    id += 1;
    cells.push(StoredCell {
        id,
        name: "notes.txt".into(),
        state: StoredState::Error,
        result: None,
        final_class: None,
        error: Some("This file is not an image.".into()),
        field: None,
        field_info: None,
        crop: None,
    });
    id += 1;
    cells.push(StoredCell {
        id,
        name: "later.png".into(),
        state: StoredState::Waiting,
        result: None,
        final_class: None,
        error: None,
        field: None,
        field_info: None,
        crop: None,
    });
    // A smear field: its entry, then each white cell cut at the model's scale and classified
    // (the app's path, pipeline::read_file).
    let path = bccd_field();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let field = pipeline::read_file(&mut clf, &bytes, &mut |_| {}).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(field.layout, Layout::Field, "{}", field.explain);
    assert!(field.skipped.is_empty(), "{:?}", field.skipped);
    id += 1;
    let field_id = id;
    let mut children = Vec::new();
    for found in &field.cells {
        id += 1;
        let p = &found.prediction;
        children.push(StoredCell {
            id,
            name: format!("BloodImage_00000.jpg · cell {}", id - field_id),
            state: StoredState::Done,
            result: Some(CellResult::from_prediction(&m, p, 30.0, None)),
            final_class: None,
            error: None,
            field: Some(StoredFieldRef {
                field_id,
                field_name: "BloodImage_00000.jpg".into(),
                bbox: found.bbox.expect("a field's cell has its box"),
                added: false,
            }),
            field_info: None,
            crop: None,
        });
    }
    assert!(!children.is_empty(), "the field has white cells");
    let (width, height) = (field.width, field.height);
    cells.push(StoredCell {
        id: field_id,
        name: "BloodImage_00000.jpg".into(),
        state: StoredState::Done,
        result: None,
        final_class: None,
        error: None,
        field: None,
        field_info: Some(FieldInfo {
            width,
            height,
            format: "JPEG".into(),
            layout: field.explain.clone(),
            typical_nucleus_px: field.typical_nucleus_px,
            detect_ms: 80.0,
            ms: 300.0,
            memory_mb: 40.0,
            too_small: Vec::new(),
        }),
        crop: None,
    });
    cells.extend(children);
    cells
}

#[test]
fn exports_are_identical_after_a_store_and_restore() {
    let m = common::manifest();
    let before = session_of_real_results();
    // As the page stores them: one JSON text per cell, read back in whatever order the
    // storage returns (IndexedDB: by key), put in list order again.
    let mut texts: Vec<String> = before.iter().map(StoredCell::to_json).collect();
    texts.sort();
    let mut after: Vec<StoredCell> = texts.iter().map(|t| StoredCell::from_json(t).expect("a stored cell reads back")).collect();
    record::list_order(&mut after);
    let mut expected = before.clone();
    record::list_order(&mut expected);
    assert_eq!(after, expected, "every field of every cell survives the store");
    for level in LEVELS {
        let a = export::records(&expected, Some(&m), None, level);
        let b = export::records(&after, Some(&m), None, level);
        assert_eq!(a.len(), before.iter().filter(|c| c.result.is_some()).count());
        assert_eq!(count::to_csv(&a, &m.model_id), count::to_csv(&b, &m.model_id), "CSV at {level:?}");
        let order = m.classes.clone();
        assert_eq!(count::to_json(&a, &m.model_id, &order), count::to_json(&b, &m.model_id, &order), "JSON at {level:?}");
        // The sets are real: at 95 % some set has more than one class.
        if level.percent() == 95 {
            assert!(a.iter().any(|r| r.prediction_set.len() > 1), "{:?}", a.iter().map(|r| &r.prediction_set).collect::<Vec<_>>());
        }
    }
    // The reassignments are in the export.
    let csv = count::to_csv(&export::records(&after, Some(&m), None, LEVELS[1]), &m.model_id);
    assert!(csv.lines().filter(|l| l.contains(",\"BLA\",")).count() >= before.iter().filter(|c| c.final_class.is_some()).count(), "{csv}");
    // A field's cells follow the field in the list.
    let field_pos = after.iter().position(|c| c.field_info.is_some()).unwrap();
    assert!(after[field_pos + 1..].iter().all(|c| c.field.is_some()));
    assert!(after[..field_pos].iter().all(|c| c.field.is_none()));
}

#[test]
fn a_record_of_another_format_is_left_alone() {
    assert!(StoredCell::from_json("{\"id\": 1}").is_none());
    assert!(StoredCell::from_json("not json").is_none());
    let meta = SessionMeta::new("s-1".into(), 1.0, "27 Nov 2026, 16:05:00".into());
    assert_eq!(SessionMeta::from_json(&meta.to_json()), Some(meta.clone()));
    let future = meta.to_json().replace("\"format\":1", "\"format\":99");
    assert!(SessionMeta::from_json(&future).is_none());
}

#[test]
fn files_given_again_go_on_with_their_waiting_cell() {
    let waiting = vec![(4, "a.png".to_string()), (7, "b.png".to_string()), (9, "a.png".to_string())];
    let names: Vec<String> = ["c.png", "a.png", "a.png", "a.png", "b.png"].iter().map(|s| s.to_string()).collect();
    assert_eq!(resume::match_files(&waiting, &names), vec![None, Some(4), Some(9), None, Some(7)]);
    let text = resume::need_file_message(&["a.png", "b.png", "c.png"], 2);
    assert!(text.starts_with("3 files were not classified"), "{text}");
    assert!(text.contains("a.png, b.png and 1 more"), "{text}");
    assert!(
        resume::need_file_message(&["a.png"], 5).starts_with("1 file was not classified before the page was closed or reloaded: a.png.")
    );
}

/// The list's previews (issue 16, bounded memory): real marrow, blood and field images give a
/// JPEG of at most 64 pixels a side, a few kilobytes, that still looks like the image (same
/// mean colour within a few levels).
#[test]
fn previews_are_small_and_faithful() {
    use marrowscope::image::thumbnail;
    let m = common::classifier().manifest().clone();
    let mut paths: Vec<std::path::PathBuf> = common::sample_of(&common::split("test"), &m, 1).into_iter().map(|i| i.path).collect();
    paths.extend(common::sample_of(&common::blood_split("test"), &m, 1).into_iter().map(|i| i.path));
    paths.push(bccd_field());
    assert!(paths.len() > 10, "{} images", paths.len());
    let mean = |img: &image::RgbImage| -> [f64; 3] {
        let n = (img.width() * img.height()) as f64;
        let mut s = [0f64; 3];
        for p in img.pixels() {
            for k in 0..3 {
                s[k] += p[k] as f64;
            }
        }
        s.map(|v| v / n)
    };
    for path in &paths {
        let original = decode(&std::fs::read(path).unwrap()).unwrap().image;
        let bytes = thumbnail::jpeg(&original).unwrap();
        assert!(bytes.len() < 8 * 1024, "{}: {} bytes", path.display(), bytes.len());
        let small = image::load_from_memory(&bytes).unwrap().to_rgb8();
        let (w, h) = small.dimensions();
        assert_eq!(w.max(h), thumbnail::SIDE, "{}: {w}x{h}", path.display());
        let (a, b) = (mean(&original), mean(&small));
        for k in 0..3 {
            assert!((a[k] - b[k]).abs() < 6.0, "{}: channel {k} mean {:.1} vs {:.1}", path.display(), a[k], b[k]);
        }
    }
}
