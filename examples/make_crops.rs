//! Brings a labelled data folder to the model's scale with the app's own code, for training:
//! every image goes through [`marrowscope::cells::crop::cut`] (find the central cell,
//! measure its nucleus, cut the 250×250 square at the MLL scale) and is written as a JPEG
//! (quality 95), with a `splits.csv` (`path,label,split,source,nucleus_px`) beside them.
//!
//! ```sh
//! cargo run --release --no-default-features --example make_crops -- \
//!     --data ../shared/data/pbc --source blood --out ~/.cache/marrowscope/crops/blood
//! ```
//! `--data` is any folder `dataset::from_dir` reads, or a `path,label` CSV (the mll-subset's or PBC's `splits.csv`, a
//! `path,label` CSV, the TCIA layout); PBC labels become MLL codes (platelets `PLT`). Rows of
//! split `gallery` are skipped. `--size-exponent` (default 1) sets how far the cell's own size is
//! normalised away (`CellScale::size_exponent`) and `--nucleus-range MIN,MAX` the nucleus
//! sizes kept as they are (`nucleus_range_px`); the manifest must then say the same. `nucleus_px` is the measured nucleus diameter in the original
//! image (empty where no central nucleus was found and the central square was used whole).
//! `--fill glass` fills a crop that runs past the image with the glass's colour instead of
//! repeated edge pixels (`CropFill`; the manifest's `input.cell_scale.fill`);
//! `--white-balance` brings each crop's glass to one grey and `--mask-radius K` blends what lies
//! beyond K cell radii into the glass (`cells::background`; `input.cell_scale.white_balance`,
//! `mask_radius`).

use marrowscope::cells::crop::{self, Around};
use marrowscope::csv_export::{Cell, Table};
use marrowscope::eval::dataset;
use marrowscope::image::cell_scale::{CellScale, CropFill};
use marrowscope::image::decode;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

const USAGE: &str = "usage: make_crops --data DIR --source NAME --out DIR [--size-exponent A] [--nucleus-range MIN,MAX] \
                     [--fill edge|glass] [--white-balance] [--mask-radius K]";

struct Args {
    data: PathBuf,
    out: PathBuf,
    source: String,
    scale: CellScale,
}

fn parse_args() -> Result<Args, String> {
    let (mut data, mut out, mut source) = (None, None, None);
    let mut scale = CellScale::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => data = Some(PathBuf::from(val()?)),
            "--out" => out = Some(PathBuf::from(val()?)),
            "--source" => source = Some(val()?),
            "--size-exponent" => scale.size_exponent = val()?.parse().map_err(|_| "--size-exponent needs a number from 0 to 1")?,
            "--nucleus-range" => {
                let v = val()?;
                let (lo, hi) = v.split_once(',').ok_or("--nucleus-range needs MIN,MAX")?;
                scale.nucleus_range_px =
                    Some([lo.parse().map_err(|_| "--nucleus-range MIN")?, hi.parse().map_err(|_| "--nucleus-range MAX")?]);
            }
            "--fill" => {
                scale.fill = match val()?.as_str() {
                    "edge" => CropFill::Edge,
                    "glass" => CropFill::Glass,
                    _ => return Err("--fill needs edge or glass".into()),
                }
            }
            "--white-balance" => scale.white_balance = true,
            "--mask-radius" => scale.mask_radius = Some(val()?.parse().map_err(|_| "--mask-radius needs a number of cell radii")?),
            _ => return Err(USAGE.into()),
        }
    }
    match (data, out, source) {
        (Some(data), Some(out), Some(source)) => Ok(Args { data, out, source, scale }),
        _ => Err(USAGE.into()),
    }
}

/// One row of the output `splits.csv` (path, label, split, source, nucleus; the nucleus empty
/// where no cell was measured), or why the image was skipped.
fn crop_one(item: &dataset::Item, data: &Path, out: &Path, source: &str, scale: &CellScale) -> Result<[String; 5], String> {
    let bytes = std::fs::read(&item.path).map_err(|e| format!("{}: {e}", item.path.display()))?;
    let decoded = decode::decode(&bytes).map_err(|e| format!("{}: {e}", item.path.display()))?;
    let crop = crop::cut(&decoded.image, Around::Centre, scale).map_err(|e| format!("{}: {e}", item.path.display()))?;
    let base = if data.is_file() { data.parent().unwrap_or(data) } else { data };
    let rel = item.path.strip_prefix(base).unwrap_or(&item.path).with_extension("jpg");
    let dest = out.join(&rel);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95).encode_image(&crop.image).map_err(|e| e.to_string())?;
    std::fs::write(&dest, jpeg).map_err(|e| format!("{}: {e}", dest.display()))?;
    let nucleus = crop.cell.map(|c| format!("{:.1}", c.nucleus_diameter_px)).unwrap_or_default();
    Ok([rel.display().to_string(), item.label.clone(), item.split.clone(), source.to_string(), nucleus])
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let items =
        if args.data.extension().is_some_and(|e| e == "csv") { dataset::from_csv(&args.data) } else { dataset::from_dir(&args.data) };
    let items: Vec<_> = match items {
        Ok(v) => v.into_iter().filter(|i| i.split != "gallery").collect(),
        Err(e) => {
            eprintln!("make_crops: {}: {e}", args.data.display());
            std::process::exit(2);
        }
    };
    let t0 = Instant::now();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let chunk = items.len().div_ceil(threads).max(1);
    let rows: Vec<Result<[String; 5], String>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                s.spawn(|| part.iter().map(|it| crop_one(it, &args.data, &args.out, &args.source, &args.scale)).collect::<Vec<_>>())
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut csv = Table::new(&["path", "label", "split", "source", "nucleus_px"]);
    let (mut ok, mut no_cell) = (0, 0);
    for r in &rows {
        match r {
            Ok(row) => {
                ok += 1;
                no_cell += usize::from(row[4].is_empty());
                csv.row(row.iter().map(|cell| Cell::plain(cell.as_str())));
            }
            Err(e) => eprintln!("skipped {e}"),
        }
    }
    let csv = csv.finish();
    let written =
        std::fs::create_dir_all(&args.out).and_then(|_| std::fs::File::create(args.out.join("splits.csv"))?.write_all(csv.as_bytes()));
    if let Err(e) = written {
        eprintln!("make_crops: {}: {e}", args.out.display());
        std::process::exit(2);
    }
    println!(
        "{}: {ok} of {} images cropped ({no_cell} without a central nucleus: central square) in {:.0} s -> {}",
        args.source,
        items.len(),
        t0.elapsed().as_secs_f64(),
        args.out.display()
    );
}
