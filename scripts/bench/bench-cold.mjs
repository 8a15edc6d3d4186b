// Cold start as a visitor meets it (issue 17): from navigation to a ready model, on a first
// visit (fresh browser profile: empty caches, no service worker) and on a repeat visit (the same
// profile after the service worker has stored the site), with where the time goes. The page and
// its worker mark their moments on the performance timeline (src/web/marks.rs); this script reads
// them, and the resource timings of the files that matter, and prints the median of --runs runs.
//
//   node scripts/bench/bench-cold.mjs [--dist dist] [--runs 5] [--query workers=2] [--disk-profile]
//                               [--dwell-ms MS] [--warm-loads N] [--json FILE] [--md FILE]
//
// --disk-profile: each run in a new browser profile on disk, as a visitor's browser is (Chromium
// keeps compiled WebAssembly for the next visit only there); by default each run is a new
// off-the-record context of one browser. --dwell-ms: the page before the repeat visit stays open
// that long once ready (V8 stores optimised code a while after optimising it). --warm-loads N
// (with --dwell-ms): that page also starts a new worker of the site and has it load the model N
// times first, so that V8 optimises tract's load code before it stores the worker's code
// (docs/benchmarks.md, "Warm-up loads").
//
// Serves the folder with scripts/serve.mjs on 127.0.0.1 (precompressed files where the build made
// them; no throttling): what it measures is the browser's work (downloading from the local server,
// compiling WebAssembly, loading the model), not a network.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { readOptions } from '../lib/options.mjs';
import { launchBrowser, launchProfile, startServer, ROOT } from '../../tests/e2e/lib.mjs';
import { median } from './stats.mjs';

const USAGE = 'usage: node scripts/bench/bench-cold.mjs [--dist DIR] [--runs N] [--query "workers=2"] [--disk-profile] [--dwell-ms MS] [--warm-loads N] [--json FILE] [--md FILE]';

function parseOptions(argv) {
  const v = readOptions(argv, {
    dist: { type: 'string' }, runs: { type: 'string', default: '5' }, json: { type: 'string' }, md: { type: 'string' },
    'dwell-ms': { type: 'string', default: '0' }, 'disk-profile': { type: 'boolean', default: false },
    'warm-loads': { type: 'string', default: '0' }, query: { type: 'string' },
  }, USAGE);
  const o = {
    dist: v.dist === undefined ? path.join(ROOT, 'dist') : path.resolve(v.dist), runs: Math.max(1, Number(v.runs)), json: v.json ?? null, md: v.md ?? null,
    query: v.query === undefined ? '' : v.query.replace(/^\??/, '?'), dwell: Number(v['dwell-ms']), disk: v['disk-profile'], warm: Number(v['warm-loads']),
  };
  if (o.warm && !o.dwell) {
    console.error('bench-cold.mjs: --warm-loads runs in the page that stays open before the repeat visit: give --dwell-ms too');
    process.exit(2);
  }
  return o;
}

const FILES = ['marrowscope_bg.wasm', 'model/manifest.json', 'model/model.int8.onnx', 'worker_bg.wasm'];
const MARKS = [
  ['app-start', 'page code running (page wasm fetched, compiled, started)'],
  ['workers-started', 'workers created'],
  ['manifest-fetched', 'manifest fetched'],
  ['model-fetched', 'model bytes fetched'],
  ['worker-alive', 'worker running (its wasm fetched, compiled, started)'],
  ['model-sent', 'model handed to the worker'],
  ['worker-model-received', 'worker: model received'],
  ['worker-load-start', 'worker: load starts (the browser computes the checksum meanwhile, crypto.subtle)'],
  ['worker-manifest-parsed', 'worker: manifest parsed'],
  ['worker-parsed', 'worker: ONNX read'],
  ['worker-typed', 'worker: model typed'],
  ['worker-decluttered', 'worker: model decluttered'],
  ['worker-optimised', 'worker: model optimised'],
  ['worker-planned', 'worker: plan and state made'],
  ['worker-checked', 'worker: model checksum verified (digest computed during the load)'],
  ['worker-model-ready', 'worker: model ready'],
  ['model-ready', 'page: model ready'],
  ['shown', 'the page shows "Model ready" (DOM)'],
];

/** A page's or a worker's timeline (runs in the browser): its time origin, the first mark of each
 * `marrowscope:` name, and its resource timings. */
function timeline() {
  return {
    origin: performance.timeOrigin,
    marks: Object.fromEntries(performance.getEntriesByType('mark').filter((m) => m.name.startsWith('marrowscope:')).reverse().map((m) => [m.name.slice(12), m.startTime])),
    res: performance.getEntriesByType('resource').map((r) => ({ name: new URL(r.name).pathname.slice(1), start: r.startTime, end: r.responseEnd, transfer: r.transferSize, body: r.encodedBodySize })),
  };
}

/** One visit: navigate, wait for the model, read the page's and the worker's timelines. */
async function visit(context, url) {
  const page = await context.newPage();
  // The moment the page shows "model ready", from the DOM (also for builds without the marks).
  await page.addInitScript(() => {
    new MutationObserver((_, obs) => {
      if (document.querySelector('[data-testid=model-status][data-state=ready]')) {
        window.__readyAt = performance.now();
        obs.disconnect();
      }
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  });
  const wall0 = Date.now();
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForSelector('[data-testid=model-status][data-state=ready]', { timeout: 120_000 });
  const wall = Date.now() - wall0;
  const pageInfo = {
    ...(await page.evaluate(timeline)),
    ...(await page.evaluate(() => ({ controlled: !!navigator.serviceWorker?.controller, shown: window.__readyAt }))),
  };
  const marks = { ...pageInfo.marks };
  const res = [...pageInfo.res];
  for (const w of page.workers()) {
    const info = await w.evaluate(timeline).catch(() => null);
    if (!info) continue;
    const shift = info.origin - pageInfo.origin;
    for (const [k, v] of Object.entries(info.marks)) if (!(k in marks) || v + shift < marks[k]) marks[k] = v + shift;
    for (const r of info.res) res.push({ ...r, start: r.start + shift, end: r.end + shift });
  }
  const files = {};
  for (const f of FILES) {
    const r = res.find((x) => x.name.endsWith(f));
    if (r) files[f] = { start: r.start, end: r.end, transfer: r.transfer };
  }
  await page.close();
  marks['shown'] = pageInfo.shown;
  // What was fetched before the page showed "Model ready" (a service worker's own fetches are
  // not in these timelines: it registers after ready).
  const beforeReady = res.filter((r) => r.start <= pageInfo.shown).map((r) => r.name);
  return { wall, marks, files, controlled: pageInfo.controlled, beforeReady };
}

/** Bytes in a profile's code cache for WebAssembly (Chromium: Default/Code Cache/wasm). */
function codeCacheBytes(profile) {
  const dir = path.join(profile, 'Default', 'Code Cache', 'wasm');
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { recursive: true }).map((f) => fs.statSync(path.join(dir, f))).filter((s) => s.isFile()).reduce((a, s) => a + s.size, 0);
}

/** Bytes a server sends for these files: the build's brotli copy where it made one, else the
 * file itself (what Chromium reports over http://127.0.0.1 depends on what it negotiates). */
function brotliBytes(dist, names) {
  let raw = 0;
  let br = 0;
  const size = (f) => (fs.statSync(f, { throwIfNoEntry: false })?.isFile() ? fs.statSync(f).size : null);
  for (const n of names) {
    const f = path.join(dist, decodeURIComponent(n.replace(/[?#].*$/, '') || 'index.html'));
    const bytes = size(f);
    if (bytes == null) continue;
    raw += bytes;
    br += size(f + '.br') ?? bytes;
  }
  return { raw, br };
}

const fmt = (x) => (Number.isFinite(x) ? `${Math.round(x)}` : '—');

/** In `page` (the site, model ready): a new worker of the site loads the model `n` times, one
 * after the other; returns [ms in all, each load's `load_ms`]. A load that fails, or gives no
 * answer in 60 s, fails the run. */
function warmUpLoads(page, n) {
  return page.evaluate(async (n) => {
    const t0 = performance.now();
    const text = await (await fetch('./model/manifest.json')).text();
    const buf = await (await fetch('./model/' + JSON.parse(text).onnx_file)).arrayBuffer();
    const w = new Worker('./worker_loader.js');
    const times = [];
    try {
      for (let i = 0; i < n; i++) {
        times.push(await new Promise((res, rej) => {
          const giveUp = setTimeout(() => rej(new Error('a warm-up load gave no answer in 60 s')), 60_000);
          const fail = (why) => { clearTimeout(giveUp); rej(new Error(`a warm-up load failed: ${why}`)); };
          w.onmessage = (e) => {
            if (e.data?.kind === 'loaded') { clearTimeout(giveUp); res(e.data.load_ms); }
            else if (e.data?.kind === 'load_error' || e.data?.kind === 'crashed') fail(e.data.message);
          };
          w.onerror = (e) => fail(e.message || 'worker error');
          w.postMessage({ kind: 'load', manifest: text, model: buf.slice(0) });
        }));
      }
    } finally {
      w.terminate();
    }
    return [performance.now() - t0, times];
  }, n);
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  const server = await startServer({ dist: o.dist });
  const browser = o.disk ? null : await launchBrowser();
  const runs = { first: [], repeat: [] };
  let context = null;
  let profile = null;
  try {
    for (let i = 0; i < o.runs; i++) {
      const viewport = { width: 1280, height: 900 };
      profile = o.disk ? fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-profile-')) : null;
      context = o.disk ? await launchProfile(profile, { viewport }) : await browser.newContext({ viewport });
      runs.first.push(await visit(context, server.url + o.query));
      // The service worker registers once the model is ready and stores the site; a repeat
      // visit is one made after that, in the same profile.
      const p = await context.newPage();
      if (process.env.BENCH_DEBUG) p.on("console", (m) => console.error("[repeat-prep]", m.text().slice(0, 160)));
      await p.goto(server.url);
      const controlled = () => p.waitForFunction(() => navigator.serviceWorker?.controller, null, { timeout: 30_000 });
      await controlled().catch(async () => {
        await p.reload(); // installed while no page was open: a new load is controlled
        await controlled();
      });
      await p.evaluate(() => navigator.serviceWorker.ready);
      if (o.dwell) {
        // A visitor stays a while: the browser may keep compiled code for the next visit only
        // after its first use (V8's WebAssembly code cache is written after tier-up).
        await p.waitForSelector('[data-testid=model-status][data-state=ready]', { timeout: 120_000 });
        if (o.warm) {
          const [all, each] = await warmUpLoads(p, o.warm);
          if (i === 0) console.error(`warm-up loads in a new worker: ${Math.round(all)} ms in all, each ${each.join(', ')} ms`);
        }
        await p.waitForTimeout(o.dwell);
      }
      await p.close();
      runs.repeat.push(await visit(context, server.url + o.query));
      await context.close();
      context = null;
      if (profile) {
        if (i === 0) console.error(`compiled WebAssembly kept in the profile: ${codeCacheBytes(profile)} bytes`);
        fs.rmSync(profile, { recursive: true, force: true });
        profile = null;
      }
      console.error(`run ${i + 1}/${o.runs}: first ${fmt(runs.first.at(-1).marks.shown)} ms, repeat ${fmt(runs.repeat.at(-1).marks.shown)} ms (controlled: ${runs.repeat.at(-1).controlled})`);
    }
  } finally {
    await context?.close().catch(() => {});
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    await browser?.close();
    await server.stop();
  }
  const lines = [];
  lines.push(`Cold start, ${o.runs} runs each, median ms after navigation (\`node scripts/bench/bench-cold.mjs --dist ${path.relative(ROOT, o.dist) || '.'} --runs ${o.runs}\`, ${new Date().toISOString()}):`);
  lines.push('');
  lines.push('| moment | first visit | repeat visit |');
  lines.push('|---|---:|---:|');
  for (const f of FILES) {
    lines.push(`| ${f} downloaded (start → end) | ${fmt(median(runs.first.map((r) => r.files[f]?.start)))} → ${fmt(median(runs.first.map((r) => r.files[f]?.end)))} | ${fmt(median(runs.repeat.map((r) => r.files[f]?.start)))} → ${fmt(median(runs.repeat.map((r) => r.files[f]?.end)))} |`);
  }
  for (const [k, label] of MARKS) {
    const row = `| ${label} (\`${k}\`) | ${fmt(median(runs.first.map((r) => r.marks[k])))} | ${fmt(median(runs.repeat.map((r) => r.marks[k])))} |`;
    lines.push(k === 'shown' ? row.replace(/\| (\d+) \| (\d+) \|$/, '| **$1** | **$2** |') : row);
  }
  const ready = (k) => runs[k].map((r) => r.marks.shown);
  const wall = (k) => runs[k].map((r) => r.wall);
  lines.push('');
  lines.push(`**The figure a visitor sees** is the page's own clock from navigation start to the model status showing ready (\`shown\`, a MutationObserver on \`[data-testid=model-status][data-state=ready]\`; the other rows are the app's own marks on the same clock).`);
  lines.push(`Model ready, all runs: first visit ${ready('first').map(fmt).join(', ')}; repeat visit ${ready('repeat').map(fmt).join(', ')} ms.`);
  lines.push(`The same from outside the page (Playwright: page.goto → the status seen ready, includes the new tab): first visit median ${fmt(median(wall('first')))} ms, repeat ${fmt(median(wall('repeat')))} ms.`);
  const names = [...new Set(runs.first[0].beforeReady)];
  const bytes = brotliBytes(o.dist, names);
  const mib = (b) => (b / 1048576).toFixed(2);
  const gallery = names.filter((n) => n.startsWith('gallery/') && !n.endsWith('.json')).length;
  lines.push(`Fetched before ready on a first visit: ${names.length} files, ${mib(bytes.br)} MiB as brotli (${mib(bytes.raw)} MiB raw); gallery images among them: ${gallery}.`);
  const md = lines.join('\n');
  console.log(md);
  if (o.md) fs.writeFileSync(o.md, md + '\n');
  if (o.json) fs.writeFileSync(o.json, JSON.stringify(runs, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
