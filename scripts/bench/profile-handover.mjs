// Where the main thread's time goes in the task in which a batch of files is handed to the page
// (issue 17, item 4): a V8 CPU profile of the page from just before `setInputFiles` to 1.5 s
// after it, summed by function (self time) over the longest busy stretch, beside every long
// task the PerformanceObserver reports in that time. Chromium's own share shows as `(program)`;
// `scripts/bench/bench.mjs` measures the same handover on a blank page (its floor).
//
//   node scripts/bench/profile-handover.mjs [--dist dist] [--n 500] [--workers 2] [--top 25] [--runs 1] [--whole-batch]
//
// --whole-batch profiles from the hand-over to the last result instead, and sums self time over
// every busy sample of the main thread: where the page's own time per image goes in a batch.
//
// The page's WebAssembly is named only in a dev build (`bash scripts/build.sh --dev`); in a
// release build its functions are `wasm-function[N]`, but the JavaScript it calls (wasm-bindgen's
// `__wbg_*` glue, hence the Web APIs) keeps its names in both.
import { startServer, launchBrowser, testImages } from '../../tests/e2e/lib.mjs';
import path from 'node:path';
import { readOptions } from '../lib/options.mjs';

const USAGE = 'usage: node scripts/bench/profile-handover.mjs [--dist DIR] [--n N] [--workers N] [--top N] [--runs N] [--whole-batch]';
const v = readOptions(process.argv.slice(2), {
  dist: { type: 'string', default: 'dist' }, n: { type: 'string', default: '500' }, workers: { type: 'string', default: '2' },
  top: { type: 'string', default: '25' }, runs: { type: 'string', default: '1' }, 'whole-batch': { type: 'boolean', default: false },
}, USAGE);
const o = { dist: v.dist, n: Number(v.n), workers: Number(v.workers), top: Number(v.top), runs: Number(v.runs), whole: v['whole-batch'] };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Self time per function within the longest stretch of samples that are not idle. */
function longestBusyStretch(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const idle = (n) => n.callFrame.functionName === '(idle)';
  let best = { ms: 0, from: 0, to: 0 };
  let start = null;
  let t = 0;
  let startT = 0;
  const times = [];
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] / 1000;
    times.push(t);
    const n = byId.get(profile.samples[i]);
    if (!idle(n)) {
      if (start === null) { start = i; startT = t; }
      if (t - startT > best.ms) best = { ms: t - startT, from: start, to: i };
    } else start = null;
  }
  return selfTimes(profile, byId, times, best.from + 1, best.to, best.ms);
}

/** Self time per function over every sample that is not idle. */
function wholeProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  let t = 0;
  const times = profile.timeDeltas.map((d) => (t += d / 1000));
  const r = selfTimes(profile, byId, times, 1, profile.samples.length - 1, 0);
  r.ms = r.self.reduce((a, [k, ms]) => a + (k.startsWith('(idle)') ? 0 : ms), 0);
  r.self = r.self.filter(([k]) => !k.startsWith('(idle)'));
  return r;
}

function selfTimes(profile, byId, times, from, to, ms) {
  const self = new Map();
  for (let i = from; i <= to; i++) {
    const n = byId.get(profile.samples[i]);
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'}  ${f.url ? path.basename(f.url) : ''}`;
    self.set(key, (self.get(key) || 0) + (times[i] - times[i - 1]));
  }
  return { ms, self: [...self.entries()].sort((a, b) => b[1] - a[1]) };
}

const files = testImages(null, o.n).map((t) => t.path);
const server = await startServer({ dist: path.resolve(o.dist) });
const browser = await launchBrowser();
try {
  for (let r = 0; r < o.runs; r++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}?workers=${o.workers}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-testid=model-status][data-state=ready]', { timeout: 300_000, state: 'attached' });
    await sleep(1000);
    await page.evaluate(() => {
      window.__lt = [];
      window.__t0 = performance.now();
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lt.push({ at: e.startTime - window.__t0, ms: e.duration }); }).observe({ type: 'longtask' });
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
    const t0 = Date.now();
    await page.setInputFiles('#file-input', files);
    if (o.whole) {
      await page.waitForFunction((n) => Number(document.querySelector('[data-testid=progress]')?.getAttribute('data-done')) >= n, o.n, { timeout: 1_800_000, polling: 100 });
    } else await sleep(1500);
    const wall = Date.now() - t0;
    const { profile } = await cdp.send('Profiler.stop');
    const lt = await page.evaluate(() => window.__lt);
    if (o.whole) {
      const all = wholeProfile(profile);
      console.log(`run ${r + 1}: ${o.n} images in ${wall} ms (${(wall / o.n).toFixed(1)} ms per image); the main thread busy ${all.ms.toFixed(0)} ms (${(all.ms / o.n).toFixed(2)} ms per image); long tasks ${lt.map((t) => `${Math.round(t.at)}: ${Math.round(t.ms)}`).join(', ') || 'none'}; self time by function:`);
      for (const [k, ms] of all.self.slice(0, o.top)) console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${(ms / o.n).toFixed(3).padStart(6)} ms/image  ${k}`);
      await context.close();
      continue;
    }
    const busy = longestBusyStretch(profile);
    console.log(`run ${r + 1}: long tasks (observer, ms after setInputFiles: duration) ${lt.map((t) => `${Math.round(t.at)}: ${Math.round(t.ms)}`).join(', ') || 'none'}; longest busy stretch in the profile ${busy.ms.toFixed(0)} ms; self time by function:`);
    for (const [k, ms] of busy.self.slice(0, o.top)) console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${k}`);
    await context.close();
  }
} finally {
  await browser.close();
  await server.stop();
}
