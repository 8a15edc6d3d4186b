//! Issue 13 on the shipped model through the app's own engine (tract): conformal prediction sets
//! keep their coverage on the test split of each source (MLL marrow, PBC blood), and the out-of-distribution flag fires on images
//! that are not cells (generated now by scripts/data/make-ood-images.py) but rarely on test cells.

mod common;

use marrowscope::uncertainty::conformal::LEVELS;
use std::process::Command;

#[test]
fn manifest_carries_the_calibration() {
    let m = common::manifest();
    let c = m.conformal.as_ref().expect("the shipped manifest has a conformal section (training/calibrate.py)");
    let marrow = c.sources.get("marrow").expect("calibrated for bone marrow");
    assert_eq!(marrow.split, "val");
    assert!(marrow.n >= 600, "val split: {}", marrow.n);
    assert_eq!(c.levels(), LEVELS.to_vec());
    let o = m.ood.as_ref().expect("the shipped manifest has ood statistics");
    assert_eq!(o.mean.len(), m.cam.as_ref().unwrap().channels);
    assert!(!o.components.is_empty());
}

#[test]
fn sets_cover_and_the_flag_spares_test_cells() {
    let mut clf = common::classifier();
    let m = clf.manifest().clone();
    let spec = m.conformal.clone().expect("conformal calibration");
    let mut failures = Vec::new();
    // Every source the model was calibrated on, through the app's path (pipeline::read_file: the
    // cell cut out at the model's scale) and the threshold the app uses (the estimated source's q-hat
    // when sure, else the largest).
    for source in spec.sources.keys() {
        let items: Vec<_> = match source.as_str() {
            "marrow" => common::split("test"),
            "blood" => common::blood_split("test"),
            other => panic!("no test data known for source {other}"),
        };
        let items: Vec<_> = items.into_iter().filter(|i| m.knows(&i.label)).collect();
        assert!(items.len() >= 900, "the whole {source} test split: {}", items.len());
        // Per level: covered, total set size, single-class sets, empty sets.
        let mut tally = [[0usize; 4]; 3];
        let mut right_source = 0usize;
        let mut flagged = 0usize;
        for item in &items {
            let p = common::read_single(&mut clf, &item.path).prediction;
            let y = m.classes.iter().position(|c| *c == item.label).unwrap();
            flagged += p.ood.expect("the shipped model gives an ood assessment").flagged as usize;
            right_source += p.source.as_ref().is_some_and(|g| &g.source == source) as usize;
            for (k, level) in LEVELS.into_iter().enumerate() {
                // The set through the same path the app uses (ranked, with the estimated
                // source's q-hat), checked against the index form.
                let set = p.prediction_set(&m, level).unwrap();
                let (q, _, _) = spec.threshold_for(level, p.source.as_ref()).unwrap();
                let idx = spec.set_indices(&p.probabilities, q);
                assert_eq!(
                    set.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
                    idx.iter().map(|&i| m.classes[i].as_str()).collect::<Vec<_>>()
                );
                tally[k][0] += idx.contains(&y) as usize;
                tally[k][1] += idx.len();
                tally[k][2] += (idx.len() == 1) as usize;
                tally[k][3] += idx.is_empty() as usize;
            }
        }
        let n = items.len();
        let f = |v: usize| v as f64 / n as f64;
        println!(
            "conformal sets on the {source} test split (n = {n}, tract), method {:?}; source estimated right for {:.1} %:",
            spec.method,
            100.0 * f(right_source)
        );
        println!("level  coverage  mean size  singletons  empty");
        for (k, level) in LEVELS.into_iter().enumerate() {
            let coverage = f(tally[k][0]);
            println!(
                "{:.2}   {coverage:.4}    {:.3}      {:.4}      {:.4}",
                level.fraction(),
                f(tally[k][1]),
                f(tally[k][2]),
                f(tally[k][3])
            );
            // Split conformal guarantees at least the level on average; on one test split the
            // coverage also moves by its sampling error (about 2 points with ~670 calibration and
            // ~1,000 test images). Under-coverage (sets that promise more than they hold) is held
            // to 2.5 points; over-coverage (sets larger than needed) to 5: the PBC val split is
            // harder than its test split (top-1 0.875 vs 0.914), so blood sets over-cover on test
            // by up to 4.5 points (docs/model-card.md: the 2-point goal is not met there).
            // Using the largest q-hat for every image gave 12 points over: this catches that.
            let (under, over) = (0.025, 0.05);
            if coverage < level.fraction() - under || coverage > level.fraction() + over {
                failures.push(format!("{source}: coverage {coverage:.4} at level {:.2} is outside [-{under}, +{over}]", level.fraction()));
            }
        }
        let rate = flagged as f64 / n as f64;
        println!("ood flag on {source} test cells: {flagged} of {n} = {rate:.4}");
        if rate > 0.05 {
            failures.push(format!("{source}: {rate:.4} of test cells flagged as outside the model (limit 0.05)"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn non_cell_images_are_flagged() {
    let dir = std::env::temp_dir().join(format!("marrowscope-ood-{}", std::process::id()));
    let out = Command::new(common::python())
        .arg(common::root().join("scripts/data/make-ood-images.py"))
        .arg(&dir)
        .output()
        .expect("python with numpy and Pillow (scripts/setup.sh makes .tools/py)");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "make-ood-images.py failed:\n{log}");
    let index: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    assert!(index.len() >= 150, "{} images", index.len());
    let with_skimage = index.values().any(|k| k == "skimage");
    let mut clf = common::classifier();
    let mut missed = Vec::new();
    let mut fields = Vec::new();
    for name in index.keys() {
        // Blobs in these are not white cells: the image is read whole (issue 31's colour check),
        // so that the flag below is what the page shows for it.
        let rgb = image::load_from_memory(&std::fs::read(dir.join(name)).unwrap()).map(|i| i.to_rgb8());
        if let Ok(rgb) = rgb {
            let a = marrowscope::cells::fields::analyse(&rgb);
            if a.layout == marrowscope::cells::fields::Layout::Field {
                fields.push(format!(
                    "{name} ({:.2} of its stained pixels in a stain's colours)",
                    a.content.smear_colours.unwrap_or_default()
                ));
            }
        }
        let p = clf.classify_bytes(&std::fs::read(dir.join(name)).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let o = p.ood.expect("ood assessment");
        if !o.flagged {
            missed.push(format!("{name} ({:.3} of the limit)", o.ratio()));
        }
        // A flagged image still offers its classes.
        assert_eq!(p.ranked.len(), clf.manifest().classes.len());
    }
    let _ = std::fs::remove_dir_all(&dir);
    let rate = 1.0 - missed.len() as f64 / index.len() as f64;
    println!(
        "ood flag on {} generated non-cell images{}: {rate:.4} flagged; not flagged: {missed:?}",
        index.len(),
        if with_skimage { " (with scikit-image's sample images)" } else { " (scikit-image missing: its images left out)" }
    );
    assert!(rate >= 0.95, "only {rate:.4} of non-cell images flagged; missed {missed:?}");
    // 49 of 208 were read as fields before the colour check, 12 after (magenta text, flat
    // pink shapes and gradients, two screenshots: colours a stain can have); 13 since eyepiece
    // photos are measured inside their lit disc (scikit-image's retina photograph, a lit disc in
    // black).
    let field_share = fields.len() as f64 / index.len() as f64;
    println!("generated non-cell images read as fields: {} of {} = {field_share:.4}: {fields:?}", fields.len(), index.len());
    assert!(field_share <= 0.08, "{field_share:.4} of non-cell images read as fields: {fields:?}");
}

/// Issue 33, item 2: on a source shifted as another laboratory's images are (tungsten light,
/// gamma, blur, JPEG: `marrowscope::eval::shift`), calibrating on 60 cells a person confirmed
/// gives sets that cover about the level on the other cells of that source, and a profile
/// round-trips as the file the page exports. `examples/lab_calibration.rs` prints the figures
/// over many draws and sources.
#[test]
fn calibrating_on_confirmed_cells_of_a_shifted_source_restores_coverage() {
    use marrowscope::eval::shift;
    use marrowscope::uncertainty::conformal::Level;
    use marrowscope::uncertainty::lab::{Confirmed, LabProfile};
    let mut clf = common::classifier();
    let m = clf.manifest().clone();
    let spec = m.conformal.clone().expect("conformal calibration");
    // 240 blood test cells, every class the model knows, interleaved so that any prefix is mixed.
    let mut by_class: std::collections::BTreeMap<String, Vec<_>> = Default::default();
    for i in common::blood_split("test").into_iter().filter(|i| m.knows(&i.label)) {
        by_class.entry(i.label.clone()).or_default().push(i);
    }
    let items: Vec<_> = (0..24).flat_map(|k| by_class.values().filter_map(move |v| v.get(k * 3).cloned())).take(240).collect();
    assert_eq!(items.len(), 240);
    let mut scored = Vec::new();
    for item in &items {
        let png = shift::png(&shift::tungsten(&image::open(&item.path).unwrap().to_rgb8()));
        let out =
            marrowscope::pipeline::read_file_as(&mut clf, &png, &mut |_| {}, Some(marrowscope::cells::fields::Layout::Single)).unwrap();
        scored.push((out.cells.into_iter().next().unwrap().prediction.ranked, item.label.clone()));
    }
    let (cal, rest) = scored.split_at(60);
    let confirmed: Vec<Confirmed> = cal.iter().map(|(r, c)| Confirmed { ranked: r, code: c, ood: None }).collect();
    let profile = LabProfile::calibrate(&spec, &m.model_id, &confirmed, "test".into(), 0.0).unwrap();
    assert_eq!(profile.n, 60);
    // The file the page exports reads back to the same thresholds (JSON keeps them to the last digit or so).
    let again = LabProfile::from_json(&profile.to_json(), &m.model_id, Some(&spec)).unwrap();
    assert_eq!((again.n, again.scores.len()), (60, 60));
    for (k, q) in &profile.qhat {
        assert!((again.qhat[k] - q).abs() < 1e-12, "{k}: {q} → {}", again.qhat[k]);
    }
    let (mut hit, mut size, mut model_hit) = (0usize, 0usize, 0usize);
    for (ranked, label) in rest {
        let set = profile.set(&spec, ranked, Level::L90).unwrap();
        hit += set.contains(label) as usize;
        size += set.len();
        let s = spec.set_for_ranked(ranked, Level::L90, None).unwrap();
        model_hit += ranked.iter().take(s.size).any(|r| &r.code == label) as usize;
    }
    let n = rest.len() as f64;
    let (coverage, model_coverage) = (hit as f64 / n, model_hit as f64 / n);
    println!("shifted blood: 90 % sets, model's calibration {model_coverage:.3}; calibrated on 60 confirmed cells {coverage:.3} (mean size {:.2})", size as f64 / n);
    // 180 cells: about 2.2 points of sampling error, plus the calibration's own on 60 cells.
    assert!((0.82..=0.99).contains(&coverage), "coverage after calibration {coverage:.3}");
}
