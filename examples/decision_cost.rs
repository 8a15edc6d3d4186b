//! What the decision "one cell or a field" costs a single-cell image (issue 51): native release
//! timing of [`fields::analyse`] on single-cell test images, and the share decided single.
//!
//! ```sh
//! cargo run --release --no-default-features --example decision_cost            # 200 of each
//! cargo run --release --no-default-features --example decision_cost -- --n 50  # quicker
//! ```
//!
//! Images: MLL test crops (250×250), PBC test crops (224×224) and the PBC originals of
//! pbc-sample (360×363) (`MLL_DATA`, `PBC_DATA`, `PBC_SAMPLE_DATA` or `../shared/data/…`). Each
//! image is decoded once; `analyse` is then timed on it three times and the fastest kept. Two
//! clocks: the wall clock, and the thread's own CPU time (`CLOCK_THREAD_CPUTIME_ID`), which on a
//! shared machine leaves out the time other processes had the core. Prints per set: n, decided
//! single, and ms per image (median, p95, max) by each clock; `--parts` adds the median CPU time
//! of the decision's parts on their own.

use marrowscope::cells::fields::{self, Layout};
use marrowscope::eval::dataset;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn data(var: &str, dir: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(dir))
}

/// The first `n` paths of `split` rows, spread evenly, of a `path,label,…,split` CSV in `dir`.
fn split_paths(dir: &Path, split: &str, n: usize) -> Vec<PathBuf> {
    let Ok(items) = dataset::from_csv(&dir.join("splits.csv")) else { return Vec::new() };
    let all: Vec<PathBuf> = items.into_iter().filter(|i| i.split.trim() == split).map(|i| i.path).collect();
    let step = (all.len() / n.max(1)).max(1);
    all.into_iter().step_by(step).take(n).collect()
}

/// The calling thread's CPU time, ms.
fn cpu_ms() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec for clock_gettime to write.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    if rc != 0 {
        return f64::NAN;
    }
    t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 / 1e6
}

fn report(name: &str, paths: &[PathBuf]) {
    let mut ms = Vec::new();
    let mut single = 0;
    let mut parts: [Vec<f64>; 3] = Default::default();
    let mut cpu = Vec::new();
    for p in paths {
        let Ok(img) = image::open(p) else { continue };
        let img = img.to_rgb8();
        let (mut best, mut best_cpu) = (f64::INFINITY, f64::INFINITY);
        let mut layout = Layout::Single;
        for _ in 0..3 {
            let (t, c) = (Instant::now(), cpu_ms());
            let a = fields::analyse(&img);
            best_cpu = best_cpu.min(cpu_ms() - c);
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
            layout = a.layout;
        }
        single += (layout == Layout::Single) as usize;
        ms.push(best);
        cpu.push(best_cpu);
        let c = cpu_ms();
        let _ = marrowscope::cells::measure_central_cell(&img);
        parts[0].push(cpu_ms() - c);
        let c = cpu_ms();
        let _ = marrowscope::cells::eyepiece::find_aperture(&img, &Default::default());
        parts[1].push(cpu_ms() - c);
        let c = cpu_ms();
        let _ = fields::lit_frame(std::borrow::Cow::Borrowed(&img));
        parts[2].push(cpu_ms() - c);
    }
    if ms.is_empty() {
        println!("| {name} | absent | | | | |");
        return;
    }
    ms.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    let q = |v: &[f64], p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    println!(
        "| {name} | {} | {single} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} / {:.2} |",
        ms.len(),
        q(&ms, 0.5),
        q(&cpu, 0.5),
        q(&ms, 0.95),
        q(&cpu, 0.95),
        ms[ms.len() - 1],
        cpu[cpu.len() - 1]
    );
    if std::env::args().any(|a| a == "--parts") {
        for (part, mut v) in ["measure_central_cell", "eyepiece::find_aperture", "lit_frame"].iter().zip(parts) {
            v.sort_by(f64::total_cmp);
            println!("    {part}: median {:.2} ms", v[v.len() / 2]);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.iter().position(|a| a == "--n").and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(200);
    println!("| images | n | decided single | ms median (wall / CPU) | ms p95 (wall / CPU) | ms max (wall / CPU) |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    report("MLL test crops (250×250)", &split_paths(&data("MLL_DATA", "mll-subset"), "test", n));
    report("PBC test crops (224×224)", &split_paths(&data("PBC_DATA", "pbc"), "test", n));
    let sample = data("PBC_SAMPLE_DATA", "pbc-sample");
    let originals: Vec<PathBuf> =
        dataset::from_csv(&sample.join("labels.csv")).map(|items| items.into_iter().map(|i| i.path).collect()).unwrap_or_default();
    let step = (originals.len() / n.max(1)).max(1);
    report("PBC originals, pbc-sample (360×363)", &originals.into_iter().step_by(step).take(n).collect::<Vec<_>>());
}
