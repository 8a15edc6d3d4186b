#!/usr/bin/env node
// Marrowscope performance benchmarks: native tract, tract in wasm (the app's worker),
// onnxruntime-web on the same model, transfer sizes, batch throughput and main-thread
// responsiveness. See docs/benchmarks.md.
//
//   node scripts/bench/bench.mjs [--dist dist] [--n 200] [--warmup 20] [--batch 500]
//                          [--float PATH.onnx] [--json out.json] [--md out.md]
//                          [--no-native] [--no-browser] [--no-batch] [--no-sizes] [--no-peak]
//                          [--no-wasm] [--no-ort]
//                          [--phase-timeout 900] [--batch-timeout 1800] [--native-timeout 2400]
//
// Environment: MLL_DATA (dataset folder with splits.csv, default ../shared/data/mll-subset),
// CHROMIUM (default /usr/bin/chromium), PYTHON (python with the onnx package for scripts/bench/macs.py,
// default /tmp/venv/bin/python, then python3).
//
// Phases, in this order (CPU-sensitive ones first, the slow native build last):
//   machine description, model MACs (scripts/bench/macs.py)
//   browser: cold start (fresh context) → tract-wasm worker bench (same page) →
//            onnxruntime-web page (same browser, another context) + wasm arithmetic peak →
//            batch of --batch images through #file-input (new page, same context as the cold start)
//   transfer sizes (gzip -9, brotli q11 w24 via node:zlib)
//   native tract (`cargo run --release --example bench`)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { stats } from './stats.mjs';
import { readSplits } from '../../tests/e2e/lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');

// ---------------------------------------------------------------- arguments
function parseOptions(argv) {
  const string = (fallback) => ({ type: 'string', ...(fallback == null ? {} : { default: String(fallback) }) });
  const flag = { type: 'boolean', default: false };
  let v;
  try {
    ({ values: v } = parseArgs({
      args: argv,
      options: {
        dist: string('dist'), n: string(200), warmup: string(20), batch: string(500), float: string(), json: string(), md: string(),
        'classify-n': string(20), workers: string(), 'phase-timeout': string(900), 'batch-timeout': string(1800), 'native-timeout': string(2400),
        'no-native': flag, 'no-browser': flag, 'no-batch': flag, 'no-sizes': flag, 'no-peak': flag, 'no-wasm': flag, 'no-ort': flag,
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    usage(e.message);
  }
  if (v.help) usage(null);
  const num = (name) => {
    const x = Number(v[name]);
    if (!Number.isFinite(x) || x < 0) usage(`bad number for --${name}`);
    return x;
  };
  return {
    dist: path.resolve(ROOT, v.dist), n: num('n'), warmup: num('warmup'), batch: num('batch'), float: v.float ?? null, json: v.json ?? null, md: v.md ?? null,
    native: !v['no-native'], browser: !v['no-browser'], batchRun: !v['no-batch'], sizes: !v['no-sizes'], peak: !v['no-peak'], wasm: !v['no-wasm'], ort: !v['no-ort'],
    phaseTimeout: num('phase-timeout'), batchTimeout: num('batch-timeout'), nativeTimeout: num('native-timeout'), classifyN: num('classify-n'),
    workers: v.workers === undefined ? null : Math.max(1, num('workers')),
  };
}

function usage(err) {
  const text = 'usage: node scripts/bench/bench.mjs [--dist dist] [--n 200] [--warmup 20] [--batch 500] [--float MODEL.onnx] [--json out.json] [--md out.md] [--no-native] [--no-browser] [--no-batch] [--no-sizes] [--no-peak] [--no-wasm] [--no-ort] [--phase-timeout S] [--batch-timeout S] [--native-timeout S] [--workers N]';
  if (err) {
    console.error(`bench.mjs: ${err}\n${text}`);
    process.exit(2);
  }
  console.log(text);
  process.exit(0);
}

const opts = parseOptions(process.argv.slice(2));
const MLL_DATA = path.resolve(ROOT, process.env.MLL_DATA || '../shared/data/mll-subset');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-quic', '--no-first-run', '--disable-sync',
  '--enable-precise-memory-info', // performance.memory with real (not bucketed) values
];

// ---------------------------------------------------------------- helpers
const log = (...a) => console.error('[bench]', ...a);
const round = (x, d = 2) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
const fmtMs = (x) => (x == null ? 'n/a' : `${x >= 100 ? x.toFixed(0) : x.toFixed(2)} ms`);
const fmtBytes = (b) => (b == null ? 'n/a' : b >= 1048576 ? `${(b / 1048576).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise.finally(() => clearTimeout(t)),
    new Promise((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what} timed out after ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]);
}

function loadavg() {
  return os.loadavg().map((x) => round(x, 2));
}

// ---------------------------------------------------------------- machine + build
function machine() {
  let cpuinfo = '';
  try {
    cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch { /* not linux */ }
  const field = (k) => (new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo) || [])[1] || null;
  const flags = (field('flags') || '').split(/\s+/);
  const nproc = spawnSync('nproc', [], { encoding: 'utf8' }).stdout?.trim();
  return {
    cpuModel: field('model name') || os.cpus()[0]?.model || null,
    cpuMHz: field('cpu MHz') ? Number(field('cpu MHz')) : os.cpus()[0]?.speed || null,
    cpuFamilyModel: `${field('cpu family')}/${field('model')}`,
    logicalCpus: os.cpus().length,
    nproc: nproc ? Number(nproc) : null,
    simdFlags: ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni'].filter((f) => flags.includes(f)),
    hypervisor: flags.includes('hypervisor'),
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadavgAtStart: loadavg(),
  };
}

/** Custom sections of a wasm binary: [{name, size}]. */
function wasmCustomSections(file) {
  const b = fs.readFileSync(file);
  const out = [];
  let p = 8;
  const leb = () => {
    let r = 0;
    let s = 0;
    for (;;) {
      const x = b[p++];
      r += (x & 0x7f) * 2 ** s;
      s += 7;
      if (!(x & 0x80)) return r;
    }
  };
  while (p < b.length) {
    const id = b[p++];
    const size = leb();
    const end = p + size;
    if (id === 0) {
      const n = leb();
      out.push({ name: b.subarray(p, p + n).toString('utf8'), size });
    }
    p = end;
  }
  return out;
}

function buildInfo(dist) {
  const info = { files: {} };
  for (const f of ['marrowscope_bg.wasm', 'worker_bg.wasm']) {
    const file = path.join(dist, f);
    if (!fs.existsSync(file)) continue;
    const secs = wasmCustomSections(file);
    const debug = secs.filter((s) => s.name.startsWith('.debug'));
    info.files[f] = {
      bytes: fs.statSync(file).size,
      mtime: fs.statSync(file).mtime.toISOString(),
      customSections: secs.map((s) => `${s.name}:${s.size}`),
      hasDebugInfo: debug.length > 0,
      hasNameSection: secs.some((s) => s.name === 'name'),
    };
  }
  // Which cargo profile was built most recently for wasm (trunk builds into target/wasm32-unknown-unknown/<profile>)
  const prof = {};
  const targets = [path.join(ROOT, 'target')];
  if (process.env.CARGO_TARGET_DIR) targets.unshift(path.resolve(ROOT, process.env.CARGO_TARGET_DIR));
  try {
    const m = /CARGO_TARGET_DIR:-([^}]+)\}/.exec(fs.readFileSync(path.join(ROOT, '.tools', 'env'), 'utf8'));
    if (m) targets.push(m[1]);
  } catch { /* no .tools/env */ }
  for (const t of targets) {
    for (const p of ['release', 'wasm-dev', 'debug']) {
      const f = path.join(t, 'wasm32-unknown-unknown', p, 'worker.wasm');
      if (fs.existsSync(f) && !prof[p]) prof[p] = fs.statSync(f).mtime.toISOString();
    }
  }
  info.targetProfiles = prof;
  const any = Object.values(info.files);
  const dev = any.some((f) => f.hasDebugInfo || f.hasNameSection);
  const latest = Object.entries(prof).sort((a, b) => (a[1] < b[1] ? 1 : -1))[0]?.[0] ?? null;
  info.guess = any.length === 0
    ? 'unknown'
    : dev
      ? 'dev (name section / debug info present, so no wasm-opt: NOT trunk build --release; the app code is unoptimised, expect slower wasm)'
      : 'release (no name section or debug info: trunk build --release; the page through wasm-opt -Os, the worker not through wasm-opt)';
  info.latestCargoProfile = latest;
  return info;
}

// ---------------------------------------------------------------- model MACs
function findPython() {
  const c = [process.env.PYTHON, '/tmp/venv/bin/python', path.join(ROOT, '.tools', 'py', 'bin', 'python'), path.join(ROOT, '.venv', 'bin', 'python'), 'python3'].filter(Boolean);
  for (const py of c) {
    if (py.includes('/') && !fs.existsSync(py)) continue;
    if (spawnSync(py, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

function macsOf(model) {
  const py = findPython();
  if (!py) return { error: 'no python with the onnx package (set PYTHON)' };
  const r = spawnSync(py, [path.join(ROOT, 'scripts', 'bench', 'macs.py'), model], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'failed').trim().split('\n').slice(-3).join(' ') };
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch (e) {
    return { error: `could not parse macs.py output: ${e.message}` };
  }
}

// ---------------------------------------------------------------- wasm peak kernels
async function peakKernels() {
  const { default: binaryen } = await import(path.join(ROOT, 'node_modules', 'binaryen', 'index.js'));
  const C = 12; // independent accumulator chains (hides mul/add latency)
  const locals = Array.from({ length: C }, (_, i) => `(local $a${i} v128)`).join(' ');
  const slocals = Array.from({ length: C }, (_, i) => `(local $a${i} f32)`).join(' ');
  const body = (f) => Array.from({ length: C }, (_, i) => f(`$a${i}`)).join('\n');
  const sumV = `(f32x4.extract_lane 0 ${Array.from({ length: C }, (_, i) => `(local.get $a${i})`).reduce((a, b) => `(f32x4.add ${a} ${b})`)})`;
  const sumI = `(f32.convert_i32_s (i32x4.extract_lane 0 ${Array.from({ length: C }, (_, i) => `(local.get $a${i})`).reduce((a, b) => `(i32x4.add ${a} ${b})`)}))`;
  const sumS = Array.from({ length: C }, (_, i) => `(local.get $a${i})`).reduce((a, b) => `(f32.add ${a} ${b})`);
  const mod = (locs, init, step, sum) => `(module (func (export "run") (param $n i32) (result f32) ${locs} (local $m v128) (local $k v128) (local $ms f32) (local $ks f32)
    (local.set $m (f32x4.splat (f32.const 0.5))) (local.set $k (f32x4.splat (f32.const 0.5)))
    (local.set $ms (f32.const 0.5)) (local.set $ks (f32.const 0.5))
    ${init}
    (loop $l
      ${step}
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    ${sum}))`;
  const defs = [
    { name: 'f32x4 mul+add (wasm SIMD128, no FMA)', macsPerIter: 4 * C, wat: mod(locals, '', body((a) => `(local.set ${a} (f32x4.add (f32x4.mul (local.get ${a}) (local.get $m)) (local.get $k)))`), sumV) },
    { name: 'f32x4.relaxed_madd (relaxed SIMD, FMA)', macsPerIter: 4 * C, wat: mod(locals, '', body((a) => `(local.set ${a} (f32x4.relaxed_madd (local.get ${a}) (local.get $m) (local.get $k)))`), sumV) },
    { name: 'i32x4.dot_i16x8_s (int16 pairs, pmaddwd)', macsPerIter: 8 * C, wat: mod(locals, body((a) => `(local.set ${a} (i32x4.splat (i32.const 65537)))`), body((a) => `(local.set ${a} (i32x4.add (local.get ${a}) (i32x4.dot_i16x8_s (local.get ${a}) (local.get $m))))`), sumI) },
    { name: 'scalar f32 mul+add', macsPerIter: C, wat: mod(slocals, '', body((a) => `(local.set ${a} (f32.add (f32.mul (local.get ${a}) (local.get $ms)) (local.get $ks)))`), sumS) },
  ];
  const out = [];
  for (const d of defs) {
    try {
      const m = binaryen.parseText(d.wat);
      m.setFeatures(binaryen.Features.All);
      if (!m.validate()) throw new Error('invalid module');
      out.push({ name: d.name, macsPerIter: d.macsPerIter, bytes: Array.from(m.emitBinary()) });
      m.dispose();
    } catch (e) {
      log(`peak kernel "${d.name}" skipped: ${e.message}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- server
async function startServer(dir, extra = []) {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'serve.mjs'), '--dir', dir, '--port', '0', '--host', '127.0.0.1', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`serve.mjs did not start: ${stderr}`)), 15_000);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve.mjs exited with ${code}: ${stderr}`)); });
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /Serving .* at (http:\/\/\S+)/.exec(buf);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

// ---------------------------------------------------------------- browser phases
/** Fresh context, navigate, set one image on #file-input as soon as it exists, time to done. */
async function coldStart(browser, url, image, timeoutMs) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const responses = [];
  page.on('response', (r) => responses.push(r));
  await page.addInitScript(() => {
    const marks = {};
    window.__cold = marks;
    const mark = (k) => { if (!(k in marks)) marks[k] = performance.now(); };
    const check = () => {
      if (document.querySelector('#file-input')) mark('fileInput');
      if (document.querySelector('[data-testid=model-status][data-state=ready]')) mark('modelReady');
      if (document.querySelector('[data-testid=cell]')) mark('cellAdded');
      if (document.querySelector('[data-testid=cell][data-state=running]')) mark('cellRunning');
      if (document.querySelector('[data-testid=cell][data-state=done]')) mark('cellDone');
      if (document.querySelector('[data-testid=cell][data-state=error]')) mark('cellError');
    };
    new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  });
  const wall0 = Date.now();
  await page.goto(url, { waitUntil: 'commit', timeout: 60_000 });
  await page.setInputFiles('#file-input', image, { timeout: timeoutMs });
  const wallSet = Date.now();
  await page.waitForFunction(() => window.__cold && ('cellDone' in window.__cold || 'cellError' in window.__cold), null, { timeout: timeoutMs, polling: 50 });
  const wallDone = Date.now();
  const marks = await page.evaluate(() => window.__cold);
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource').map((r) => ({ name: r.name.split('/').slice(3).join('/'), dur: r.duration, start: r.startTime, end: r.responseEnd, bytes: r.encodedBodySize }));
    return { domContentLoaded: n?.domContentLoadedEventEnd, load: n?.loadEventEnd, res };
  });
  let bytesFetched = 0;
  for (const r of responses) {
    try {
      const s = await r.request().sizes();
      bytesFetched += s.responseBodySize;
    } catch { /* ignore */ }
  }
  const cell = await page.$eval('[data-testid=cell]', (el) => ({ state: el.getAttribute('data-state'), predicted: el.getAttribute('data-predicted'), prob: el.getAttribute('data-prob') })).catch(() => null);
  return {
    context, page,
    result: {
      navToDoneMs: marks.cellDone ?? null,
      navToErrorMs: marks.cellError ?? null,
      navToFileInputMs: marks.fileInput ?? null,
      navToModelReadyMs: marks.modelReady ?? null,
      navToCellRunningMs: marks.cellRunning ?? null,
      wallGotoToDoneMs: wallDone - wall0,
      wallFilesSetMs: wallSet - wall0,
      domContentLoadedMs: nav.domContentLoaded,
      resources: nav.res.filter((r) => /\.(wasm|js|onnx|json)$/.test(r.name) && r.dur >= 0).map((r) => ({ ...r, dur: round(r.dur, 1), start: round(r.start, 1), end: round(r.end, 1) })),
      pageResponseBodyBytes: bytesFetched,
      cell,
      pageErrors,
    },
  };
}

/**
 * In the app page (same origin, so the CSP allows it): a fresh worker from ./worker_loader.js, the
 * shipped model, "bench" messages. `simd`: '' = the loader's choice (what the app runs),
 * 'baseline' = the SIMD128 build (scripts/build/worker-variants.mjs).
 */
async function tractWasmBench(page, imageB64, { n, warmup, classifyN, budgetMs, simd = '' }) {
  return page.evaluate(async ({ imageB64, n, warmup, classifyN, budgetMs, simd }) => {
    const bin = atob(imageB64);
    const img = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) img[i] = bin.charCodeAt(i);
    const toObj = (d) => (d instanceof Map ? Object.fromEntries(d) : d);
    const t0 = performance.now();
    const worker = new Worker(simd ? `./worker_loader.js?simd=${simd}` : './worker_loader.js');
    const inbox = [];
    let waiter = null;
    worker.onmessage = (e) => {
      inbox.push(toObj(e.data));
      if (waiter) waiter();
    };
    let crashed = null;
    worker.onerror = (e) => { crashed = e.message || 'worker error'; if (waiter) waiter(); };
    const next = async (kinds, ms) => {
      const deadline = performance.now() + ms;
      for (;;) {
        const i = inbox.findIndex((m) => kinds.includes(m.kind));
        if (i >= 0) return inbox.splice(i, 1)[0];
        const bad = inbox.find((m) => ['crashed', 'load_error', 'failed'].includes(m.kind));
        if (bad) throw new Error(`worker: ${bad.kind}: ${bad.message}`);
        if (crashed) throw new Error(`worker: ${crashed}`);
        if (performance.now() > deadline) throw new Error(`worker: no ${kinds} within ${ms} ms`);
        await new Promise((r) => { waiter = r; setTimeout(r, 200); });
        waiter = null;
      }
    };
    try {
      await next(['alive'], 120_000);
      const tAlive = performance.now() - t0;
      const manifestText = await (await fetch('model/manifest.json')).text();
      const manifest = JSON.parse(manifestText);
      const model = await (await fetch(`model/${manifest.onnx_file}`)).arrayBuffer();
      const modelBytes = model.byteLength;
      const t1 = performance.now();
      worker.postMessage({ kind: 'load', manifest: manifestText, model }, [model]);
      const loaded = await next(['loaded'], 300_000);
      const loadWallMs = performance.now() - t1;
      let id = 0;
      const bench = async (count) => {
        worker.postMessage({ kind: 'bench', id: ++id, bytes: img.buffer.slice(0), n: count });
        return next(['bench'], budgetMs + 300_000);
      };
      // warm-up
      let preprocessMs = null;
      if (warmup > 0) preprocessMs = (await bench(warmup)).preprocess_ms;
      const times = [];
      const start = performance.now();
      while (times.length < n) {
        const r = await bench(Math.min(20, n - times.length));
        if (preprocessMs == null) preprocessMs = r.preprocess_ms;
        times.push(...r.inference_ms);
        if (performance.now() - start > budgetMs) break;
      }
      // full pipeline (decode + preprocess + inference + class activation maps), as the app does it
      const classifyMs = [];
      for (let i = 0; i < classifyN; i++) {
        worker.postMessage({ kind: 'classify', id: ++id, bytes: img.buffer.slice(0) });
        const r = await next(['done'], 120_000);
        classifyMs.push((r.result instanceof Map ? Object.fromEntries(r.result) : r.result).ms);
        if (performance.now() - start > budgetMs * 1.2) break;
      }
      return { simd: loaded.simd ?? null, spawnToAliveMs: tAlive, loadMs: loaded.load_ms, loadWallMs, modelId: loaded.model_id, modelBytes, preprocessMs, inferenceMs: times, classifyMs, input: manifest.input };
    } finally {
      worker.terminate();
    }
  }, { imageB64, n, warmup, classifyN, budgetMs, simd });
}

function prepareOrtDir(dist, floatModel, image) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-ort-'));
  const ortDist = path.join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
  for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) {
    fs.copyFileSync(path.join(ortDist, f), path.join(dir, f));
  }
  fs.copyFileSync(path.join(ROOT, 'scripts', 'bench', 'ort.html'), path.join(dir, 'index.html'));
  fs.copyFileSync(path.join(ROOT, 'scripts', 'bench', 'ort-bench.mjs'), path.join(dir, 'ort-bench.mjs'));
  fs.copyFileSync(path.join(ROOT, 'scripts', 'bench', 'stats.mjs'), path.join(dir, 'stats.mjs'));
  const manifest = JSON.parse(fs.readFileSync(path.join(dist, 'model', 'manifest.json'), 'utf8'));
  fs.copyFileSync(path.join(dist, 'model', 'manifest.json'), path.join(dir, 'manifest.json'));
  fs.copyFileSync(path.join(dist, 'model', manifest.onnx_file), path.join(dir, 'model-shipped.onnx'));
  const models = [{ name: `shipped (${manifest.onnx_file})`, url: 'model-shipped.onnx' }];
  if (floatModel) {
    fs.copyFileSync(floatModel, path.join(dir, 'model-float.onnx'));
    models.push({ name: `float (${path.relative(ROOT, floatModel)})`, url: 'model-float.onnx' });
  }
  fs.copyFileSync(image, path.join(dir, 'image' + path.extname(image)));
  let ortVersion = null;
  try {
    ortVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'onnxruntime-web', 'package.json'), 'utf8')).version;
  } catch { /* ignore */ }
  return { dir, models, imageUrl: 'image' + path.extname(image), ortVersion };
}

async function ortBench(browser, ortDir, { n, warmup, budgetMs, kernels }) {
  const server = await startServer(ortDir.dir);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(server.url, { waitUntil: 'load' });
    await page.waitForFunction(() => window.__benchReady === true, null, { timeout: 30_000 });
    const res = await page.evaluate((o) => window.ortBench(o), { models: ortDir.models, manifestUrl: 'manifest.json', imageUrl: ortDir.imageUrl, warmup, n, budgetMs });
    res.errors = errors;
    if (kernels?.length) res.peak = await page.evaluate((k) => window.wasmPeak(k), kernels);
    return res;
  } finally {
    await context.close().catch(() => {});
    await server.stop();
  }
}

/**
 * The browser's own cost of handing `files` to a page: a blank page whose <input type=file>
 * change handler only reads each file's name. Chromium materialises the File objects in that
 * task, so this is the floor under the app's first long task of a batch.
 */
async function fileInputBaseline(context, files) {
  const page = await context.newPage();
  try {
    await page.setContent('<input type=file multiple id=f onchange="let n = 0; for (const f of this.files) n += f.name.length; window.__n = n">');
    await page.evaluate(() => {
      window.__lt = [];
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lt.push(e.duration); }).observe({ type: 'longtask' });
    });
    await page.setInputFiles('#f', files);
    await sleep(1000);
    const lt = await page.evaluate(() => window.__lt);
    return lt.length ? Math.max(...lt) : 0;
  } finally {
    await page.close().catch(() => {});
  }
}

async function batchRun(context, url, files, timeoutMs) {
  const baselineMs = await fileInputBaseline(context, files).catch(() => null);
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  try {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.waitForSelector('[data-testid=model-status][data-state=ready]', { timeout: 300_000, state: 'attached' });
    await sleep(1000);
    const before = await page.evaluate(() => {
      const b = { longTasks: [], supported: true };
      window.__batch = b;
      try {
        b.observer = new PerformanceObserver((list) => {
          for (const e of list.getEntries()) b.longTasks.push({ start: e.startTime, ms: e.duration });
        });
        b.observer.observe({ type: 'longtask', buffered: true });
      } catch {
        b.supported = false;
      }
      b.heapBefore = performance.memory ? performance.memory.usedJSHeapSize : null;
      b.t0 = performance.now();
      const workers = Number(document.querySelector('[data-testid=worker-count]')?.getAttribute('data-workers')) || null;
      return { t0: b.t0, heapBefore: b.heapBefore, controlled: !!navigator.serviceWorker?.controller, workers };
    });
    await page.setInputFiles('#file-input', files);
    let timedOut = false;
    try {
      await page.waitForFunction((n) => {
        const p = document.querySelector('[data-testid=progress]');
        const d = Number(p?.getAttribute('data-done'));
        if (p && d >= n && Number(p.getAttribute('data-total')) >= n) {
          if (!window.__batch.t1) window.__batch.t1 = performance.now();
          return true;
        }
        return false;
      }, files.length, { timeout: timeoutMs, polling: 100 });
    } catch (e) {
      if (!/Timeout|timed out/i.test(String(e))) throw e;
      timedOut = true;
    }
    await sleep(300); // let the observer deliver the last entries
    const after = await page.evaluate(() => {
      const b = window.__batch;
      const t1 = b.t1 ?? performance.now();
      b.observer?.disconnect();
      const p = document.querySelector('[data-testid=progress]');
      const states = {};
      for (const c of document.querySelectorAll('[data-testid=cell]')) {
        const s = c.getAttribute('data-state');
        states[s] = (states[s] || 0) + 1;
      }
      return {
        t1,
        done: Number(p?.getAttribute('data-done') || 0),
        total: Number(p?.getAttribute('data-total') || 0),
        states,
        longTasksSupported: b.supported,
        longTasksAll: b.longTasks,
        heapAfter: performance.memory ? performance.memory.usedJSHeapSize : null,
        heapLimit: performance.memory ? performance.memory.jsHeapSizeLimit : null,
      };
    });
    const duringBatch = after.longTasksAll.filter((t) => t.start >= before.t0);
    const totalMs = after.t1 - before.t0;
    return {
      images: files.length,
      finished: after.done,
      states: after.states,
      timedOut,
      totalMs,
      imagesPerSecond: after.done / (totalMs / 1000),
      longTasksSupported: after.longTasksSupported,
      longTasksDuringBatch: duringBatch.length,
      longestTaskMs: duringBatch.length ? Math.max(...duringBatch.map((t) => t.ms)) : 0,
      fileInputBaselineMs: baselineMs,
      // Every long task except the first (the one that hands the files to the page).
      longestLaterTaskMs: duringBatch.length > 1 ? Math.max(...duringBatch.slice(1).map((t) => t.ms)) : 0,
      longTasksOver100ms: duringBatch.filter((t) => t.ms > 100).length,
      longTasksBeforeBatch: after.longTasksAll.length - duringBatch.length,
      longTasks: duringBatch.map((t) => ({ atMsIntoBatch: round(t.start - before.t0, 0), ms: round(t.ms, 0) })),
      heapBefore: before.heapBefore,
      heapAfter: after.heapAfter,
      swControlled: before.controlled,
      workers: before.workers,
      pageErrors,
    };
  } finally {
    await page.close().catch(() => {});
  }
}

// ---------------------------------------------------------------- sizes
async function sizes(dist) {
  const gzip = promisify(zlib.gzip);
  const brotli = promisify(zlib.brotliCompress);
  const manifest = JSON.parse(fs.readFileSync(path.join(dist, 'model', 'manifest.json'), 'utf8'));
  const root = fs.readdirSync(dist).filter((f) => /\.(wasm|js|css|html)$/.test(f));
  const files = [...root, 'model/manifest.json', `model/${manifest.onnx_file}`];
  const out = [];
  for (const f of files) {
    const buf = fs.readFileSync(path.join(dist, f));
    const gz = await gzip(buf, { level: 9 });
    const br = await brotli(buf, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
        [zlib.constants.BROTLI_PARAM_LGWIN]: zlib.constants.BROTLI_MAX_WINDOW_BITS,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
        [zlib.constants.BROTLI_PARAM_MODE]: /\.(js|html|css|json)$/.test(f) ? zlib.constants.BROTLI_MODE_TEXT : zlib.constants.BROTLI_MODE_GENERIC,
      },
    });
    out.push({ file: f, raw: buf.length, gzip: gz.length, brotli: br.length });
  }
  // The worker build a browser with relaxed SIMD loads (scripts/build/worker-variants.mjs); the other
  // build is not fetched (the service worker precaches only the one the loader picks).
  const relaxed = fs.existsSync(path.join(dist, 'worker_relaxed_bg.wasm'));
  const workerFiles = relaxed ? ['worker_relaxed_bg.wasm', 'worker_relaxed.js'] : ['worker_bg.wasm', 'worker.js'];
  const firstLoadNames = ['marrowscope_bg.wasm', 'marrowscope.js', ...workerFiles, 'worker_loader.js', `model/${manifest.onnx_file}`];
  const pick = out.filter((r) => firstLoadNames.includes(r.file));
  const sum = (rows, k) => rows.reduce((a, r) => a + r[k], 0);
  const firstLoad = { files: pick.map((r) => r.file), raw: sum(pick, 'raw'), gzip: sum(pick, 'gzip'), brotli: sum(pick, 'brotli') };
  const everything = { files: out.map((r) => r.file), raw: sum(out, 'raw'), gzip: sum(out, 'gzip'), brotli: sum(out, 'brotli') };
  return { files: out, firstLoad, allAppFiles: everything, missing: firstLoadNames.filter((f) => !pick.some((r) => r.file === f)) };
}

// ---------------------------------------------------------------- native
function nativeBench(dist, n, timeoutS) {
  const envFile = path.join(ROOT, '.tools', 'env');
  const modelDir = path.join(dist, 'model');
  const cmd = `${fs.existsSync(envFile) ? '. .tools/env && ' : ''}cargo run --release --example bench -- --n ${n} --model ${JSON.stringify(modelDir)}`;
  log(`native: bash -c '${cmd}' (timeout ${timeoutS} s)`);
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', cmd], { cwd: ROOT, env: { ...process.env, MLL_DATA }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const t0 = Date.now();
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    }, timeoutS * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const res = { command: cmd, exitCode: code, signal, wallS: round((Date.now() - t0) / 1000, 1), stdout: stdout.trim() };
      const inf = /native tract inference over (\d+) images: p50 ([\d.]+) ms, p95 ([\d.]+) ms/.exec(stdout);
      const load = /load\+optimise ([\d.]+) ms/.exec(stdout);
      const pre = /decode \+ preprocess: p50 ([\d.]+) ms, p95 ([\d.]+) ms/.exec(stdout);
      if (inf) res.inference = { n: Number(inf[1]), p50: Number(inf[2]), p95: Number(inf[3]) };
      if (load) res.loadMs = Number(load[1]);
      if (pre) res.preprocess = { p50: Number(pre[1]), p95: Number(pre[2]) };
      if (!inf) res.error = signal ? `killed (${signal}) after ${res.wallS} s` : `exit ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`;
      resolve(res);
    });
  });
}

// ---------------------------------------------------------------- report
function goals(R) {
  const g = [];
  const ratioOrt = R.ratios?.tractWasmOverOrtInt8;
  g.push({ goal: 'tract-wasm p50 ≤ 0.7 × onnxruntime-web p50 (same int8 model)', target: 0.7, value: ratioOrt, unit: '×', met: ratioOrt == null ? null : ratioOrt <= 0.7 });
  const ratioNative = R.ratios?.tractWasmOverNative;
  g.push({ goal: 'tract-wasm p50 within 1.5 × native tract p50', target: 1.5, value: ratioNative, unit: '×', met: ratioNative == null ? null : ratioNative <= 1.5 });
  const fl = R.sizes?.firstLoad?.brotli;
  g.push({ goal: 'first-load transfer, brotli (main+worker wasm/js, loader, model) ≤ 4 MB (4,000,000 B)', target: 4e6, value: fl ?? null, unit: 'B', met: fl == null ? null : fl <= 4e6 });
  const lt = R.batch?.longTasksSupported ? R.batch.longestTaskMs : null;
  g.push({ goal: `no main-thread task > 50 ms during a batch of ${R.batch?.images ?? opts.batch}`, target: 50, value: lt, unit: 'ms', met: lt == null ? null : lt <= 50 });
  const later = R.batch?.longTasksSupported ? R.batch.longestLaterTaskMs : null;
  if (later != null) g.push({ goal: `same, after the first task (the browser hands over the files in that one: floor ${R.batch.fileInputBaselineMs?.toFixed(0) ?? '?'} ms on a blank page)`, target: 50, value: later, unit: 'ms', met: later <= 50 });
  for (const x of g) {
    if (x.value == null) x.margin = 'not measured';
    else if (x.unit === 'B') x.margin = x.met ? `${fmtBytes(x.target - x.value)} under` : `${fmtBytes(x.value - x.target)} over (${(x.value / x.target).toFixed(2)}× the budget)`;
    else if (x.unit === 'ms') x.margin = x.met ? (x.value === 0 ? 'no long task at all' : `${(x.target - x.value).toFixed(0)} ms under`) : `${(x.value - x.target).toFixed(0)} ms over (${(x.value / x.target).toFixed(1)}×)`;
    else x.margin = x.met ? `${((1 - x.value / x.target) * 100).toFixed(0)} % under the limit` : `${((x.value / x.target - 1) * 100).toFixed(0)} % over the limit`;
  }
  return g;
}

function markdown(R) {
  const L = [];
  const m = R.machine;
  L.push(`Run: ${R.date}  `);
  L.push(`Machine: ${m.cpuModel}, ${m.logicalCpus} logical CPUs (${m.cpuMHz} MHz, flags ${m.simdFlags.join(' ')}${m.hypervisor ? ', virtual machine' : ''}), ${m.memGiB} GiB; ${m.kernel}; node ${m.node}; Chromium ${R.chromium ?? 'n/a'}; onnxruntime-web ${R.ort?.ortVersion ?? R.ortPackageVersion ?? 'n/a'}  `);
  L.push(`Load average at start ${m.loadavgAtStart.join(' / ')}, at end ${R.loadavgAtEnd?.join(' / ')} (1/5/15 min)  `);
  L.push(`Build in ${path.relative(ROOT, R.dist) || '.'}: ${R.build.guess}; newest wasm cargo profile in target/: ${R.build.latestCargoProfile ?? 'n/a'}  `);
  if (R.macs) L.push(`Model: ${R.modelId ?? ''} input ${R.input ? `${R.input.width}×${R.input.height}` : '?'}; ${R.macs.gmacs ?? '?'} GMAC per image (${R.macs.params?.toLocaleString?.('en') ?? '?'} parameters)`);
  L.push('');
  L.push('| Measurement | p50 | p95 | other (min is the least load-sensitive figure on a shared machine) |');
  L.push('|---|---|---|---|');
  const row = (a, b, c, d) => L.push(`| ${a} | ${b} | ${c} | ${d} |`);
  if (R.native?.inference) row('native tract, inference (release)', fmtMs(R.native.inference.p50), fmtMs(R.native.inference.p95), `n=${R.native.inference.n}; load+optimise ${fmtMs(R.native.loadMs)}; decode+preprocess p50 ${fmtMs(R.native.preprocess?.p50)}`);
  else row('native tract', 'n/a', 'n/a', R.native?.error ?? 'skipped (--no-native)');
  const tw = R.tractWasm;
  if (tw?.inference) {
    row(`tract in wasm (app worker${tw.simd ? `, ${tw.simd} build` : ''}), inference`, fmtMs(tw.inference.p50), fmtMs(tw.inference.p95), `min ${fmtMs(tw.inference.min)}; n=${tw.inference.n} after ${opts.warmup} warm-up; worker start→alive ${fmtMs(tw.spawnToAliveMs)}; model load_ms ${fmtMs(tw.loadMs)} (wall ${fmtMs(tw.loadWallMs)}); decode+preprocess ${fmtMs(tw.preprocessMs)}`);
    if (tw.classify?.n) row('tract in wasm, full classify message (decode+preprocess+inference+CAMs)', fmtMs(tw.classify.p50), fmtMs(tw.classify.p95), `n=${tw.classify.n}`);
  } else row('tract in wasm', 'n/a', 'n/a', tw?.error ?? 'not run');
  for (const [key, label] of [['tractWasmBaseline', 'tract in wasm, SIMD128 build (?simd=baseline), inference'], ['tractWasmAgain', 'tract in wasm, the app\'s build again (after the SIMD128 run), inference']]) {
    const x = R[key];
    if (x?.inference) row(label, fmtMs(x.inference.p50), fmtMs(x.inference.p95), `min ${fmtMs(x.inference.min)}; n=${x.inference.n}; worker build: ${x.simd}`);
    else if (x?.error) row(label, 'n/a', 'n/a', x.error);
  }
  for (const mm of R.ort?.models ?? []) row(`onnxruntime-web ${R.ort.ortVersion ?? ''} wasm SIMD 1 thread, ${mm.name}`, fmtMs(mm.latency.p50), fmtMs(mm.latency.p95), `min ${fmtMs(mm.latency.min)}; n=${mm.latency.n}; session creation ${fmtMs(mm.createMs)}; first run ${fmtMs(mm.firstRunMs)}; top class ${mm.top?.class ?? '?'}`);
  if (R.ort?.runtimeInitPlusCreateMs != null) row('onnxruntime-web runtime init + first session (shipped model)', '', '', fmtMs(R.ort.runtimeInitPlusCreateMs));
  if (R.ort?.error) row('onnxruntime-web', 'n/a', 'n/a', R.ort.error);
  if (R.cold) row('cold start: navigation → first image done (fresh context, image set on #file-input immediately)', '', '', `${fmtMs(R.cold.navToDoneMs ?? R.cold.navToErrorMs)} (page clock); #file-input at ${fmtMs(R.cold.navToFileInputMs)}, model ready at ${fmtMs(R.cold.navToModelReadyMs)}; wall ${fmtMs(R.cold.wallGotoToDoneMs)}`);
  L.push('');
  if (R.ratios) {
    L.push(`Ratios (p50): tract-wasm / onnxruntime-web (shipped int8 model) = ${R.ratios.tractWasmOverOrtInt8?.toFixed(2) ?? 'n/a'}; tract-wasm / native tract = ${R.ratios.tractWasmOverNative?.toFixed(2) ?? 'n/a'}${R.ratios.tractWasmOverOrtFloat != null ? `; tract-wasm (int8) / onnxruntime-web (float) = ${R.ratios.tractWasmOverOrtFloat.toFixed(2)}` : ''}`);
    L.push('');
  }
  if (R.arith?.rows?.length) {
    L.push('Arithmetic (per image, one core):');
    L.push('');
    L.push('| Engine | p50 | effective GMAC/s | share of measured f32x4 mul+add peak |');
    L.push('|---|---|---|---|');
    for (const a of R.arith.rows) L.push(`| ${a.engine} | ${fmtMs(a.p50)} | ${a.gmacs?.toFixed(2) ?? 'n/a'} | ${a.ofPeak != null ? `${(a.ofPeak * 100).toFixed(0)} %` : 'n/a'} |`);
    L.push('');
    if (R.ort?.peak) {
      L.push('Measured wasm peaks in Chromium (one thread, 12 independent accumulator chains, best of 3):');
      L.push('');
      for (const p of R.ort.peak) L.push(`- ${p.name}: ${p.error ? `unavailable (${p.error.split('\n')[0]})` : `${p.gmacs.toFixed(2)} GMAC/s`}`);
      L.push('');
    }
  }
  if (R.sizes) {
    L.push('| File | raw | gzip -9 | brotli q11 |');
    L.push('|---|---|---|---|');
    for (const f of R.sizes.files) L.push(`| ${f.file} | ${fmtBytes(f.raw)} | ${fmtBytes(f.gzip)} | ${fmtBytes(f.brotli)} |`);
    const fl = R.sizes.firstLoad;
    L.push(`| **first load** (${fl.files.join(', ')}) | **${fmtBytes(fl.raw)}** | **${fmtBytes(fl.gzip)}** | **${fmtBytes(fl.brotli)}** (${fl.brotli.toLocaleString('en')} B) |`);
    const al = R.sizes.allAppFiles;
    L.push(`| all of the above | ${fmtBytes(al.raw)} | ${fmtBytes(al.gzip)} | ${fmtBytes(al.brotli)} |`);
    L.push('');
  }
  if (R.batch) {
    const b = R.batch;
    L.push(`Batch of ${b.images} test images via #file-input (app page, model already loaded${b.swControlled ? ', page controlled by the service worker' : ''}, ${b.workers ?? 'the default number of'} worker(s)): ${b.finished} finished${b.timedOut ? ' (TIMED OUT)' : ''} in ${(b.totalMs / 1000).toFixed(1)} s = **${b.imagesPerSecond.toFixed(2)} images/s**; states ${JSON.stringify(b.states)}; long tasks during the batch: ${b.longTasksSupported ? `${b.longTasksDuringBatch} (longest ${b.longestTaskMs.toFixed(0)} ms, ${b.longTasksOver100ms} over 100 ms; [ms into the batch: duration] ${b.longTasks.map((t) => `${t.atMsIntoBatch}: ${t.ms}`).join(', ')})` : 'PerformanceObserver longtask unsupported'}; JS heap ${fmtBytes(b.heapBefore)} before → ${fmtBytes(b.heapAfter)} after.`);
    if (b.fileInputBaselineMs != null) L.push(`Browser floor: on a blank page whose file input's change handler only reads the ${b.images} file names, Chromium's longest task is **${b.fileInputBaselineMs.toFixed(0)} ms** (it creates the File objects in that task). Longest task after the first one of the batch: **${b.longestLaterTaskMs.toFixed(0)} ms**.`);
    L.push('');
  }
  L.push('| Goal | Measured | Met? | Margin |');
  L.push('|---|---|---|---|');
  for (const g of R.goals) {
    const v = g.value == null ? 'n/a' : g.unit === 'B' ? `${fmtBytes(g.value)} (${g.value.toLocaleString('en')} B)` : g.unit === 'ms' ? `${g.value.toFixed(0)} ms` : `${g.value.toFixed(2)}×`;
    L.push(`| ${g.goal} | ${v} | ${g.met == null ? 'not measured' : g.met ? 'met' : 'MISSED'} | ${g.margin} |`);
  }
  return L.join('\n');
}

// ---------------------------------------------------------------- main
async function main() {
  const R = { date: new Date().toISOString(), dist: opts.dist, options: { ...opts } };
  R.machine = machine();
  for (const f of ['index.html', 'model/manifest.json']) {
    if (!fs.existsSync(path.join(opts.dist, f))) throw new Error(`${opts.dist}/${f} not found: build the site first (bash scripts/build.sh)`);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(opts.dist, 'model', 'manifest.json'), 'utf8'));
  R.modelId = manifest.model_id;
  R.input = manifest.input;
  R.build = buildInfo(opts.dist);
  log(`build: ${R.build.guess}`);
  const shipped = path.join(opts.dist, 'model', manifest.onnx_file);
  let floatModel = opts.float ? path.resolve(opts.float) : null;
  if (!floatModel) {
    const runs = path.join(ROOT, 'training', 'runs');
    const cands = fs.existsSync(runs)
      ? fs.readdirSync(runs).map((d) => path.join(runs, d, 'model.float.onnx')).filter((f) => fs.existsSync(f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)
      : [];
    floatModel = cands[0] ?? null;
  }
  R.floatModel = floatModel && path.relative(ROOT, floatModel);
  log(`MACs of ${path.relative(ROOT, shipped)}${floatModel ? ` and ${R.floatModel}` : ''}`);
  R.macs = macsOf(floatModel || shipped);
  R.macsShipped = floatModel ? macsOf(shipped) : R.macs;
  if (R.macs.error) log(`MACs: ${R.macs.error}`);

  const tests = readSplits(MLL_DATA).filter((r) => r.split === 'test');
  if (!tests.length) throw new Error('no test-split images in splits.csv');
  const image = tests[0].path;
  R.image = path.relative(ROOT, image);
  try {
    R.ortPackageVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'onnxruntime-web', 'package.json'), 'utf8')).version;
  } catch { /* ignore */ }

  if (opts.browser) {
    const { chromium } = await import('playwright-core');
    const server = await startServer(opts.dist);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    R.chromium = browser.version();
    let coldContext = null;
    try {
      // 1. cold start
      log(`cold start (${server.url})`);
      try {
        const c = await coldStart(browser, server.url, image, opts.phaseTimeout * 1000);
        coldContext = c.context;
        R.cold = c.result;
        // let the service worker finish precaching before timing anything else
        await c.page.evaluate(() => Promise.race([navigator.serviceWorker?.ready, new Promise((r) => setTimeout(r, 15000))])).catch(() => {});
        await sleep(2000);
        // 2. tract-wasm worker bench, same page
        if (opts.wasm) {
          // The build the app runs (relaxed SIMD where the browser has it), then the SIMD128
          // build, then the app's build again: the two runs of the first bracket the second in time.
          const runs = [['tractWasm', ''], ['tractWasmBaseline', 'baseline'], ['tractWasmAgain', '']];
          for (const [key, simd] of runs) {
            if (key !== 'tractWasm' && !fs.existsSync(path.join(opts.dist, 'worker_relaxed_bg.wasm'))) break;
            log(`tract-wasm (${simd || 'loader choice'}): worker bench n=${opts.n} warm-up ${opts.warmup}`);
            R[`loadavgBefore_${key}`] = loadavg();
            try {
              const tw = await withTimeout(tractWasmBench(c.page, fs.readFileSync(image).toString('base64'), { n: opts.n, warmup: opts.warmup, classifyN: opts.classifyN, budgetMs: opts.phaseTimeout * 1000, simd }), (opts.phaseTimeout + 600) * 1000, 'tract-wasm bench');
              R[key] = { ...tw, inference: stats(tw.inferenceMs), classify: stats(tw.classifyMs) };
              delete R[key].inferenceMs;
              R[key].inferenceMsAll = tw.inferenceMs.map((x) => round(x, 2));
              delete R[key].classifyMs;
            } catch (e) {
              R[key] = { error: String(e.message || e).split('\n')[0] };
              log(`tract-wasm (${key}) failed: ${R[key].error}`);
            }
          }
        }
        await c.page.close().catch(() => {});
      } catch (e) {
        R.cold = { error: String(e.message || e).split('\n')[0] };
        log(`cold start failed: ${R.cold.error}`);
      }

      // 3. onnxruntime-web, same browser, another context
      if (opts.ort) {
        let ortDir = null;
        try {
          log('onnxruntime-web');
          R.loadavgBeforeOrt = loadavg();
          ortDir = prepareOrtDir(opts.dist, floatModel, image);
          const kernels = opts.peak ? await peakKernels().catch((e) => { log(`peak kernels: ${e.message}`); return []; }) : [];
          R.ort = await withTimeout(ortBench(browser, ortDir, { n: opts.n, warmup: opts.warmup, budgetMs: opts.phaseTimeout * 1000, kernels }), (opts.phaseTimeout * 2 + 300) * 1000, 'onnxruntime-web bench');
        } catch (e) {
          R.ort = { error: String(e.message || e).split('\n')[0] };
          log(`onnxruntime-web failed: ${R.ort.error}`);
        } finally {
          if (ortDir) fs.rmSync(ortDir.dir, { recursive: true, force: true });
        }
      }

      // 4. batch
      if (opts.batchRun && opts.batch > 0) {
        log(`batch of ${opts.batch}`);
        R.loadavgBeforeBatch = loadavg();
        let tmp = null;
        try {
          let files = tests.slice(0, opts.batch).map((r) => r.path);
          if (files.length < opts.batch) {
            // reuse cyclically, with distinct names
            tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-batch-'));
            files = Array.from({ length: opts.batch }, (_, i) => {
              const src = tests[i % tests.length].path;
              const dst = path.join(tmp, `${String(i).padStart(4, '0')}_${path.basename(src)}`);
              fs.symlinkSync(src, dst);
              return dst;
            });
          }
          const ctx = coldContext ?? (await browser.newContext());
          const batchUrl = opts.workers ? `${server.url}${server.url.includes('?') ? '&' : '?'}workers=${opts.workers}` : server.url;
          R.batch = await batchRun(ctx, batchUrl, files, opts.batchTimeout * 1000);
          if (opts.workers) R.batch.workers = opts.workers;
        } catch (e) {
          R.batch = { error: String(e.message || e).split('\n')[0] };
          log(`batch failed: ${R.batch.error}`);
        } finally {
          if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        }
      }
    } finally {
      await browser.close().catch(() => {});
      await server.stop();
    }
  }

  if (opts.sizes) {
    log('transfer sizes (brotli q11 is slow on big files)');
    R.sizes = await sizes(opts.dist);
  }

  if (opts.native) {
    R.native = await nativeBench(opts.dist, opts.n, opts.nativeTimeout);
    if (R.native.error) log(`native: ${R.native.error}`);
  } else {
    R.native = { error: 'skipped (--no-native)' };
  }
  R.loadavgAtEnd = loadavg();

  // ratios
  const twP50 = R.tractWasm?.inference?.p50 ?? null;
  const ortInt8 = R.ort?.models?.[0]?.latency?.p50 ?? null;
  const ortFloat = R.ort?.models?.[1]?.latency?.p50 ?? null;
  const nat = R.native?.inference?.p50 ?? null;
  R.ratios = {
    tractWasmOverOrtInt8: twP50 && ortInt8 ? twP50 / ortInt8 : null,
    tractWasmOverOrtFloat: twP50 && ortFloat ? twP50 / ortFloat : null,
    tractWasmOverNative: twP50 && nat ? twP50 / nat : null,
  };
  // arithmetic intensity
  const macs = R.macs?.macs;
  if (macs) {
    const peak = R.ort?.peak?.find((p) => p.name.startsWith('f32x4 mul+add') && !p.error)?.gmacs ?? null;
    const rows = [];
    const add = (engine, p50) => {
      if (p50 == null) return;
      const gmacs = macs / (p50 * 1e6);
      rows.push({ engine, p50, gmacs, ofPeak: peak ? gmacs / peak : null });
    };
    add('native tract', nat);
    add('tract in wasm', twP50);
    add('onnxruntime-web, shipped model', ortInt8);
    add('onnxruntime-web, float model', ortFloat);
    R.arith = { macs, peakF32x4: peak, rows };
  }
  R.goals = goals(R);
  const md = markdown(R);
  console.log(md);
  if (opts.json) {
    fs.writeFileSync(path.resolve(opts.json), JSON.stringify(R, null, 2));
    log(`wrote ${opts.json}`);
  }
  if (opts.md) {
    fs.writeFileSync(path.resolve(opts.md), md + '\n');
    log(`wrote ${opts.md}`);
  }
}

main().catch((e) => {
  console.error(`bench.mjs: ${e.stack || e}`);
  process.exit(1);
});
