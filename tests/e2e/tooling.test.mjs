// Self-test of scripts/serve.mjs and scripts/gen-sw.mjs on a small made-up site (no app build
// needed): MIME types, the sub-path base, CSP header, 404/405, SIGTERM; the service worker
// precaches under a sub-path, serves offline, and updates only after {type: 'SKIP_WAITING'}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startServer, launchBrowser } from './lib.mjs';

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

function genSw(dir) {
  return execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-sw.mjs'), dir], { encoding: 'utf8' });
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
    assert.equal(await page.textContent('#h'), 'add=5');
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
    assert.equal(await page.textContent('#h'), 'add=5');
    await page.goto(server.url + '?from=bookmark');
    assert.equal(await page.textContent('#h'), 'add=5');

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

