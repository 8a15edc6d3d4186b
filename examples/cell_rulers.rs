//! What each source's images measure, for reading the scale from the image's content (issue 50):
//! per set, the quartiles of the typical cell radius (`fields::typical_cell_radius`: the upper
//! quartile of the distance transform's ridges, red cells where they show), of the central
//! cell's nucleus and whole-cell diameter (`measure_central_cell`), and of the image's side.
//!
//! ```text
//! cargo run --release --no-default-features --example cell_rulers -- [--limit 200]
//! ```
use marrowscope::cells::{fields, measure_central_cell};
use marrowscope::eval::dataset;
use marrowscope::image::decode;
use std::path::PathBuf;

fn quartiles(mut v: Vec<f32>) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.sort_by(f32::total_cmp);
    let q = |f: f32| v[((v.len() - 1) as f32 * f).round() as usize];
    format!("{:>5.1} {:>5.1} {:>5.1} (n {})", q(0.25), q(0.5), q(0.75), v.len())
}

fn main() {
    let mut limit = 200usize;
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--limit") {
        limit = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(limit);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    let sets = [
        ("MLL marrow crops", root.join("mll-subset")),
        ("PBC 224 crops", root.join("pbc")),
        ("PBC originals", root.join("pbc-sample")),
        ("BCCD crops", root.join("other-labs/bccd-crops/labels.csv")),
        ("Tecom", root.join("other-labs/tecom/labels.csv")),
    ];
    println!("{:<18} {:<28} {:<28} {:<28} side", "set", "typical radius q1 q2 q3", "nucleus diameter", "cell diameter");
    for (name, path) in sets {
        let items = if path.extension().is_some_and(|e| e == "csv") { dataset::from_csv(&path) } else { dataset::from_dir(&path) };
        let Ok(items) = items else {
            println!("{name:<18} (absent)");
            continue;
        };
        let step = (items.len() / limit).max(1);
        let (mut radius, mut nucleus, mut cell, mut side) = (vec![], vec![], vec![], vec![]);
        for item in items.iter().step_by(step).take(limit) {
            let Ok(bytes) = std::fs::read(&item.path) else { continue };
            let Ok(d) = decode::decode(&bytes) else { continue };
            side.push(d.image.width().min(d.image.height()) as f32);
            if let Some(r) = fields::typical_cell_radius(&d.image) {
                radius.push(r);
            }
            if let Some(c) = measure_central_cell(&d.image) {
                nucleus.push(c.nucleus_diameter_px);
                cell.push(c.diameter_px);
            }
        }
        println!("{name:<18} {:<28} {:<28} {:<28} {}", quartiles(radius), quartiles(nucleus), quartiles(cell), quartiles(side));
    }
}
