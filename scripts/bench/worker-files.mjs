// The worker alone, file after file (issue 53): a bare classification worker of a built site is
// given the model, then MLL test images one at a time as the page sends them (`classify`, the
// field-or-single decision included, or `--one-cell`), and the time from each message to its
// reply is printed: the median over the run and the medians of each block of 10 files, which
// show stretches where the worker is slower than elsewhere (docs/benchmarks.md).
//
//   node scripts/bench/worker-files.mjs [--dist dist] [--n 200] [--skip 0] [--one-cell] [--json FILE]
import fs from 'node:fs';
import { startServer, launchBrowser, testImages } from '../../tests/e2e/lib.mjs';
import { readOptions } from '../lib/options.mjs';
import { quantile } from './stats.mjs';

const USAGE = 'usage: node scripts/bench/worker-files.mjs [--dist DIR] [--n N] [--skip N] [--one-cell] [--json FILE]';
const v = readOptions(process.argv.slice(2), {
  dist: { type: 'string', default: 'dist' }, n: { type: 'string', default: '200' }, skip: { type: 'string', default: '0' },
  'one-cell': { type: 'boolean', default: false }, json: { type: 'string' },
}, USAGE);
const [n, skip, oneCell] = [Number(v.n), Number(v.skip), v['one-cell']];
const rows = testImages(null, n + skip).slice(skip);
const images = rows.map((r) => fs.readFileSync(r.path).toString('base64'));

const server = await startServer({ dist: v.dist });
const browser = await launchBrowser();
let out;
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(server.url + 'version.json');
  out = await page.evaluate(async ({ images, oneCell }) => {
    const manifest = await (await fetch('./model/manifest.json')).text();
    const model = await (await fetch('./model/' + JSON.parse(manifest).onnx_file)).arrayBuffer();
    const worker = new Worker('./worker_loader.js');
    let resolve;
    worker.onmessage = (e) => {
      if (['loaded', 'load_error', 'done', 'field', 'failed'].includes(e.data.kind)) resolve(e.data);
    };
    const reply = (message, transfer) => new Promise((r) => { resolve = r; worker.postMessage(message, transfer); });
    const loaded = await reply({ kind: 'load', manifest, model }, [model]);
    if (loaded.kind !== 'loaded') throw new Error(`the model did not load: ${JSON.stringify(loaded)}`);
    const times = [];
    for (let k = 0; k < images.length; k++) {
      const bytes = Uint8Array.from(atob(images[k]), (c) => c.charCodeAt(0)).buffer;
      const message = { kind: 'classify', id: k + 1, bytes };
      if (oneCell) message.one_cell = true;
      const t = performance.now();
      const r = await reply(message, [bytes]);
      times.push({ ms: performance.now() - t, kind: r.kind });
    }
    return times;
  }, { images, oneCell });
} finally {
  await browser.close();
  await server.stop();
}
const ms = out.map((o) => o.ms);
const kinds = {};
for (const o of out) kinds[o.kind] = (kinds[o.kind] || 0) + 1;
const blocks = [];
for (let i = 0; i < ms.length; i += 10) blocks.push(Math.round(quantile(ms.slice(i, i + 10), 0.5)));
console.log(`${v.dist}: ${ms.length} MLL test images from #${skip}, ${oneCell ? 'one_cell' : 'decided'}; replies ${JSON.stringify(kinds)}`);
console.log(`message → reply: median ${quantile(ms, 0.5).toFixed(1)} ms, p90 ${quantile(ms, 0.9).toFixed(1)} ms`);
console.log(`medians of each 10 files: ${blocks.join(' ')}`);
if (v.json) fs.writeFileSync(v.json, JSON.stringify({ dist: v.dist, skip, oneCell, ms }, null, 1));
