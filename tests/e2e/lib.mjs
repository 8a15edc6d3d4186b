// Shared helpers for Marrowscope's Playwright end-to-end tests (node --test tests/e2e/).
//
// Environment:
//   DIST      built app folder to serve (default: dist)
//   BASE      path the app is served under (default: /), e.g. /marrowscope/
//   MLL_DATA  dataset folder with splits.csv (default: ../shared/data/mll-subset)
//   CHROMIUM  browser binary (default: /usr/bin/chromium)
//   PYTHON    python with Pillow for scripts/data/make-bad-inputs.py (default: first of
//             .tools/py/bin/python, .venv/bin/python, python3 that can import PIL)
//   E2E_URL   an already running server of DIST at path / to test instead of starting one:
//             scripts/test.sh starts the README's first command (`bash scripts/dev.sh`) and sets
//             it, so the suite tests the site users get. Tests that need the server's own request
//             log or another base path still start their own server (`ownServer: true`).
//   E2E_SLOWMO / E2E_HEADFUL  debugging aids
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCsvText } from 'csv-parse/sync';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
export const ARTIFACTS = path.join(HERE, 'artifacts');
export const DIST = path.resolve(ROOT, process.env.DIST || 'dist');
export const BASE = normaliseBase(process.env.BASE || '/');
export const MLL_DATA = path.resolve(ROOT, process.env.MLL_DATA || '../shared/data/mll-subset');
/** BCCD smear fields (JPEGImages/, Annotations/, ImageSets/). */
export const BCCD_DATA = path.resolve(ROOT, process.env.BCCD_DATA || '../shared/data/bccd');
/** The server started by the README's first command, when scripts/test.sh runs the suite. */
export const E2E_URL = process.env.E2E_URL || null;

/** Generous defaults: a debug wasm build can take a minute to load the model. */
export const MODEL_TIMEOUT = Number(process.env.E2E_MODEL_TIMEOUT || 120_000);
export const CLASSIFY_TIMEOUT = Number(process.env.E2E_CLASSIFY_TIMEOUT || 120_000);

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-quic',
  '--no-first-run',
  '--disable-sync',
];

function normaliseBase(b) {
  let s = b.trim();
  if (!s.startsWith('/')) s = '/' + s;
  if (!s.endsWith('/')) s += '/';
  return s;
}

export function safeName(s) {
  return String(s).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}

/**
 * Start scripts/serve.mjs (on a free port unless `port` is given). Returns {url, origin, requests, stop()}.
 * `requests` collects the server's own log lines ({method, url, status, bodyBytes}).
 */
export async function startServer({ dist = DIST, base = BASE, port = 0, extraArgs = [] } = {}) {
  if (!fs.existsSync(path.join(dist, 'index.html'))) {
    throw new Error(`${dist}/index.html not found: build the app first (trunk build), or set DIST`);
  }
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'scripts', 'serve.mjs'), '--dir', dist, '--port', String(port), '--host', '127.0.0.1', '--base', base, '--log', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const requests = [];
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`serve.mjs did not start: ${stderr}`)), 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve.mjs exited with ${code}: ${stderr}`));
    });
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^Serving .* at (http:\/\/\S+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        } else if (line.startsWith('{')) {
          try {
            const j = JSON.parse(line);
            if (j.log === 'request') requests.push(j);
          } catch {
            /* ignore */
          }
        }
      }
    });
  });
  const origin = new URL(url).origin;
  return {
    url,
    origin,
    requests,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** A server this process did not start (E2E_URL): no request log, nothing to stop. */
export function externalServer(url) {
  const u = new URL(url);
  return { url: u.href, origin: u.origin, requests: [], external: true, async stop() {} };
}

function browserOptions(extraArgs = []) {
  return {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: !process.env.E2E_HEADFUL,
    slowMo: Number(process.env.E2E_SLOWMO || 0),
    // CHROMIUM_EXTRA_ARGS: more switches, space-separated (experiments, e.g. V8's --js-flags).
    args: [...CHROMIUM_ARGS, ...(process.env.CHROMIUM_EXTRA_ARGS || '').split(' ').filter(Boolean), ...extraArgs],
  };
}

/** `extraArgs`: more Chromium switches (e.g. the fake camera's, tests/e2e/camera.test.mjs). */
export async function launchBrowser(extraArgs = []) {
  return chromium.launch(browserOptions(extraArgs));
}

/** A browser context with its profile on disk in `dir`, as a visitor's browser has: Chromium
 * keeps compiled code between visits (V8's code cache) only in such a profile; the contexts that
 * `launchBrowser().newContext()` makes are off the record. Closing the context closes the browser. */
export async function launchProfile(dir, contextOptions = {}) {
  return chromium.launchPersistentContext(dir, { ...browserOptions(), ...contextOptions });
}

/**
 * Start the server and the browser and open the app.
 * Returns an `app` object:
 *   page, context, browser, server, url, origin,
 *   consoleMessages [{type, text}], pageErrors [string], requests [{url, method, resourceType,
 *   postData, hasBody, fromServiceWorker, frameUrl}], failedRequests,
 *   screenshot(label), saveLogs(), close()
 */
export async function openApp(name, { dist = DIST, base = BASE, viewport = { width: 1280, height: 900 }, serverArgs = [], ownServer = false, onContext, browserArgs = [] } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const useExternal = E2E_URL && !ownServer && dist === DIST && base === '/' && serverArgs.length === 0;
  const server = useExternal ? externalServer(E2E_URL) : await startServer({ dist, base, extraArgs: serverArgs });
  let browser;
  try {
    browser = await launchBrowser(browserArgs);
    const context = await browser.newContext({ acceptDownloads: true, viewport });
    const app = {
      name,
      server,
      browser,
      context,
      url: server.url,
      origin: server.origin,
      consoleMessages: [],
      pageErrors: [],
      requests: [],
      failedRequests: [],
    };
    context.on('request', (req) => {
      let postData = null;
      try {
        postData = req.postDataBuffer();
      } catch {
        /* ignore */
      }
      let frameUrl = null;
      try {
        frameUrl = req.frame()?.url() ?? null;
      } catch {
        /* service-worker requests have no frame */
      }
      app.requests.push({
        url: req.url(),
        method: req.method(),
        resourceType: req.resourceType(),
        hasBody: postData !== null && postData.length > 0,
        bodyBytes: postData ? postData.length : 0,
        fromServiceWorker: !!req.serviceWorker?.(),
        frameUrl,
      });
    });
    context.on('requestfailed', (req) => {
      app.failedRequests.push({ url: req.url(), method: req.method(), error: req.failure()?.errorText });
    });
    if (onContext) await onContext(context, app);
    const page = await context.newPage();
    app.page = page;
    page.on('console', (msg) => app.consoleMessages.push({ type: msg.type(), text: msg.text() }));
    page.on('pageerror', (err) => app.pageErrors.push(String(err?.stack || err)));
    page.on('crash', () => app.pageErrors.push('page crashed'));
    page.setDefaultTimeout(30_000);

    app.screenshot = async (label) => {
      const file = path.join(ARTIFACTS, `${safeName(name)}-${safeName(label)}.png`);
      try {
        await page.screenshot({ path: file, fullPage: true, timeout: 20_000 });
      } catch (e) {
        return null;
      }
      return file;
    };
    app.saveLogs = () => {
      const file = path.join(ARTIFACTS, `${safeName(name)}-log.json`);
      fs.writeFileSync(
        file,
        JSON.stringify(
          {
            url: app.url,
            consoleMessages: app.consoleMessages,
            pageErrors: app.pageErrors,
            requests: app.requests,
            failedRequests: app.failedRequests,
            serverRequests: server.requests,
          },
          null,
          2,
        ),
      );
      return file;
    };
    app.close = async () => {
      try {
        app.saveLogs();
      } catch {
        /* ignore */
      }
      await browser.close().catch(() => {});
      await server.stop();
    };

    await page.goto(server.url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    return app;
  } catch (e) {
    await browser?.close().catch(() => {});
    await server.stop();
    throw e;
  }
}

/**
 * Run `body(app)` with an open app; on failure, takes a `failure` screenshot and appends
 * console/page errors to the error message. Always closes browser and server.
 */
export async function withApp(name, body, opts) {
  const app = await openApp(name, opts);
  try {
    return await body(app);
  } catch (e) {
    await app.screenshot('failure');
    const tail = app.consoleMessages.slice(-15).map((m) => `  [${m.type}] ${m.text}`).join('\n');
    const errs = app.pageErrors.map((s) => `  ${s.split('\n')[0]}`).join('\n');
    e.message += `\n--- last console messages:\n${tail || '  (none)'}\n--- page errors:\n${errs || '  (none)'}`;
    throw e;
  } finally {
    await app.close();
  }
}

/** Wait for [data-testid=model-status] to reach data-state=ready; fail early on "error". */
export async function waitForModelReady(page, timeout = MODEL_TIMEOUT) {
  const handle = await page.waitForFunction(
    () => {
      const el = document.querySelector('[data-testid=model-status]');
      const s = el?.getAttribute('data-state');
      if (s === 'ready') return { state: s };
      if (s === 'error') {
        const msg = document.querySelector('[data-testid=model-error]')?.textContent?.trim() || '';
        return { state: s, msg };
      }
      return false;
    },
    null,
    { timeout, polling: 250 },
  );
  const r = await handle.jsonValue();
  if (r.state !== 'ready') throw new Error(`model failed to load: ${r.msg}`);
}

/** Snapshot of every [data-testid=cell]. */
export async function readCells(page) {
  return page.$$eval('[data-testid=cell]', (els) =>
    els.map((el) => ({
      file: el.getAttribute('data-file'),
      state: el.getAttribute('data-state'),
      predicted: el.getAttribute('data-predicted'),
      final: el.getAttribute('data-final'),
      prob: el.getAttribute('data-prob'),
      set: el.getAttribute('data-set'),
      ood: el.getAttribute('data-ood'),
      error: el.querySelector('[data-testid=cell-error]')?.textContent?.trim() ?? null,
    })),
  );
}

const SETTLED = ['done', 'error', 'cancelled'];

/**
 * Wait until at least `count` cells exist (when given) and every cell is done/error/cancelled.
 * Returns readCells().
 */
export async function waitForCellsSettled(page, { count = 1, timeout = CLASSIFY_TIMEOUT } = {}) {
  await page.waitForFunction(
    ({ count, settled }) => {
      const cells = [...document.querySelectorAll('[data-testid=cell]')];
      return cells.length >= count && cells.every((c) => settled.includes(c.getAttribute('data-state')));
    },
    { count, settled: SETTLED },
    { timeout, polling: 500 },
  );
  return readCells(page);
}

/** Locator of the cell for one file name. */
export function cellLocator(page, fileName) {
  return page.locator(`[data-testid=cell][data-file="${cssString(fileName)}"]`);
}

function cssString(s) {
  return String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** CSV text (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes) as rows of strings; blank lines skipped. */
export function parseCsv(text) {
  return parseCsvText(text, { relax_column_count: true, skip_empty_lines: true });
}

/** A CSV file with a header row as one object per row, keyed by the header's column names. */
export function readCsv(file) {
  return parseCsvText(fs.readFileSync(file, 'utf8'), { columns: true, relax_column_count: true, skip_empty_lines: true });
}

/** Parse splits.csv of the MLL subset: [{path (absolute), label, split}]. */
export function readSplits(dataDir = MLL_DATA) {
  const csv = path.join(dataDir, 'splits.csv');
  if (!fs.existsSync(csv)) throw new Error(`${csv} not found (set MLL_DATA to the mll-subset folder)`);
  return readCsv(csv).map((r) => ({ path: path.join(dataDir, r.path), label: r.label, split: r.split }));
}

/** MLL test crops the app reads as fields (tests/e2e/field-like-crops.txt), as absolute paths. */
export function fieldLikeCrops(dataDir = MLL_DATA) {
  const list = path.join(ROOT, 'tests', 'e2e', 'field-like-crops.txt');
  return new Set(fs.readFileSync(list, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => path.join(dataDir, l)));
}

/** Test-split rows that are single-cell crops for the app (not in `fieldLikeCrops`). */
export function singleCellTestRows(dataDir = MLL_DATA) {
  const skip = fieldLikeCrops(dataDir);
  return readSplits(dataDir).filter((r) => r.split === 'test' && !skip.has(r.path));
}

/** First `n` rows of the test split with the given label (or any label when null), in file order. */
export function testImages(label, n = 1, dataDir = MLL_DATA) {
  const rows = singleCellTestRows(dataDir).filter((r) => label == null || r.label === label);
  if (rows.length < n) throw new Error(`only ${rows.length} test images of ${label} in ${dataDir}`);
  return rows.slice(0, n);
}

/** One test image of each of `n` different classes (first test row of each class, sorted by class). */
export function testImagesOfDistinctClasses(n, dataDir = MLL_DATA) {
  const byLabel = new Map();
  for (const r of singleCellTestRows(dataDir)) {
    if (!byLabel.has(r.label)) byLabel.set(r.label, r);
  }
  const rows = [...byLabel.keys()].sort().map((k) => byLabel.get(k));
  if (rows.length < n) throw new Error(`only ${rows.length} classes in the test split`);
  return rows.slice(0, n);
}

/** A python that can import PIL (for scripts/data/make-bad-inputs.py). */
export function findPython() {
  const candidates = [
    process.env.PYTHON,
    path.join(ROOT, '.tools', 'py', 'bin', 'python'),
    path.join(ROOT, '.venv', 'bin', 'python'),
    'python3',
  ].filter(Boolean);
  for (const py of candidates) {
    if (py.includes(path.sep) && !fs.existsSync(py)) continue;
    const r = spawnSync(py, ['-c', 'import PIL'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  throw new Error('no python with Pillow found (pip install pillow, or set PYTHON)');
}

/** Generate the bad-input corpus into a fresh temp dir. Returns {dir, expected}. */
export function makeBadInputs() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-bad-'));
  const args = [path.join(ROOT, 'scripts', 'data', 'make-bad-inputs.py'), dir];
  const real = path.join(MLL_DATA, 'images', 'LYT');
  if (fs.existsSync(real)) args.push(real);
  const r = spawnSync(findPython(), args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-bad-inputs.py failed (${r.status}): ${r.stderr}`);
  const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  return { dir, expected };
}

/** Wait for a download triggered by clicking `selector`; saves it into artifacts. Returns {file, text}. */
export async function downloadVia(page, selector, saveAs) {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click(selector)]);
  const file = path.join(ARTIFACTS, saveAs || safeName(download.suggestedFilename()));
  await download.saveAs(file);
  return { file, text: fs.readFileSync(file, 'utf8'), suggestedFilename: download.suggestedFilename(), url: download.url() };
}

/** The page still answers: JS runs and the DOM responds to a click. */
export async function assertResponsive(page) {
  const v = await Promise.race([
    page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(1 + 1)))),
    new Promise((_, rej) => setTimeout(() => rej(new Error('page did not respond within 10 s')), 10_000)),
  ]);
  if (v !== 2) throw new Error('page evaluate returned a wrong value');
}

/** WBC boxes [xmin, ymin, xmax, ymax] of a BCCD field, as its authors drew them. */
export function bccdWbcBoxes(id, dataDir = BCCD_DATA) {
  const xml = fs.readFileSync(path.join(dataDir, 'Annotations', `${id}.xml`), 'utf8');
  return xml.split('<object>').slice(1).filter((o) => o.includes('<name>WBC</name>')).map((o) =>
    ['xmin', 'ymin', 'xmax', 'ymax'].map((t) => Number(o.match(new RegExp(`<${t}>\\s*([-\\d.]+)\\s*<`))[1])));
}

/** The ids of BCCD's test split, in file order. */
export function bccdTestIds(dataDir = BCCD_DATA) {
  return fs.readFileSync(path.join(dataDir, 'ImageSets', 'test.txt'), 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
}
