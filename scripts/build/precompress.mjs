#!/usr/bin/env node
// Precompressed copies of the built site's compressible files, for servers that send them as
// they are (nginx `brotli_static`/`gzip_static`, Caddy `precompressed`, scripts/serve.mjs):
// FILE.br (brotli quality 11, window 24) and FILE.gz (gzip level 9) beside each .wasm, .js,
// .css, .html, .json, .onnx, .svg, .txt or .md of at least 1 KiB, where the copy is smaller.
// Images (JPEG, PNG) are compressed already and left alone. Prints each file's bytes and the
// first load (what a first visit downloads before the model is ready) in each encoding.
//
//   node scripts/build/precompress.mjs [dist]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const dist = path.resolve(process.argv[2] || 'dist');
const TEXT = new Set(['.js', '.css', '.html', '.json', '.svg', '.txt', '.md']);
const BINARY = new Set(['.wasm', '.onnx']);
const MIN_BYTES = 1024;
// What a first visit needs before the model is ready (the page, its code, the worker, the model).
const FIRST_LOAD = ['index.html', 'main.css', 'marrowscope.js', 'marrowscope_bg.wasm', 'sw-register.js', 'worker_loader.js', 'worker.js', 'worker_bg.wasm', 'model/manifest.json'];

function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) walk(full, out);
    else if (e.isFile()) out.push(full);
  }
  return out;
}

function compress(buf, ext) {
  const br = zlib.brotliCompressSync(buf, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
      [zlib.constants.BROTLI_PARAM_MODE]: TEXT.has(ext) ? zlib.constants.BROTLI_MODE_TEXT : zlib.constants.BROTLI_MODE_GENERIC,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    },
  });
  const gz = zlib.gzipSync(buf, { level: 9 });
  return { br, gz };
}

if (!fs.existsSync(path.join(dist, 'index.html'))) {
  console.error(`precompress: ${dist}/index.html not found: build the site first`);
  process.exit(2);
}
// The model named by the manifest is part of the first load.
try {
  const m = JSON.parse(fs.readFileSync(path.join(dist, 'model/manifest.json'), 'utf8'));
  if (m.onnx_file) FIRST_LOAD.push(`model/${m.onnx_file}`);
} catch {
  /* no bundled model */
}
const rows = [];
for (const file of walk(dist)) {
  const ext = path.extname(file).toLowerCase();
  if (!TEXT.has(ext) && !BINARY.has(ext)) continue;
  const raw = fs.readFileSync(file);
  if (raw.length < MIN_BYTES) continue;
  const { br, gz } = compress(raw, ext);
  const rel = path.relative(dist, file).split(path.sep).join('/');
  const row = { rel, raw: raw.length, br: null, gz: null };
  for (const [kind, data] of [['br', br], ['gz', gz]]) {
    if (data.length < raw.length) {
      fs.writeFileSync(`${file}.${kind}`, data);
      row[kind] = data.length;
    } else {
      fs.rmSync(`${file}.${kind}`, { force: true });
    }
  }
  rows.push(row);
}
const mib = (b) => (b / 2 ** 20).toFixed(2);
rows.sort((a, b) => b.raw - a.raw);
console.log('| file | raw | gzip -9 | brotli q11 |');
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.rel} | ${r.raw} | ${r.gz ?? '–'} | ${r.br ?? '–'} |`);
const first = { raw: 0, gz: 0, br: 0, files: [] };
for (const rel of FIRST_LOAD) {
  const full = path.join(dist, rel);
  if (!fs.existsSync(full)) continue;
  const raw = fs.statSync(full).size;
  const r = rows.find((x) => x.rel === rel);
  first.raw += raw;
  first.gz += r?.gz ?? raw;
  first.br += r?.br ?? raw;
  first.files.push(rel);
}
console.log(`precompress: ${rows.length} files; first load (${first.files.join(', ')}): ${mib(first.raw)} MiB raw, ${mib(first.gz)} MiB gzip, ${mib(first.br)} MiB brotli (${first.br} B)`);
