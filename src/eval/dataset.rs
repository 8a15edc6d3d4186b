//! Labelled image lists: the mll-subset's `splits.csv`, a plain `path,label`
//! CSV, or a folder in the TCIA layout (`<CLASS>/**/*.jpg`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub path: PathBuf,
    pub label: String,
    pub split: String,
}

/// Reads a CSV with a header that has `path` and `label` columns (and optionally `split`, and
/// `mll_code`, which then gives the label: the PBC layout); paths are relative to the CSV's folder.
pub fn from_csv(csv: &Path) -> std::io::Result<Vec<Item>> {
    let base = csv.parent().unwrap_or(Path::new("."));
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(csv)?;
    let header = reader.headers()?.clone();
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(p), Some(l)) = (col("path"), col("label")) else {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the CSV needs 'path' and 'label' columns"));
    };
    let s = col("split");
    // The PBC layout (`path,label,mll_code,split`): its own labels (BA, SNE, …) are mapped to
    // MLL codes in `mll_code`, empty for platelets, which are not an MLL class ("PLT").
    let code = col("mll_code");
    let rows = reader.records().collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter(|r| r.len() > p.max(l))
        .map(|r| {
            let path = base.join(&r[p]);
            let label = match code.and_then(|c| r.get(c)).map(|c| c.trim()) {
                Some("") => "PLT".to_string(),
                Some(c) => c.to_string(),
                // A label that is no class code (pbc-sample's folder names, "neutrophil"): the
                // PBC file name says the type ("BNE_…" a band neutrophil).
                None => {
                    let label = r[l].trim();
                    match crate::taxonomy::by_code(label) {
                        Some(_) => label.to_string(),
                        None => path
                            .file_name()
                            .and_then(|f| pbc_code(&f.to_string_lossy()))
                            .map(str::to_string)
                            .unwrap_or_else(|| label.to_string()),
                    }
                }
            };
            Item { path, label, split: s.and_then(|s| r.get(s)).map(str::to_string).unwrap_or_default() }
        })
        .collect())
}

/// The MLL code of a PBC image from its file name's prefix (Acevedo et al. 2020: `SNE_1234.jpg`
/// is a segmented neutrophil), `PLT` for platelets; `None` for other names and for `IG_…`
/// (an immature granulocyte of unspecified stage: promyelocyte, myelocyte or metamyelocyte).
/// The prefixes are read from `data/pbc-prefixes.json`, the one copy of the map that the scripts
/// and the training code read too.
pub fn pbc_code(file_name: &str) -> Option<&'static str> {
    let prefix = file_name.split('_').next()?;
    pbc_prefixes().get(prefix).map(String::as_str)
}

/// PBC file-name prefix → MLL code (`data/pbc-prefixes.json`, built in).
fn pbc_prefixes() -> &'static BTreeMap<String, String> {
    static MAP: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    // The file is part of the build and checked by a test; were it broken, no prefix would match.
    MAP.get_or_init(|| serde_json::from_str(include_str!("../../data/pbc-prefixes.json")).unwrap_or_default())
}

/// The eight groups Acevedo et al. (2020) report accuracy on, by MLL code: neutrophils (NGS,
/// NGB) and immature granulocytes (PMO, MYB, MMZ) pooled; `None` for codes outside them.
pub fn pbc_group(code: &str) -> Option<&'static str> {
    Some(match code {
        "BAS" => "basophil",
        "EOS" => "eosinophil",
        "EBO" => "erythroblast",
        "PMO" | "MYB" | "MMZ" | "ig" | "IG" => "ig",
        "LYT" => "lymphocyte",
        "MON" => "monocyte",
        "NGS" | "NGB" => "neutrophil",
        "PLT" => "platelet",
        _ => return None,
    })
}

/// Reads a folder: `splits.csv` or `labels.csv` if present, else the TCIA layout
/// (every image under `<CLASS>/`, label = the top folder name, split empty).
pub fn from_dir(dir: &Path) -> std::io::Result<Vec<Item>> {
    for name in ["splits.csv", "labels.csv"] {
        if dir.join(name).exists() {
            return from_csv(&dir.join(name));
        }
    }
    let root = if dir.join("bone_marrow_cell_dataset").is_dir() { dir.join("bone_marrow_cell_dataset") } else { dir.to_path_buf() };
    let mut items = Vec::new();
    let mut classes: Vec<_> = std::fs::read_dir(&root)?.filter_map(|e| e.ok()).filter(|e| e.path().is_dir()).collect();
    classes.sort_by_key(|e| e.file_name());
    for class in classes {
        let label = class.file_name().to_string_lossy().to_string();
        let mut stack = vec![class.path()];
        let mut files = Vec::new();
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d)?.filter_map(|e| e.ok()) {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p
                    .extension()
                    .is_some_and(|x| matches!(x.to_ascii_lowercase().to_str(), Some("jpg" | "jpeg" | "png" | "tif" | "tiff" | "bmp")))
                {
                    files.push(p);
                }
            }
        }
        files.sort();
        items.extend(files.into_iter().map(|path| Item { path, label: label.clone(), split: String::new() }));
    }
    Ok(items)
}

/// White-cell boxes `[xmin, ymin, xmax, ymax]` (pixels) of a Pascal VOC annotation such as the
/// BCCD dataset's `Annotations/*.xml`: every `<object>` named `WBC`; malformed ones are skipped.
pub fn voc_wbc_boxes(xml: &str) -> Vec<[f32; 4]> {
    let tag = |o: &str, t: &str| -> Option<f32> {
        let s = o.find(&format!("<{t}>"))? + t.len() + 2;
        let e = o[s..].find('<')?;
        o[s..s + e].trim().parse().ok()
    };
    xml.split("<object>")
        .skip(1)
        .filter(|o| o.contains("<name>WBC</name>"))
        .filter_map(|o| Some([tag(o, "xmin")?, tag(o, "ymin")?, tag(o, "xmax")?, tag(o, "ymax")?]))
        .collect()
}

/// White-cell boxes `[xmin, ymin, xmax, ymax]` (pixels of a `w`×`h` image) of a YOLO Darknet
/// label file such as `eyepiece-phone`'s `labels/*.txt`: one `class cx cy bw bh` line per box,
/// fractions of the image's width and height. Malformed lines are skipped.
pub fn yolo_boxes(txt: &str, w: u32, h: u32) -> Vec<[f32; 4]> {
    let (w, h) = (w as f32, h as f32);
    txt.lines()
        .filter_map(|l| {
            let v: Vec<f32> = l.split_whitespace().skip(1).map(str::parse).collect::<Result<_, _>>().ok()?;
            let [cx, cy, bw, bh] = <[f32; 4]>::try_from(v).ok()?;
            [cx, cy, bw, bh]
                .iter()
                .all(|x| x.is_finite())
                .then(|| [(cx - bw / 2.0) * w, (cy - bh / 2.0) * h, (cx + bw / 2.0) * w, (cy + bh / 2.0) * h])
        })
        .collect()
}

/// For each detection centre `(x, y)` (pixels), the index of the box (`[xmin, ymin, xmax,
/// ymax]`) it counts for: the first box not yet taken that holds the centre. `None`: a false
/// detection. Each box counts for at most one detection, so the boxes taken are the ones found.
pub fn match_to_boxes(centres: impl IntoIterator<Item = (f32, f32)>, boxes: &[[f32; 4]]) -> Vec<Option<usize>> {
    let mut used = vec![false; boxes.len()];
    centres
        .into_iter()
        .map(|(x, y)| {
            let i = (0..boxes.len()).find(|&i| !used[i] && x >= boxes[i][0] && x <= boxes[i][2] && y >= boxes[i][1] && y <= boxes[i][3])?;
            used[i] = true;
            Some(i)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_box_counts_for_one_detection() {
        let boxes = [[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0]];
        let m = match_to_boxes([(5.0, 5.0), (6.0, 6.0), (25.0, 5.0), (50.0, 50.0)], &boxes);
        assert_eq!(m, vec![Some(0), None, Some(1), None]);
    }

    #[test]
    fn yolo_labels_give_pixel_boxes() {
        let b = yolo_boxes("0 0.5 0.25 0.1 0.2\nbad line\n0 0.1 0.1\n", 400, 200);
        assert_eq!(b.len(), 1, "{b:?}");
        // Fractions of the side in f32: equal to the pixel within rounding.
        assert!(b[0].iter().zip([180.0, 30.0, 220.0, 70.0]).all(|(a, e)| (a - e).abs() < 1e-3), "{b:?}");
    }

    #[test]
    fn pbc_layouts_give_mll_codes() {
        let dir = std::env::temp_dir().join(format!("marrowscope-dataset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("splits.csv"),
            "path,label,mll_code,split\nimages/BA/BA_1.jpg,BA,BAS,train\nimages/PLATELET/PLATELET_2.jpg,PLATELET,,val\n",
        )
        .unwrap();
        let items = from_dir(&dir).unwrap();
        assert_eq!(items.iter().map(|i| (i.label.as_str(), i.split.as_str())).collect::<Vec<_>>(), [("BAS", "train"), ("PLT", "val")]);
        std::fs::write(dir.join("splits.csv"), "").unwrap();
        std::fs::remove_file(dir.join("splits.csv")).unwrap();
        std::fs::write(dir.join("labels.csv"), "path,label\nneutrophil/BNE_7.jpg,neutrophil\nig/IG_8.jpg,ig\nx/NGS_1.jpg,NGS\n").unwrap();
        let items = from_dir(&dir).unwrap();
        assert_eq!(items.iter().map(|i| i.label.as_str()).collect::<Vec<_>>(), ["NGB", "ig", "NGS"]);
        assert_eq!(pbc_group("NGB"), pbc_group("NGS"));
        assert_eq!(pbc_group("ig"), pbc_group("MYB"));
        assert_eq!(pbc_group("BLA"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn voc_wbc_boxes_reads_only_white_cells() {
        let xml = "<annotation><object><name>RBC</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object>\
                   <object><name>WBC</name><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>110</xmax><ymax>120</ymax></bndbox></object>\
                   <object><name>WBC</name><bndbox><xmin>x</xmin></bndbox></object></annotation>";
        assert_eq!(voc_wbc_boxes(xml), vec![[10.0, 20.0, 110.0, 120.0]]);
    }

    #[test]
    fn csv_quotes() {
        let dir = std::env::temp_dir().join(format!("marrowscope-dataset-quotes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("labels.csv"), "path,label\r\n\"a,\"\"b\"\".jpg\",LYT\r\n\r\nc.jpg,NGS\r\n").unwrap();
        let items = from_dir(&dir).unwrap();
        assert_eq!(
            items.iter().map(|i| (i.path.file_name().unwrap().to_string_lossy().into_owned(), i.label.as_str())).collect::<Vec<_>>(),
            [("a,\"b\".jpg".to_string(), "LYT"), ("c.jpg".to_string(), "NGS")]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_pbc_prefix_names_an_mll_code_or_platelets() {
        assert_eq!(pbc_prefixes().len(), 11);
        for (prefix, code) in pbc_prefixes() {
            assert!(code == "PLT" || crate::taxonomy::by_code(code).is_some(), "{prefix} → {code}");
            assert_eq!(pbc_code(&format!("{prefix}_1.jpg")), Some(code.as_str()));
        }
        assert_eq!(pbc_code("IG_8.jpg"), None);
    }
}
