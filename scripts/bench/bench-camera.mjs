// Counting with a camera (issue 52): how long a capture takes to put its cells on the list, and
// how many live frames a second the view boxes, in Chromium with its fake camera playing a
// 1280×720 video of three BCCD fields (scripts/data/make-camera-video.py).
//
//   node scripts/bench/bench-camera.mjs [--dist dist] [--runs 5] [--seconds 10] [--size 1280x720] [--json FILE]
//
// capture → cells: from the capture (a click on the capture button, on the page's clock) until the
// capture's field entry is done with its cells on the list (`[data-testid=field][data-state=done]`
// and its `[data-testid=cell]` rows), one capture at a time, the pool idle before each; with the
// worker's own figures for the same fields (`data-detect-ms`, `data-field-ms`). Live boxes: frames
// answered (`data-frames`) over --seconds with nothing being classified, then while a batch of
// the same captures is classified (it yields: none expected). Goals: ≤ 400 ms, ≥ 2 frames a second.
//
// Environment: BCCD_DATA (default ../shared/data/bccd), PYTHON (a python with Pillow), CHROMIUM.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { launchBrowser, startServer, findPython, BCCD_DATA, ROOT } from '../../tests/e2e/lib.mjs';
import { median } from './stats.mjs';

function usage(msg) {
  if (msg) console.error(msg);
  console.error('usage: node scripts/bench/bench-camera.mjs [--dist dist] [--runs 5] [--seconds 10] [--size 1280x720] [--json FILE]');
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      dist: { type: 'string', default: 'dist' },
      runs: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '10' },
      size: { type: 'string', default: '1280x720' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (e) {
  usage(e.message);
}
if (values.help) usage();
const o = { dist: values.dist, runs: Number(values.runs), seconds: Number(values.seconds), size: values.size, json: values.json ?? null };
if (!(o.runs >= 1) || !(o.seconds > 0) || !/^\d+x\d+$/.test(o.size)) usage('bad --runs, --seconds or --size');
if (!fs.existsSync(path.join(BCCD_DATA, 'JPEGImages'))) {
  console.error(`bench-camera: no BCCD data in ${BCCD_DATA}: nothing measured`);
  process.exit(3);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-bench-camera-'));
const video = path.join(dir, 'bccd.y4m');
const made = spawnSync(findPython(), [path.join(ROOT, 'scripts', 'data', 'make-camera-video.py'), video, '--data', BCCD_DATA, '--size', o.size, '--hold', '2', '--fps', '5'], { encoding: 'utf8' });
if (made.status !== 0) {
  console.error(made.stderr);
  process.exit(1);
}

const server = await startServer({ dist: path.resolve(ROOT, o.dist) });
const browser = await launchBrowser(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`]);
const out = { date: new Date().toISOString(), cores: os.cpus().length, size: o.size, runs: [], live: {} };
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(server.url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('[data-testid=model-status][data-state=ready]', { timeout: 180_000 });
  await page.click('[data-testid=camera]');
  await page.waitForSelector('[data-testid=camera-view][data-state=live]', { timeout: 60_000 });
  out.frame = await page.getAttribute('[data-testid=camera-view]', 'data-frame');

  // Live boxes with nothing classified.
  await page.waitForTimeout(2000);
  const frames = async () => Number(await page.getAttribute('[data-testid=camera-view]', 'data-frames'));
  let f0 = await frames();
  let t0 = Date.now();
  await page.waitForTimeout(o.seconds * 1000);
  out.live.idle_fps = ((await frames()) - f0) / ((Date.now() - t0) / 1000);

  // Capture → its cells on the list, one at a time.
  for (let k = 0; k < o.runs; k++) {
    const r = await page.evaluate(async () => {
      const known = new Set([...document.querySelectorAll('[data-testid=field], [data-testid=cell]')].map((e) => e.getAttribute('data-file')));
      const t0 = performance.now();
      document.querySelector('[data-testid=camera-capture]').click();
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        const f = [...document.querySelectorAll('[data-testid=field], [data-testid=cell]')]
          .find((e) => (e.getAttribute('data-file') || '').startsWith('capture-') && !known.has(e.getAttribute('data-file')));
        if (!f) continue;
        const name = f.getAttribute('data-file');
        const state = f.getAttribute('data-state');
        if (state === 'error') return { name, error: f.textContent };
        if (state !== 'done') continue;
        const n = [...document.querySelectorAll('[data-testid=cell]')].filter((e) => e.getAttribute('data-field') === name).length;
        if (f.getAttribute('data-testid') === 'field' && Number(f.getAttribute('data-cells')) !== n) continue;
        const lay = f.querySelector('[data-testid=field-layout]');
        return {
          name, ms: performance.now() - t0, cells: n,
          detect_ms: Number(lay?.getAttribute('data-detect-ms') ?? NaN), field_ms: Number(lay?.getAttribute('data-field-ms') ?? NaN),
        };
      }
    });
    out.runs.push(r);
    console.log(`capture ${k + 1}: ${r.error ? `error ${r.error}` : `${r.ms.toFixed(0)} ms to ${r.cells} cell(s) on the list (worker: detection ${r.detect_ms} ms, whole field ${r.field_ms} ms)`}`);
    await page.waitForTimeout(1200);
  }

  // Live boxes while a batch is classified: the captures given again as files.
  const yielding = [];
  f0 = await frames();
  t0 = Date.now();
  for (let k = 0; k < 3; k++) {
    await page.click('[data-testid=camera-capture]');
    await page.waitForTimeout(300);
    yielding.push(await page.getAttribute('[data-testid=camera-view]', 'data-yielding'));
  }
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=field]')].every((e) => e.getAttribute('data-state') === 'done'), null, { timeout: 120_000 });
  out.live.batch_fps = ((await frames()) - f0) / ((Date.now() - t0) / 1000);
  out.live.yielding_seen = yielding.includes('true');
} finally {
  await browser.close();
  await server.stop();
}
const ok = out.runs.filter((r) => !r.error);
out.median_capture_ms = median(ok.map((r) => r.ms));
out.median_field_ms = median(ok.map((r) => r.field_ms));
console.log(`\n${out.frame} frames, ${out.cores} cores: capture → cells on the list median ${out.median_capture_ms.toFixed(0)} ms over ${ok.length} captures (runs ${ok.map((r) => r.ms.toFixed(0)).join(', ')}; worker's whole field median ${out.median_field_ms.toFixed(0)} ms)`);
console.log(`live boxes: ${out.live.idle_fps.toFixed(2)} frames a second with nothing classified; ${out.live.batch_fps.toFixed(2)} while captures were classified (yielding seen: ${out.live.yielding_seen})`);
if (o.json) fs.writeFileSync(o.json, JSON.stringify(out, null, 2));
