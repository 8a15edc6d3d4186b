// Memory of a big batch as a user runs it (issue 16): N images handed to the built site at once
// through the file picker, every result stored in the browser's session storage (IndexedDB) as
// it arrives. Prints, for each N, the time, the renderer process's peak resident memory (it holds
// the page and its classification worker; Linux VmHWM), the page's JavaScript heap at the end,
// and what the session stored.
//
//   node scripts/bench/bench-memory.mjs [--n 500,5000] [--json out.json] [--no-storage] [--workers 1,2]
//
// --no-storage: the browser refuses IndexedDB (as some private windows do), so nothing is
// stored: the same batch without the session's cost, for comparison.
// --workers: the pool sizes to run each N with (`?workers=K` on the page's address; default: the
// page's own default, one fewer than the cores).
//
// Serves dist/ (build it first: bash scripts/build.sh). The images are the MLL test split
// (../shared/data/mll-subset or MLL_DATA), repeated under distinct names (symbolic links in a
// temporary folder) up to N.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readOptions } from '../lib/options.mjs';
import { withApp, waitForModelReady, readSplits, MLL_DATA } from '../../tests/e2e/lib.mjs';

const USAGE = 'usage: node scripts/bench/bench-memory.mjs [--n 500,5000] [--json FILE] [--no-storage] [--workers 1,2]';

function parseOptions(argv) {
  const v = readOptions(argv, {
    n: { type: 'string' }, json: { type: 'string' }, 'no-storage': { type: 'boolean', default: false }, workers: { type: 'string' },
  }, USAGE);
  const list = (s) => s.split(',').map(Number).filter((n) => n > 0);
  return { sizes: v.n === undefined ? [500, 5000] : list(v.n), json: v.json ?? null, storage: !v['no-storage'], workers: v.workers === undefined ? [null] : list(v.workers) };
}

/** Resident memory of Chromium's renderer processes (KiB): now and peak (VmRSS, VmHWM). */
function renderers() {
  const out = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('chromium') || !cmd.includes('--type=renderer')) continue;
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (k) => Number((status.match(new RegExp(`${k}:\\s+(\\d+)`)) || [])[1] || 0);
      out.push({ pid: Number(pid), rss: kb('VmRSS'), hwm: kb('VmHWM') });
    } catch {
      /* gone */
    }
  }
  return out;
}

function imagesFor(n, dir) {
  const test = readSplits(MLL_DATA).filter((r) => r.split === 'test').map((r) => r.path);
  if (!test.length) throw new Error(`no test images under ${MLL_DATA}`);
  fs.mkdirSync(dir, { recursive: true });
  const out = [];
  for (let i = 0; i < n; i++) {
    const src = test[i % test.length];
    const link = path.join(dir, `img-${String(i).padStart(5, '0')}${path.extname(src)}`);
    if (!fs.existsSync(link)) fs.symlinkSync(path.resolve(src), link);
    out.push(link);
  }
  return out;
}

async function run(n, tmp, storage, workers) {
  const files = imagesFor(n, path.join(tmp, `n${n}`));
  const refuse = () => {
    IDBFactory.prototype.open = function () {
      throw new DOMException('refused for this benchmark', 'SecurityError');
    };
  };
  return withApp(`bench-memory-${n}`, async (app) => {
    const { page } = app;
    if (workers) await page.goto(`${app.url}?workers=${workers}`, { waitUntil: 'domcontentloaded' });
    await waitForModelReady(page);
    // Every worker of the pool has the model before the clock starts.
    await page.waitForTimeout(workers && workers > 1 ? 3000 : 0);
    await page.waitForSelector(`[data-testid=session][data-state=${storage ? 'saved' : 'unavailable'}]`, { timeout: 30_000 });
    // Only this page's renderer: the one whose peak grows during the run.
    const start = renderers();
    const t0 = Date.now();
    await page.setInputFiles('#file-input', files);
    let peakRss = 0;
    for (;;) {
      const done = await page.evaluate(() => {
        const cells = document.querySelectorAll('[data-testid=cell]');
        let settled = 0;
        for (const c of cells) if (['done', 'error', 'cancelled'].includes(c.getAttribute('data-state'))) settled++;
        return { total: cells.length, settled };
      });
      peakRss = Math.max(peakRss, ...renderers().map((r) => r.rss));
      if (done.total >= n && done.settled >= n) break;
      if (Date.now() - t0 > 60 * 60 * 1000) throw new Error(`timeout: ${JSON.stringify(done)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const seconds = (Date.now() - t0) / 1000;
    if (storage) await page.waitForFunction(() => document.querySelector('[data-testid=session]')?.getAttribute('data-unsaved') === 'false', null, { timeout: 120_000 });
    // What the list holds once the batch is done (after a garbage collection): DOM nodes, and
    // how many rows carry their preview image (only those near the screen should).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const dom = await cdp.send('Memory.getDOMCounters');
    const listImages = await page.evaluate(() => document.querySelectorAll('[data-testid=cell] img').length);
    const end = renderers();
    const grown = end.map((r) => ({ ...r, before: start.find((s) => s.pid === r.pid)?.hwm || 0 })).sort((a, b) => b.hwm - a.hwm)[0];
    const page_ = await page.evaluate(async () => {
      const est = await navigator.storage.estimate();
      const s = document.querySelector('[data-testid=session]');
      return {
        heap: performance.memory ? performance.memory.usedJSHeapSize : null,
        storage: est.usage,
        entries: Number(s.getAttribute('data-entries')),
        classified: Number(s.getAttribute('data-classified')),
        errors: document.querySelectorAll('[data-testid=cell][data-state=error]').length,
      };
    });
    return {
      n,
      workers: await page.getAttribute('[data-testid=worker-count]', 'data-workers').then(Number),
      storage,
      seconds: Number(seconds.toFixed(1)),
      images_per_s: Number((n / seconds).toFixed(1)),
      renderer_peak_mib: Number((grown.hwm / 1024).toFixed(0)),
      renderer_sampled_peak_mib: Number((peakRss / 1024).toFixed(0)),
      renderer_end_mib: Number((grown.rss / 1024).toFixed(0)),
      page_js_heap_mib: page_.heap ? Number((page_.heap / 2 ** 20).toFixed(1)) : null,
      stored_mib: Number((page_.storage / 2 ** 20).toFixed(1)),
      dom_nodes: dom.nodes,
      list_images: listImages,
      stored_entries: page_.entries,
      classified: page_.classified,
      errors: page_.errors,
    };
  }, storage ? undefined : { onContext: (context) => context.addInitScript(refuse) });
}

const opts = parseOptions(process.argv.slice(2));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-memory-'));
const rows = [];
try {
  for (const n of opts.sizes) {
    for (const w of opts.workers) {
      const r = await run(n, tmp, opts.storage, w);
      rows.push(r);
      console.log(JSON.stringify(r));
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log('\n| images | workers | session stored | time (s) | images/s | renderer peak RSS (MiB) | page JS heap at end (MiB) | DOM nodes | list images | stored (MiB) | classified |');
console.log('|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.n} | ${r.workers} | ${r.storage ? 'yes' : 'no'} | ${r.seconds} | ${r.images_per_s} | ${r.renderer_peak_mib} | ${r.page_js_heap_mib ?? 'n/a'} | ${r.dom_nodes} | ${r.list_images} | ${r.stored_mib} | ${r.classified} |`);
}
if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(rows, null, 2));
