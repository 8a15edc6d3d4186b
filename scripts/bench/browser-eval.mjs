// Evaluates the built site in Chromium as a user would use it: drops every image of a labelled
// folder into the page (in batches), waits for every result and scores the top class shown
// (`data-predicted`) against the label. What it evaluates is the core's `pipeline::read_file`
// (src/pipeline.rs) as the browser runs it, in the worker's wasm: the same function
// `cargo run --example evaluate` runs natively (tests/e2e/pipeline.test.mjs checks the two agree). Prints accuracy, macro-F1 and per-class figures, and for
// peripheral-blood images the eight groups of Acevedo et al. (2020) (neutrophils and immature
// granulocytes pooled: pbc-sample's `ig` images are of unspecified stage).
//
//   node scripts/bench/browser-eval.mjs ../shared/data/pbc-sample              # labels.csv, originals
//   node scripts/bench/browser-eval.mjs ../shared/data/mll-subset --split test
//   node scripts/bench/browser-eval.mjs ../shared/data/pbc --split test [--json out.json] [--limit N]
//
// Serves dist/ (build it first: bash scripts/build.sh), or the site at E2E_URL.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { withApp, waitForModelReady, readCells, readCsv, ROOT } from '../../tests/e2e/lib.mjs';

// PBC file-name prefix → MLL code; PLT: platelet (the one copy of the map, also read by the app).
const PBC_PREFIX = JSON.parse(fs.readFileSync(path.join(ROOT, 'data', 'pbc-prefixes.json'), 'utf8'));
const GROUP = {
  BAS: 'basophil', EOS: 'eosinophil', EBO: 'erythroblast', PMO: 'ig', MYB: 'ig', MMZ: 'ig', ig: 'ig', LYT: 'lymphocyte',
  MON: 'monocyte', NGS: 'neutrophil', NGB: 'neutrophil', PLT: 'platelet',
};

function usage(msg) {
  if (msg) console.error(msg);
  console.error('usage: node scripts/bench/browser-eval.mjs DATA_DIR [--split test|val|all] [--limit N] [--batch N] [--json FILE]');
  process.exit(2);
}

function parseOptions(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        split: { type: 'string', default: 'test' }, limit: { type: 'string' }, batch: { type: 'string', default: '80' }, json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    usage(e.message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) usage();
  if (positionals.length > 1) usage(`unknown argument ${positionals[1]}`);
  const a = { data: positionals[0] ?? null, split: v.split, limit: v.limit === undefined ? Infinity : Number(v.limit), batch: Number(v.batch), json: v.json ?? null };
  if (!a.data) usage('DATA_DIR is needed');
  return a;
}

/** [{path, label}] from splits.csv (MLL or PBC layout) or labels.csv (pbc-sample). */
function readItems(dir, split) {
  const csvName = ['splits.csv', 'labels.csv'].find((n) => fs.existsSync(path.join(dir, n)));
  if (!csvName) usage(`${dir} has no splits.csv or labels.csv`);
  return readCsv(path.join(dir, csvName)).filter((r) => r.split === undefined || split === 'all' || r.split === split).map((r) => {
    const p = path.join(dir, r.path);
    let label = r.label;
    if (r.mll_code !== undefined) label = r.mll_code || 'PLT';
    else if (!/^[A-Z]{3}$/.test(label)) label = PBC_PREFIX[path.basename(p).split('_')[0]] ?? label;
    return { path: p, label };
  });
}

function score(pairs) {
  const classes = [...new Set(pairs.flatMap(([t, p]) => [t, p]))].sort();
  const per = classes.map((c) => {
    const tp = pairs.filter(([t, p]) => t === c && p === c).length;
    const support = pairs.filter(([t]) => t === c).length;
    const predicted = pairs.filter(([, p]) => p === c).length;
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { code: c, precision, recall, f1, support };
  });
  const present = per.filter((c) => c.support > 0);
  return {
    n: pairs.length,
    accuracy: pairs.filter(([t, p]) => t === p).length / Math.max(1, pairs.length),
    macroF1: present.reduce((s, c) => s + c.f1, 0) / Math.max(1, present.length),
    perClass: per,
  };
}

function print(title, r) {
  console.log(`\n${title}: n=${r.n}, accuracy ${r.accuracy.toFixed(4)}, macro-F1 ${r.macroF1.toFixed(4)}`);
  console.log('class         precision  recall  F1      support');
  for (const c of r.perClass) {
    console.log(`${c.code.padEnd(12)}  ${c.precision.toFixed(3).padStart(9)}  ${c.recall.toFixed(3).padStart(6)}  ${c.f1.toFixed(3)}  ${String(c.support).padStart(7)}`);
  }
}

const args = parseOptions(process.argv.slice(2));
const dir = path.resolve(args.data);
const items = readItems(dir, args.split).slice(0, args.limit);
const names = new Set(items.map((i) => path.basename(i.path)));
if (names.size !== items.length) usage('file names must be unique (the page shows files by name)');
const t0 = Date.now();
const results = await withApp('browser-eval', async ({ page }) => {
  await waitForModelReady(page);
  const modelId = await page.evaluate(async () => (await (await fetch(new URL('model/manifest.json', document.baseURI))).json()).model_id);
  const out = new Map();
  for (let i = 0; i < items.length; i += args.batch) {
    const part = items.slice(i, i + args.batch);
    await page.setInputFiles('#file-input', part.map((p) => p.path));
    await page.waitForFunction((n) => {
      const cells = [...document.querySelectorAll('[data-testid=cell]')];
      return cells.length >= n && cells.every((c) => ['done', 'error', 'cancelled'].includes(c.getAttribute('data-state')));
    }, i + part.length, { timeout: 600_000, polling: 500 });
    for (const c of await readCells(page)) out.set(c.file, c);
    process.stderr.write(`  ${Math.min(i + args.batch, items.length)}/${items.length} classified\n`);
  }
  return { modelId, cells: out };
});
const seconds = (Date.now() - t0) / 1000;
const rows = items.map((it) => {
  const c = results.cells.get(path.basename(it.path));
  return { file: path.basename(it.path), label: it.label, predicted: c?.predicted ?? null, state: c?.state ?? 'missing', set: c?.set ?? null };
});
const failed = rows.filter((r) => r.state !== 'done');
console.log(`${dir} (split ${args.split}): ${rows.length} images through the built site in Chromium, model ${results.modelId ?? '?'}, ${seconds.toFixed(0)} s; ${failed.length} not classified`);
const scored = rows.filter((r) => r.state === 'done' && /^[A-Z]{3}$/.test(r.label));
const classes = score(scored.map((r) => [r.label, r.predicted]));
print('classes', classes);
const grouped = rows.filter((r) => r.state === 'done' && GROUP[r.label]);
let groups = null;
if (grouped.length === rows.filter((r) => r.state === 'done').length) {
  groups = score(grouped.map((r) => [GROUP[r.label], GROUP[r.predicted] ?? `(${r.predicted})`]));
  print('the eight groups of Acevedo et al. 2020 (neutrophils and immature granulocytes pooled)', groups);
}
if (args.json) fs.writeFileSync(args.json, JSON.stringify({ data: dir, split: args.split, model: results.modelId, seconds, classes, groups, rows }, null, 1));
