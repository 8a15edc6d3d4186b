// In-browser half of scripts/bench/bench.mjs: onnxruntime-web (wasm execution provider, SIMD,
// one thread, no proxy worker) on the same model(s) as the app, plus a wasm arithmetic
// peak micro-benchmark. Exposes window.ortBench(opts) and window.wasmPeak(kernels);
// window.__benchReady is set once loaded.
import * as ort from './ort.wasm.min.mjs';
import { stats } from './stats.mjs';

const status = (s) => {
  const el = document.getElementById('status');
  if (el) el.textContent = s;
};

/** Decodes an image, crops the centred square, resizes to W×H (bilinear, smoothing high) and
 *  normalises ((x / scale) - mean) / std into NCHW float32 — like src/image/preprocess.rs, not bit-exact. */
async function preprocess(imageUrl, input) {
  const t0 = performance.now();
  const blob = await (await fetch(imageUrl)).blob();
  const bmp = await createImageBitmap(blob);
  const s = Math.min(bmp.width, bmp.height);
  const sx = Math.floor((bmp.width - s) / 2);
  const sy = Math.floor((bmp.height - s) / 2);
  const W = input.width;
  const H = input.height;
  const canvas = new OffscreenCanvas(W, H);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bmp, sx, sy, s, s, 0, 0, W, H);
  const px = ctx.getImageData(0, 0, W, H).data;
  const plane = W * H;
  const out = new Float32Array(3 * plane);
  const scale = input.scale || 255;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = (px[4 * i + c] / scale - input.mean[c]) / input.std[c];
  }
  return { data: out, width: bmp.width, height: bmp.height, ms: performance.now() - t0 };
}

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

const SESSION_OPTIONS = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };

async function benchModel(name, url, input, data, classes, { warmup, n, budgetMs }) {
  const bytes = await fetchBytes(url);
  status(`${name}: creating the session`);
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  const createMs = performance.now() - t0;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [1, 3, input.height, input.width]) };
  const t1 = performance.now();
  let out = await session.run(feeds);
  const firstRunMs = performance.now() - t1;
  const outputs = {};
  for (const k of session.outputNames) outputs[k] = out[k].dims;
  // top class from the first output that has classes.length values
  let top = null;
  for (const k of session.outputNames) {
    const v = out[k].data;
    if (v.length === classes.length) {
      let best = 0;
      for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
      top = { output: k, class: classes[best], index: best };
      break;
    }
  }
  status(`${name}: warm-up`);
  for (let i = 0; i < warmup; i++) out = await session.run(feeds);
  status(`${name}: timing ${n} runs`);
  const times = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    out = await session.run(feeds);
    times.push(performance.now() - t);
    if (performance.now() - start > budgetMs) break;
  }
  await session.release();
  return { name, modelBytes: bytes.length, createMs, firstRunMs, inputName: session.inputNames[0], outputs, top, latency: stats(times), timedOut: times.length < n };
}

/**
 * opts: {models: [{name, url}], manifestUrl, imageUrl, warmup, n, budgetMs}
 * The first model's session is created twice: the first creation includes the one-off
 * initialisation of the onnxruntime wasm runtime (fetch + compile of ort-wasm-simd-threaded.wasm).
 */
window.ortBench = async (opts) => {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.simd = true; // 1.30 ships only SIMD builds; kept for older versions
  ort.env.logLevel = 'warning';
  const manifest = await (await fetch(opts.manifestUrl)).json();
  const input = manifest.input;
  const pre = await preprocess(opts.imageUrl, input);
  const result = {
    ortVersion: ort.env.versions?.web ?? ort.env.versions?.common ?? null,
    crossOriginIsolated: self.crossOriginIsolated,
    numThreads: ort.env.wasm.numThreads,
    input: { name: input.name, width: input.width, height: input.height },
    preprocessMs: pre.ms,
    image: { width: pre.width, height: pre.height },
    models: [],
  };
  // one-off runtime init + first session
  {
    const bytes = await fetchBytes(opts.models[0].url);
    status('initialising onnxruntime-web');
    const t0 = performance.now();
    const s = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
    result.runtimeInitPlusCreateMs = performance.now() - t0;
    await s.release();
  }
  for (const m of opts.models) {
    result.models.push(await benchModel(m.name, m.url, input, pre.data, manifest.classes, opts));
  }
  status('done');
  return result;
};

/**
 * kernels: [{name, bytes: number[] (a wasm module exporting run(iters) -> f32|i32), macsPerIter}]
 * Returns the best of 3 timed calls after calibrating to ~150 ms each: GMAC/s per kernel.
 */
window.wasmPeak = async (kernels) => {
  const out = [];
  for (const k of kernels) {
    try {
      const { instance } = await WebAssembly.instantiate(new Uint8Array(k.bytes));
      const run = instance.exports.run;
      let iters = 1 << 16;
      run(1000);
      for (;;) {
        const t = performance.now();
        run(iters);
        const dt = performance.now() - t;
        if (dt > 150 || iters > 1 << 30) break;
        iters *= 2;
      }
      let best = Infinity;
      for (let r = 0; r < 3; r++) {
        const t = performance.now();
        run(iters);
        best = Math.min(best, performance.now() - t);
      }
      out.push({ name: k.name, iters, ms: best, gmacs: (k.macsPerIter * iters) / (best * 1e6) });
    } catch (e) {
      out.push({ name: k.name, error: String(e) });
    }
  }
  return out;
};

window.__benchReady = true;
status('ready');
