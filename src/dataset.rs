//! Labelled image lists: the mll-subset's `splits.csv`, a plain `path,label`
//! CSV, or a folder in the TCIA layout (`<CLASS>/**/*.jpg`).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub path: PathBuf,
    pub label: String,
    pub split: String,
}

fn parse_csv_line(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                if let Some(s) = out.last_mut() {
                    s.push('"');
                }
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => {
                if let Some(s) = out.last_mut() {
                    s.push(c);
                }
            }
        }
    }
    out
}

/// Reads a CSV with a header that has `path` and `label` columns (and optionally `split`);
/// paths are relative to the CSV's folder.
pub fn from_csv(csv: &Path) -> std::io::Result<Vec<Item>> {
    let text = std::fs::read_to_string(csv)?;
    let base = csv.parent().unwrap_or(Path::new("."));
    let mut lines = text.lines();
    let header = parse_csv_line(lines.next().unwrap_or_default());
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(p), Some(l)) = (col("path"), col("label")) else {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the CSV needs 'path' and 'label' columns"));
    };
    let s = col("split");
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .map(parse_csv_line)
        .filter(|r| r.len() > p.max(l))
        .map(|r| Item {
            path: base.join(&r[p]),
            label: r[l].trim().to_string(),
            split: s.and_then(|s| r.get(s).cloned()).unwrap_or_default(),
        })
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voc_wbc_boxes_reads_only_white_cells() {
        let xml = "<annotation><object><name>RBC</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object>\
                   <object><name>WBC</name><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>110</xmax><ymax>120</ymax></bndbox></object>\
                   <object><name>WBC</name><bndbox><xmin>x</xmin></bndbox></object></annotation>";
        assert_eq!(voc_wbc_boxes(xml), vec![[10.0, 20.0, 110.0, 120.0]]);
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(parse_csv_line(r#"a,"b,c","d""e""#), vec!["a", "b,c", "d\"e"]);
    }
}
