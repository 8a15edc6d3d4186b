//! Issue 15, the core of the Learn tab: the committed default teaching set (real, labelled test
//! images), what a session draws from and in which order, and what a student's answers show.

mod common;

use marrowscope::learn::pairs;
use marrowscope::learn::progress::{Answer, Progress};
use marrowscope::learn::schedule::{self, Rng};
use marrowscope::learn::teaching::{self, Specimen, TeachingItem, FOCUSES};
use std::collections::BTreeMap;

fn committed_set() -> Vec<TeachingItem> {
    let dir = common::root().join("public/samples/teaching");
    let items =
        teaching::parse_index(&std::fs::read_to_string(dir.join("index.json")).expect("public/samples/teaching/index.json is committed"))
            .unwrap();
    for it in &items {
        assert!(dir.join(&it.file).is_file(), "{} is listed but missing", it.file);
        assert!(marrowscope::taxonomy::by_code(&it.label).is_some() || it.label == "PLT", "label {}", it.label);
    }
    items
}

fn answer(item: &TeachingItem, chosen: &str, t: f64) -> Answer {
    Answer {
        file: item.file.clone(),
        truth: item.label.clone(),
        chosen: chosen.to_string(),
        source: item.source.clone(),
        model: None,
        at_ms: t,
    }
}

#[test]
fn the_committed_set_covers_both_specimens_and_the_focuses() {
    let items = committed_set();
    let marrow = teaching::pool(&items, &FOCUSES[0], Specimen::Marrow);
    let blood = teaching::pool(&items, &FOCUSES[0], Specimen::Blood);
    assert!(marrow.len() >= 40 && blood.len() >= 60, "marrow {} blood {}", marrow.len(), blood.len());
    assert_eq!(marrow.len() + blood.len(), items.len());
    let gran = FOCUSES.iter().find(|f| f.id == "granulocytes").unwrap();
    let p = teaching::pool(&items, gran, Specimen::Both);
    assert_eq!(teaching::options(&items, &p, gran), vec!["PMO", "MYB", "MMZ", "NGB", "NGS"], "the focus's (maturation) order");
    assert!(p.iter().all(|&k| gran.codes.contains(&items[k].label.as_str())));
    // On marrow only, the granulocyte focus has PMO and NGS (the subset's marrow classes).
    let pm = teaching::pool(&items, gran, Specimen::Marrow);
    assert_eq!(teaching::options(&items, &pm, gran), vec!["PMO", "NGS"]);
    assert_eq!(teaching::focuses_for(&items).len(), FOCUSES.len());
}

#[test]
fn classes_take_turns_and_no_cell_repeats_at_once() {
    let items = committed_set();
    let pool = teaching::pool(&items, &FOCUSES[0], Specimen::Both);
    let mut progress = Progress::new();
    let mut rng = Rng::new(7);
    let mut by_class: BTreeMap<String, u32> = BTreeMap::new();
    let mut last: Vec<String> = Vec::new();
    for t in 0..1400 {
        let k = schedule::next(&items, &pool, &progress, false, &mut rng).unwrap();
        assert!(!last.iter().rev().take(5).any(|f| *f == items[k].file), "{} again within 5", items[k].file);
        last.push(items[k].file.clone());
        *by_class.entry(items[k].label.clone()).or_default() += 1;
        let label = items[k].label.clone();
        progress.record(answer(&items[k], &label, t as f64));
    }
    let classes = teaching::options(&items, &pool, &FOCUSES[0]).len() as f64;
    assert_eq!(teaching::options(&items, &pool, &FOCUSES[0])[0], "ART", "all classes: taxonomy order");
    for (c, n) in &by_class {
        let share = *n as f64 / 1400.0;
        assert!((share - 1.0 / classes).abs() < 0.035, "{c}: {share:.3} of draws, expected about {:.3}", 1.0 / classes);
    }
}

#[test]
fn wrong_cells_come_back_sooner_and_weak_classes_more_often() {
    let items = committed_set();
    let pool = teaching::pool(&items, &FOCUSES[0], Specimen::Blood);
    let mut progress = Progress::new();
    // Every blood cell answered: MYB always wrong (as MMZ), the rest right, twice.
    for round in 0..2 {
        for &k in &pool {
            let chosen = if items[k].label == "MYB" { "MMZ".to_string() } else { items[k].label.clone() };
            progress.record(answer(&items[k], &chosen, round as f64));
        }
    }
    let count_myb = |weak: bool| {
        let mut rng = Rng::new(11);
        (0..2000).filter(|_| items[schedule::next(&items, &pool, &progress, weak, &mut rng).unwrap()].label == "MYB").count() as f64
            / 2000.0
    };
    let plain = count_myb(false);
    let weak = count_myb(true);
    assert!((plain - 1.0 / 11.0).abs() < 0.03, "without 'weak': MYB {plain:.3}");
    assert!(weak > 0.5, "practising weak classes draws MYB (0 of its answers right) most: {weak:.3}");
    // Within a class, a cell answered wrongly is drawn more often than cells answered right.
    let eos: Vec<usize> = pool.iter().copied().filter(|&k| items[k].label == "EOS").collect();
    let wrong = eos[0];
    progress.record(answer(&items[wrong], "BAS", 3.0));
    for _ in 0..5 {
        progress.record(answer(&items[pool[0]], &items[pool[0]].label.clone(), 4.0));
    }
    let mut rng = Rng::new(5);
    let mut hits: BTreeMap<usize, u32> = BTreeMap::new();
    for _ in 0..4000 {
        let k = schedule::next(&items, &eos, &progress, false, &mut rng).unwrap();
        *hits.entry(k).or_default() += 1;
    }
    let others = eos.iter().filter(|&&k| k != wrong).map(|k| hits.get(k).copied().unwrap_or(0)).max().unwrap();
    assert!(hits[&wrong] > 2 * others, "the wrongly answered cell {} vs the most drawn other {others}", hits[&wrong]);
}

#[test]
fn progress_scores_streaks_confusions_and_pairs() {
    let items = committed_set();
    let find = |code: &str| items.iter().find(|i| i.label == code).unwrap();
    let mut p = Progress::new();
    assert!(p.record(answer(find("BLA"), "BLA", 1.0)));
    assert!(!p.record(answer(find("MON"), "LYT", 2.0)));
    assert!(p.record(answer(find("LYT"), "LYT", 3.0)));
    assert!(p.record(answer(find("EOS"), "EOS", 4.0)));
    assert!(!p.record(answer(find("MON"), "LYT", 5.0)));
    p.set_model_answer(&find("MON").file, "MON");
    assert!(p.record(answer(find("NGS"), "NGS", 6.0)));
    assert_eq!(p.score(), (4, 6));
    assert_eq!((p.streak(), p.best_streak()), (1, 2));
    let order: Vec<String> = ["BLA", "EOS", "LYT", "MON", "NGS"].iter().map(|s| s.to_string()).collect();
    let pc = p.per_class(&order);
    let mon = pc.iter().find(|c| c.code == "MON").unwrap();
    assert_eq!((mon.seen, mon.right), (2, 0));
    assert_eq!(p.confusions(), vec![("MON".to_string(), "LYT".to_string(), 2)]);
    let m = p.matrix(&order);
    assert_eq!(m[3][2], 2, "MON taken for LYT twice");
    assert_eq!(m.iter().flatten().sum::<u32>(), 6);
    // The stored form reads back; another format is a fresh start.
    assert_eq!(Progress::from_json(&p.to_json()), Some(p.clone()));
    assert!(Progress::from_json("{\"format\":2,\"answers\":[]}").is_none());
    let csv = p.to_csv();
    assert_eq!(csv.lines().count(), 7);
    assert!(csv.lines().nth(2).unwrap().ends_with(",MON,LYT,false,"), "{csv}");
    // The student's confusion comes first among the pairs to compare; look-alikes follow.
    let ranked = pairs::ranked(&p, |c| items.iter().any(|i| i.label == c));
    assert_eq!(ranked[0], ("LYT".to_string(), "MON".to_string()));
    assert!(ranked.contains(&("BLA".to_string(), "PMO".to_string())));
    assert!(!ranked.iter().any(|(a, b)| a == "ART" && b == "NIF" && !items.iter().any(|i| i.label == "ART")));
}
