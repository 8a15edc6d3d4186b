// Self-test of scripts/serve.mjs and scripts/build/gen-sw.mjs on a small made-up site (no app build
// needed): MIME types, the sub-path base, CSP header, 404/405, SIGTERM; the service worker
// precaches under a sub-path, serves offline, and updates only after {type: 'SKIP_WAITING'}.
// And scripts/data/gallery.sh (the trunk hook): the committed samples without any data folder, more
// from the data folders when they exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startServer, launchBrowser, readCsv } from './lib.mjs';

// (module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
const ADD_WASM = Buffer.from('AGFzbQEAAAABBwFgAn9/AX8DAgEABwcBA2FkZAAACgkBBwAgACABags=', 'base64');
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";

function makeSite() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-site-'));
  fs.mkdirSync(path.join(dir, 'model'));
  fs.mkdirSync(path.join(dir, 'gallery'));
  fs.writeFileSync(
    path.join(dir, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>site</title><link rel="stylesheet" href="style.css"></head>' +
      '<body><h1 id="h">loading</h1><script type="module" src="./app.js"></script></body></html>\n',
  );
  fs.writeFileSync(
    path.join(dir, 'app.js'),
    "const r = await WebAssembly.instantiateStreaming(fetch('./app_bg.wasm'));\n" +
      "document.getElementById('h').textContent = 'add=' + r.instance.exports.add(2, 3);\n" +
      "window.__reg = navigator.serviceWorker.register('./sw.js');\n",
  );
  fs.writeFileSync(path.join(dir, 'app_bg.wasm'), ADD_WASM);
  fs.writeFileSync(path.join(dir, 'style.css'), 'h1 { color: rgb(255, 0, 0); }\n');
  fs.writeFileSync(path.join(dir, 'model', 'meta.json'), '{"classes": 8}\n');
  fs.writeFileSync(path.join(dir, 'model', 'model.onnx'), Buffer.alloc(2048, 7));
  fs.writeFileSync(path.join(dir, 'gallery', 'x.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
  fs.writeFileSync(path.join(dir, 'csp.txt'), CSP + '\n');
  return dir;
}

// The made-up app's heading once its module has run. app.js awaits the wasm at its top level, and
// the page's load event does not wait for a module's top-level await: read the heading only once
// it has left 'loading' (or after 10 s, so that a failure still shows what it says).
async function heading(page) {
  await page
    .waitForFunction(() => document.getElementById('h')?.textContent !== 'loading', null, { timeout: 10_000 })
    .catch(() => {});
  return page.textContent('#h');
}

function genSw(dir) {
  return execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build', 'gen-sw.mjs'), dir], { encoding: 'utf8' });
}

test('serve.mjs: base path, MIME types, CSP, 404/405, SIGTERM', { timeout: 30_000 }, async () => {
  const dir = makeSite();
  const server = await startServer({ dist: dir, base: '/marrowscope' });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/marrowscope\/$/);
    const o = server.origin;
    const get = (p, init) => fetch(o + p, { redirect: 'manual', ...init });

    for (const p of ['/', '/marrowscope']) {
      const r = await get(p);
      assert.equal(r.status, 302, p);
      assert.equal(r.headers.get('location'), '/marrowscope/');
    }
    const index = await get('/marrowscope/');
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type'), /^text\/html/);
    assert.equal(index.headers.get('content-security-policy'), CSP);
    assert.match(await index.text(), /<title>site<\/title>/);

    const types = {
      '/marrowscope/app.js': /^text\/javascript/,
      '/marrowscope/app_bg.wasm': /^application\/wasm$/,
      '/marrowscope/model/meta.json': /^application\/json$/,
      '/marrowscope/model/model.onnx': /^application\/octet-stream$/,
      '/marrowscope/gallery/x.png': /^image\/png$/,
      '/marrowscope/style.css': /^text\/css/,
    };
    for (const [p, re] of Object.entries(types)) {
      const r = await get(p);
      assert.equal(r.status, 200, p);
      assert.match(r.headers.get('content-type'), re, p);
      await r.arrayBuffer();
    }
    const wasm = Buffer.from(await (await get('/marrowscope/app_bg.wasm')).arrayBuffer());
    assert.deepEqual(wasm, ADD_WASM);

    for (const p of ['/app.js', '/marrowscopex/', '/marrowscope/missing.js', '/marrowscope/%2e%2e/%2e%2e/etc/passwd', '/marrowscope/model']) {
      const r = await get(p);
      assert.equal(r.status, 404, p);
      await r.arrayBuffer();
    }
    const post = await get('/marrowscope/', { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    await post.arrayBuffer();
    for (let i = 0; i < 40 && !server.requests.some((r) => r.method === 'POST'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(server.requests.some((r) => r.method === 'POST' && r.bodyBytes === 1), 'server log records POST bodies');
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // SIGTERM ends it with exit code 0.
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'serve.mjs'), '--dir', ROOT, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => child.stdout.once('data', r));
  const code = await new Promise((r) => {
    child.on('exit', (c) => r(c));
    child.kill('SIGTERM');
  });
  assert.equal(code, 0);
});

test('gen-sw.mjs: deterministic version, offline under a sub-path, update on SKIP_WAITING', { timeout: 90_000 }, async () => {
  const dir = makeSite();
  let server;
  let browser;
  try {
    assert.match(genSw(dir), /gen-sw: 7 files/);
    const v1 = JSON.parse(fs.readFileSync(path.join(dir, 'version.json'), 'utf8'));
    genSw(dir);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'version.json'), 'utf8')), v1, 'same files, same version');
    assert.match(v1.version, /^[0-9a-f]{16}$/);
    assert.equal(v1.files, 7);
    const sw = fs.readFileSync(path.join(dir, 'sw.js'), 'utf8');
    const install = sw.slice(sw.indexOf("addEventListener('install'"), sw.indexOf("addEventListener('activate'"));
    assert.ok(install.length > 0 && !install.includes('self.skipWaiting'), 'install must not skipWaiting');
    assert.ok(sw.includes("data.type === 'SKIP_WAITING'"));
    assert.ok(!sw.includes('"./csp.txt"') && !sw.includes('"./sw.js"') && !sw.includes('"./version.json"'));

    server = await startServer({ dist: dir, base: '/marrowscope/' });
    const port = new URL(server.url).port;
    browser = await launchBrowser();
    const page = await (await browser.newContext()).newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
    assert.equal(await heading(page), 'add=5');
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const c = await caches.open(names[0]);
      return { names, urls: (await c.keys()).map((r) => new URL(r.url).pathname).sort() };
    });
    assert.deepEqual(cached.names, [`marrowscope-${v1.version}`]);
    assert.deepEqual(cached.urls, [
      '/marrowscope/app.js', '/marrowscope/app_bg.wasm', '/marrowscope/gallery/x.png', '/marrowscope/index.html',
      '/marrowscope/model/meta.json', '/marrowscope/model/model.onnx', '/marrowscope/style.css',
    ]);

    // Offline: the server is gone, the app still loads from the cache.
    await server.stop();
    await page.reload();
    assert.equal(await heading(page), 'add=5');
    await page.goto(server.url + '?from=bookmark');
    assert.equal(await heading(page), 'add=5');

    // New version: installs and waits; activates only after SKIP_WAITING; old cache removed.
    fs.writeFileSync(path.join(dir, 'style.css'), 'h1 { color: rgb(0, 0, 255); }\n');
    genSw(dir);
    const v2 = JSON.parse(fs.readFileSync(path.join(dir, 'version.json'), 'utf8'));
    assert.notEqual(v2.version, v1.version);
    // Same origin (port) for the same registration: restart on the old port.
    server = await startServer({ dist: dir, base: '/marrowscope/', port });
    await page.goto(server.url);
    const waiting = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      await reg.update();
      for (let i = 0; i < 100 && !reg.waiting; i++) await new Promise((r) => setTimeout(r, 100));
      return !!reg.waiting;
    });
    assert.ok(waiting, 'the new worker waits');
    assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('h')).color), 'rgb(255, 0, 0)', 'old version still served');
    await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      const changed = new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      reg.waiting.postMessage({ type: 'SKIP_WAITING' });
      await changed;
    });
    await page.reload();
    assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('h')).color), 'rgb(0, 0, 255)');
    await page.waitForFunction((name) => caches.keys().then((k) => k.length === 1 && k[0] === name), `marrowscope-${v2.version}`, { timeout: 10_000 });
    const reply = await page.evaluate(() => new Promise((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = (e) => resolve(e.data);
      navigator.serviceWorker.controller.postMessage({ type: 'GET_VERSION' }, [ch.port2]);
    }));
    assert.deepEqual(reply, { type: 'VERSION', version: v2.version });
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close().catch(() => {});
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});


// scripts/data/gallery.sh into a temporary staging folder; returns its gallery (index, folder, output).
function runGallery(env) {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-gallery-'));
  const output = execFileSync('bash', [path.join(ROOT, 'scripts', 'data', 'gallery.sh')], {
    encoding: 'utf8',
    env: { ...process.env, MARROWSCOPE_GALLERY_PER_CLASS: '4', ...env, TRUNK_STAGING_DIR: staging },
  });
  const dir = path.join(staging, 'gallery');
  const indexFile = path.join(dir, 'index.json');
  const index = fs.existsSync(indexFile) ? JSON.parse(fs.readFileSync(indexFile, 'utf8')) : null;
  return { staging, dir, index, output };
}

const SAMPLES = path.join(ROOT, 'public', 'samples');
const MLL_CODES = 'ABE ART BAS BLA EBO EOS FGC HAC KSC LYI LYT MMZ MON MYB NGB NGS NIF OTH PEB PLM PMO'.split(' ');

function checkEntries(g) {
  for (const e of g.index) {
    assert.ok(fs.statSync(path.join(g.dir, e.file)).size > 0, `${e.file} is listed but missing`);
    assert.ok(MLL_CODES.includes(e.label) || e.label === 'PLT', `${e.file}: label ${e.label}`);
    assert.ok(['marrow', 'blood'].includes(e.source), `${e.file}: source ${e.source}`);
    assert.equal(e.dataset, e.source === 'marrow' ? 'MLL' : 'PBC', `${e.file}: dataset`);
    assert.ok(e.original, `${e.file}: original`);
  }
  const files = g.index.map((e) => e.file);
  assert.equal(new Set(files).size, files.length, 'duplicate files in index.json');
  const originals = g.index.map((e) => `${e.dataset}/${e.original}`);
  assert.equal(new Set(originals).size, originals.length, 'the same original twice');
  const onDisk = fs.readdirSync(g.dir).filter((f) => f !== 'index.json' && f !== 'ATTRIBUTION.md').sort();
  assert.deepEqual(onDisk, [...files].sort(), 'gallery folder holds exactly the listed images');
}

test('gallery.sh: the committed samples when there is no data folder', { timeout: 60_000 }, () => {
  const committed = JSON.parse(fs.readFileSync(path.join(SAMPLES, 'index.json'), 'utf8'));
  let bytes = 0;
  for (const e of committed) bytes += fs.statSync(path.join(SAMPLES, e.file)).size;
  assert.ok(bytes < 2 * 1024 * 1024, `committed gallery samples take ${bytes} bytes (budget 2 MB)`);
  const attribution = fs.readFileSync(path.join(SAMPLES, 'ATTRIBUTION.md'), 'utf8');
  for (const e of committed) assert.ok(attribution.includes(e.file), `ATTRIBUTION.md does not name ${e.file}`);
  assert.ok(attribution.includes('10.7937/TCIA.AXH3-T579') && attribution.includes('10.17632/snkd93bnjr.1') && attribution.includes('CC BY 4.0'));

  const nowhere = path.join(os.tmpdir(), 'marrowscope-no-such-folder');
  const g = runGallery({ MARROWSCOPE_DATA: path.join(nowhere, 'mll'), MARROWSCOPE_PBC_DATA: path.join(nowhere, 'pbc') });
  try {
    assert.ok(g.index, `no gallery/index.json; output:\n${g.output}`);
    assert.deepEqual(g.index.map((e) => e.file).sort(), committed.map((e) => e.file).sort(), 'exactly the committed samples');
    checkEntries(g);
    const sources = new Set(g.index.map((e) => e.source));
    assert.deepEqual([...sources].sort(), ['blood', 'marrow'], 'both sources');
    for (const e of g.index) assert.deepEqual(fs.readFileSync(path.join(g.dir, e.file)), fs.readFileSync(path.join(SAMPLES, e.file)), e.file);
    assert.equal(fs.readFileSync(path.join(g.dir, 'ATTRIBUTION.md'), 'utf8'), attribution, 'ATTRIBUTION.md copied as is');
  } finally {
    fs.rmSync(g.staging, { recursive: true, force: true });
  }
});

test('gallery.sh: more images from the data folders, no duplicates', { timeout: 60_000 }, (t) => {
  const mll = path.resolve(ROOT, '..', 'shared', 'data', 'mll-subset');
  const pbc = path.resolve(ROOT, '..', 'shared', 'data', 'pbc');
  if (!fs.existsSync(path.join(mll, 'splits.csv')) || !fs.existsSync(path.join(pbc, 'splits.csv'))) {
    t.skip(`no data folders at ${mll} and ${pbc}`);
    return;
  }
  const committed = JSON.parse(fs.readFileSync(path.join(SAMPLES, 'index.json'), 'utf8'));
  const g = runGallery({ MARROWSCOPE_DATA: mll, MARROWSCOPE_PBC_DATA: pbc });
  try {
    assert.ok(g.index, `no gallery/index.json; output:\n${g.output}`);
    checkEntries(g);
    const files = new Set(g.index.map((e) => e.file));
    for (const e of committed) assert.ok(files.has(e.file), `committed sample ${e.file} missing`);
    const added = g.index.filter((e) => !committed.some((c) => c.file === e.file));
    assert.ok(added.some((e) => e.source === 'marrow'), `no bone-marrow image added; output:\n${g.output}`);
    assert.ok(added.some((e) => e.source === 'blood'), `no blood image added; output:\n${g.output}`);
    // Up to 4 per class and source in all, the committed ones always kept.
    const count = (list, e) => list.filter((x) => x.source === e.source && x.label === e.label).length;
    for (const e of added) assert.ok(count(g.index, e) <= Math.max(4, count(committed, e)), `too many ${e.source} ${e.label}`);
    // Added images are copies of test-split files.
    const testRows = new Set(
      [mll, pbc].flatMap((d) => readCsv(path.join(d, 'splits.csv')).filter((r) => /^(test|gallery)\s*$/.test(r.split)).map((r) => path.basename(r.path))),
    );
    for (const e of added) assert.ok(testRows.has(e.original), `${e.file} is not a test image`);
    const attribution = fs.readFileSync(path.join(g.dir, 'ATTRIBUTION.md'), 'utf8');
    for (const e of added) assert.ok(attribution.includes(e.file), `gallery ATTRIBUTION.md does not name ${e.file}`);
  } finally {
    fs.rmSync(g.staging, { recursive: true, force: true });
  }
});

test('precompress.mjs and serve.mjs: brotli or gzip copies where the browser accepts them, identical once decoded', { timeout: 60_000 }, async () => {
  const { default: http } = await import('node:http');
  const { default: zlib } = await import('node:zlib');
  const dir = makeSite();
  // A script large enough to compress, like the app's own.
  const script = Array.from({ length: 3000 }, (_, i) => `export const value${i} = ${i} * 2; // line ${i}\n`).join('');
  fs.writeFileSync(path.join(dir, 'app.js'), script);
  const out = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build', 'precompress.mjs'), dir], { encoding: 'utf8' });
  assert.match(out, /first load/);
  assert.ok(fs.existsSync(path.join(dir, 'app.js.br')) && fs.existsSync(path.join(dir, 'app.js.gz')), out);
  assert.ok(fs.statSync(path.join(dir, 'app.js.br')).size < script.length / 5, 'brotli copy is much smaller');
  assert.ok(fs.existsSync(path.join(dir, 'model', 'model.onnx.br')), 'the model is precompressed too');
  assert.ok(!fs.existsSync(path.join(dir, 'gallery', 'x.png.br')), 'images are left alone');
  assert.ok(!fs.existsSync(path.join(dir, 'app_bg.wasm.br')), 'files under 1 KiB are left alone');
  // The service worker precaches each file once, never its compressed copies.
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build', 'gen-sw.mjs'), dir], { encoding: 'utf8' });
  const sw = fs.readFileSync(path.join(dir, 'sw.js'), 'utf8');
  assert.match(sw, /app\.js/);
  assert.doesNotMatch(sw, /\.(br|gz)["']/);

  const server = await startServer({ dist: dir, base: '/' });
  const get = (p, accept) =>
    new Promise((resolve, reject) => {
      const headers = accept === undefined ? {} : { 'Accept-Encoding': accept };
      http.get(server.origin + p, { headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
  try {
    const cases = [
      ['gzip, deflate, br, zstd', 'br'],
      ['gzip, deflate', 'gzip'],
      ['br;q=0, gzip', 'gzip'],
      ['identity', undefined],
      [undefined, undefined],
    ];
    for (const [accept, expected] of cases) {
      const r = await get('/app.js', accept);
      assert.equal(r.headers['content-encoding'], expected, `Accept-Encoding: ${accept}`);
      assert.equal(r.headers.vary, 'Accept-Encoding');
      assert.equal(Number(r.headers['content-length']), r.body.length);
      assert.match(r.headers['content-type'], /^text\/javascript/);
      const decoded = expected === 'br' ? zlib.brotliDecompressSync(r.body) : expected === 'gzip' ? zlib.gunzipSync(r.body) : r.body;
      assert.equal(decoded.toString('utf8'), script, `Accept-Encoding: ${accept}`);
    }
    // A file changed after the build: its older copies are stale and never sent.
    const later = new Date(Date.now() + 5000);
    fs.writeFileSync(path.join(dir, 'app.js'), '// changed\n');
    fs.utimesSync(path.join(dir, 'app.js'), later, later);
    const changed = await get('/app.js', 'gzip, deflate, br');
    assert.equal(changed.headers['content-encoding'], undefined, 'a stale copy is not sent');
    assert.equal(changed.body.toString('utf8'), '// changed\n');
    const png = await get('/gallery/x.png', 'br');
    assert.equal(png.headers['content-encoding'], undefined);
    assert.equal(png.headers.vary, undefined);
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('preload-model.mjs: preloads the manifest and the file it names, once, and refuses a path', { timeout: 30_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-preload-'));
  try {
    fs.mkdirSync(path.join(dir, 'model'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!DOCTYPE html><html><head><title>t</title><link rel="stylesheet" href="./main.css"></head><body></body></html>');
    fs.writeFileSync(path.join(dir, 'model', 'manifest.json'), JSON.stringify({ onnx_file: 'mine.int8.onnx' }));
    const run = () => execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build', 'preload-model.mjs'), dir], { encoding: 'utf8', stdio: 'pipe' });
    run();
    run(); // a second build step run keeps one pair of links
    const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
    const links = [...html.matchAll(/<link rel="preload" href="([^"]+)" as="fetch" crossorigin="anonymous" data-model-preload>/g)].map((m) => m[1]);
    assert.deepEqual(links, ['./model/manifest.json', './model/mine.int8.onnx']);
    assert.ok(html.indexOf('data-model-preload') < html.indexOf('main.css'), 'the preloads come first in <head>');
    fs.writeFileSync(path.join(dir, 'model', 'manifest.json'), JSON.stringify({ onnx_file: '../../etc/passwd' }));
    assert.throws(run, /not a plain file name/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('scripts/build/strip-names.mjs drops only the name section of a WebAssembly module', async () => {
  const { stripNames } = await import('../../scripts/build/strip-names.mjs');
  const custom = (name, payload) => {
    const body = Buffer.concat([Buffer.from([name.length]), Buffer.from(name), Buffer.from(payload)]);
    assert.ok(body.length < 128, 'one-byte section size');
    return Buffer.concat([Buffer.from([0, body.length]), body]);
  };
  // A name section giving the function a name (subsection 1), and another custom section.
  const named = Buffer.concat([ADD_WASM, custom('name', [1, 6, 1, 0, 3, 0x61, 0x64, 0x64]), custom('keep', [1, 2, 3])]);
  assert.equal(WebAssembly.Module.customSections(new WebAssembly.Module(named), 'name').length, 1);
  const stripped = stripNames(named);
  assert.equal(stripped.length, named.length - custom('name', [1, 6, 1, 0, 3, 0x61, 0x64, 0x64]).length);
  const mod = new WebAssembly.Module(stripped);
  assert.equal(WebAssembly.Module.customSections(mod, 'name').length, 0, 'the name section is gone');
  assert.equal(WebAssembly.Module.customSections(mod, 'keep').length, 1, 'other custom sections stay');
  assert.equal(new WebAssembly.Instance(mod).exports.add(2, 3), 5, 'the code is untouched');
  assert.deepEqual(stripNames(ADD_WASM), ADD_WASM, 'a module without names is unchanged');
  assert.throws(() => stripNames(Buffer.from('not wasm')), /not a WebAssembly module/);
  assert.throws(() => stripNames(named.subarray(0, named.length - 2)), /truncated/);
});

// Vendored crates: the version names the content (so the shared build cache never holds two
// contents under one version), and only such crates get the old file time that lets a fresh
// clone reuse the cache (scripts/vendor/vendor-times.sh, run by setup.sh).
test('vendored crates: the version names the content hash; vendor-times.sh ages only those that match', { timeout: 60_000 }, () => {
  const hash = (dir) => execFileSync('bash', [path.join(ROOT, 'scripts', 'vendor', 'vendor-hash.sh'), dir], { encoding: 'utf8' }).trim();
  const packageVersion = (toml) => {
    const pkg = toml.split(/^\[/m).find((s) => s.startsWith('package]'));
    return /^version = "([^"]+)"/m.exec(pkg)[1];
  };
  for (const name of fs.readdirSync(path.join(ROOT, 'vendor')).filter((n) => fs.existsSync(path.join(ROOT, 'vendor', n, 'Cargo.toml')))) {
    const version = packageVersion(fs.readFileSync(path.join(ROOT, 'vendor', name, 'Cargo.toml'), 'utf8'));
    const h = hash(path.join(ROOT, 'vendor', name));
    assert.match(h, /^[0-9a-f]{12}$/);
    assert.equal(version.split('+marrowscope.')[1], h, `vendor/${name} changed: set its version to ${version.split('+')[0]}+marrowscope.${h} (vendor/README.md)`);
    assert.ok(fs.readFileSync(path.join(ROOT, 'Cargo.lock'), 'utf8').includes(`name = "${name}"\nversion = "${version}"\n`), `Cargo.lock locks vendor/${name} at ${version}`);
  }

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-vendor-'));
  try {
    const make = (name, body) => {
      const dir = path.join(root, 'vendor', name);
      fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'src', 'lib.rs'), body);
      fs.writeFileSync(path.join(dir, 'Cargo.toml'), `[package]\nname = "${name}"\nversion = "1.0.0"\n\n[dependencies.x]\nversion = "2.0"\n`);
      return dir;
    };
    const setVersion = (dir, v) => {
      const p = path.join(dir, 'Cargo.toml');
      fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace('version = "1.0.0"', `version = "${v}"`));
    };
    const a = make('a', 'pub fn f() {}\n');
    const b = make('b', 'pub fn g() {}\n');
    const c = make('c', 'pub fn h() {}\n');
    const ha = hash(a);
    setVersion(a, `1.0.0+marrowscope.${ha}`);
    assert.equal(hash(a), ha, 'the package version is not part of the hash');
    setVersion(b, `1.0.0+marrowscope.${hash(b)}`);
    fs.writeFileSync(path.join(b, 'src', 'lib.rs'), 'pub fn g() { let _ = 1; }\n'); // changed after its version was set
    assert.notEqual(hash(b), hash(make('b2', 'pub fn g() {}\n')), 'a changed file changes the hash');
    fs.rmSync(path.join(root, 'vendor', 'b2'), { recursive: true });
    const hc = hash(c);
    const dep = path.join(c, 'Cargo.toml');
    fs.writeFileSync(dep, fs.readFileSync(dep, 'utf8').replace('version = "2.0"', 'version = "3.0"'));
    assert.notEqual(hash(c), hc, "a dependency's version is part of the hash");
    // c: content hash matches, but its version carries none (a crate never given one): left alone.

    const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'vendor', 'vendor-times.sh'), root], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const year = (f) => fs.lstatSync(f).mtime.getUTCFullYear();
    assert.equal(year(path.join(a, 'src', 'lib.rs')), 2000);
    assert.equal(year(path.join(a, 'Cargo.toml')), 2000);
    assert.notEqual(year(path.join(b, 'src', 'lib.rs')), 2000, 'changed content keeps its new time: cargo recompiles it');
    assert.notEqual(year(path.join(c, 'src', 'lib.rs')), 2000);
    assert.match(r.stderr, new RegExp(`vendor/b differs.*\\n.*set its version to 1\\.0\\.0\\+marrowscope\\.${hash(b)}`));
    assert.match(r.stderr, /vendor\/c differs/);
    assert.doesNotMatch(r.stderr, /vendor\/a /);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
