//! Parity: tract (through Marrowscope's own decode/cell crop/preprocess/inference) against
//! onnxruntime on the same quantised model, for every image of the test splits (MLL, and PBC
//! for a model that learned from blood).
//! tract's tensors and probabilities are dumped; training/parity.py runs
//! onnxruntime on the same tensors and compares.

mod common;

use std::process::Command;

#[test]
fn tract_matches_onnxruntime_on_the_whole_test_split() {
    let dir = std::env::temp_dir().join(format!("marrowscope-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dump = dir.join("dump.bin");
    let mut clf = common::classifier();
    let m = clf.manifest().clone();
    let mut items: Vec<_> = common::split("test").into_iter().filter(|i| m.knows(&i.label)).collect();
    assert!(items.len() >= 900, "the whole test split: {}", items.len());
    if m.class_sources.values().flatten().any(|s| s == "blood") {
        let blood: Vec<_> = common::blood_split("test").into_iter().filter(|i| m.knows(&i.label)).collect();
        assert!(blood.len() >= 900, "the whole PBC test split: {}", blood.len());
        items.extend(blood);
    }
    let file = std::io::BufWriter::new(std::fs::File::create(&dump).unwrap());
    let mut writer = marrowscope::eval::dump::DumpWriter::new(file, items.len(), &m.input, m.classes.len()).unwrap();
    for item in &items {
        // The app's path (pipeline::read_file): the cell brought to the model's scale first; the
        // tensor is the crop the model saw, preprocessed again.
        let cell = common::read_single(&mut clf, &item.path);
        let t = marrowscope::image::preprocess::to_tensor(&cell.crop, &m.input);
        writer.push(&t, &cell.prediction.probabilities).unwrap();
    }
    writer.finish().unwrap();
    let out = Command::new(common::python())
        .arg(common::root().join("training/parity.py"))
        .arg(&dump)
        .arg("--model")
        .arg(common::model_dir().join(&m.onnx_file))
        // The model issue's target. Measured: 99.70 % (3 of 1008 images flip, all near-ties;
        // largest probability difference 0.06). A real mis-computation (e.g. tract < 0.23.9
        // ignoring the per-channel axis) gives near-random agreement.
        .args(["--min-agreement", "99.5"])
        .output()
        .expect("python with onnxruntime (scripts/setup.sh makes .tools/py)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "parity check failed:\n{text}");
    assert!(text.contains("agreement"), "{text}");
}
