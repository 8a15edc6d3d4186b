// Extra helpers for the flow tests (gallery, batch, count, viewer, pages, own-model,
// offline, integrity). Not a test file itself (node --test only picks up *.test.mjs).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIST, ROOT, ARTIFACTS, readSplits, readCsv, singleCellTestRows, safeName, waitForModelReady, waitForCellsSettled, CLASSIFY_TIMEOUT } from './lib.mjs';

export const SW_TIMEOUT = Number(process.env.E2E_SW_TIMEOUT || 120_000);

/** The built site's model manifest (dist/model/manifest.json). */
export function readManifest(dist = DIST) {
  return JSON.parse(fs.readFileSync(path.join(dist, 'model', 'manifest.json'), 'utf8'));
}

/** The built site's gallery index ([{file, label, source, dataset, original}]), or [] when the build has no gallery. */
export function readGallery(dist = DIST) {
  const f = path.join(dist, 'gallery', 'index.json');
  if (!fs.existsSync(f)) return [];
  return JSON.parse(fs.readFileSync(f, 'utf8'));
}

/** The classes that are not MLL classes but that the atlas and a model may show (taxonomy::EXTRA). */
export const EXTRA_CODES = ['PLT'];

/**
 * code -> keyboard key, parsed from src/taxonomy.rs (the single source of truth): the 21 MLL
 * classes and the extra ones (platelets).
 */
export function taxonomyKeys() {
  const src = fs.readFileSync(path.join(ROOT, 'src', 'taxonomy.rs'), 'utf8');
  const keys = {};
  for (const m of src.matchAll(/code:\s*"([A-Z]{3})"[^}]*?key:\s*'(.)'/g)) keys[m[1]] = m[2];
  const want = 21 + EXTRA_CODES.length;
  if (Object.keys(keys).length !== want) throw new Error(`parsed ${Object.keys(keys).length} class keys from taxonomy.rs, expected ${want}`);
  return keys;
}

/**
 * `n` test-split images of mixed classes: round-robin over the classes (sorted), skipping
 * the first `skip` picks. Only classes in `onlyClasses` when given.
 */
export function mixedTestImages(n, { skip = 0, onlyClasses = null } = {}) {
  const byLabel = new Map();
  for (const r of singleCellTestRows()) {
    if (onlyClasses && !onlyClasses.includes(r.label)) continue;
    if (!byLabel.has(r.label)) byLabel.set(r.label, []);
    byLabel.get(r.label).push(r);
  }
  const labels = [...byLabel.keys()].sort();
  const out = [];
  for (let i = 0; out.length < n + skip; i++) {
    let added = false;
    for (const l of labels) {
      const rows = byLabel.get(l);
      if (i < rows.length) {
        out.push(rows[i]);
        added = true;
        if (out.length >= n + skip) break;
      }
    }
    if (!added) throw new Error(`only ${out.length} test images available, wanted ${n + skip}`);
  }
  return out.slice(skip);
}

/** Test-split classes the model knows, in manifest order (those that have test images). */
export function knownTestClasses(manifest) {
  const withTest = new Set(readSplits().filter((r) => r.split === 'test').map((r) => r.label));
  return manifest.classes.filter((c) => withTest.has(c));
}

/**
 * `n` PBC test crops (Acevedo et al. 2020) round-robin over `codes` (default: every class with an
 * MLL code, sorted), each as `{ path, code }`. Data: `PBC_DATA` or `../shared/data/pbc`.
 */
export function pbcTestCrops(n, codes = null) {
  const pbc = path.resolve(ROOT, process.env.PBC_DATA || '../shared/data/pbc');
  const rows = readCsv(path.join(pbc, 'splits.csv')).filter((r) => r.split === 'test' && r.mll_code);
  const by = {};
  for (const r of rows) (by[r.mll_code] ??= []).push({ path: path.join(pbc, r.path), code: r.mll_code });
  const order = codes ?? Object.keys(by).sort();
  const out = [];
  for (let i = 0; out.length < n; i++) {
    const before = out.length;
    for (const c of order) if (out.length < n && by[c]?.[i]) out.push(by[c][i]);
    if (out.length === before) throw new Error(`only ${out.length} PBC test crops, wanted ${n}`);
  }
  return out;
}

/** Copy a built site into a fresh temp dir. Returns the dir (caller removes it). */
export function copyDist(prefix = 'marrowscope-dist-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.cpSync(DIST, dir, { recursive: true });
  return dir;
}

/** A path inside tests/e2e/artifacts for an element screenshot etc. */
export function artifact(name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, safeName(name));
}

/** Wait until [data-testid=model-status] has data-state=error; returns the error text. */
export async function waitForModelError(page, timeout = 120_000) {
  const h = await page.waitForFunction(
    () => {
      const el = document.querySelector('[data-testid=model-status]');
      if (el?.getAttribute('data-state') !== 'error') return false;
      return document.querySelector('[data-testid=model-error]')?.textContent?.trim() || '(no [data-testid=model-error] text)';
    },
    null,
    { timeout, polling: 250 },
  );
  return h.jsonValue();
}

/** Click a cell row on its name (clicking its centre could land on the reassign <select>). */
export async function selectCell(page, fileName) {
  const cell = page.locator(`[data-testid=cell][data-file="${fileName.replace(/"/g, '\\"')}"]`);
  await cell.locator('.cell-name').click();
  await page.waitForFunction(
    (f) => document.querySelector(`[data-testid=cell][data-file="${CSS.escape(f)}"]`)?.getAttribute('data-selected') === 'true',
    fileName,
    { timeout: 10_000 },
  );
  return cell;
}

/** Main-frame navigations (URLs) of a page, from now on. */
export function trackNavigations(page) {
  const navs = [];
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navs.push(f.url());
  });
  return navs;
}

/** evaluate() that retries while the page navigates (the SW may reload it). */
export async function evalRetry(page, fn, arg) {
  for (let i = 0; ; i++) {
    try {
      return await page.evaluate(fn, arg);
    } catch (e) {
      if (i >= 20 || !/context was destroyed|navigation|Target closed/i.test(String(e))) throw e;
      await page.waitForLoadState('domcontentloaded').catch(() => {});
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Wait until data-sw=registered and the page is controlled by the service worker. */
export async function waitForServiceWorker(page, timeout = SW_TIMEOUT) {
  const deadline = Date.now() + timeout;
  let reloaded = false;
  let activeSince = null;
  for (;;) {
    const s = await evalRetry(page, async () => {
      const reg = await navigator.serviceWorker?.getRegistration();
      return {
        registered: document.documentElement.getAttribute('data-sw') === 'registered',
        controlled: !!navigator.serviceWorker?.controller,
        active: reg?.active?.state ?? null,
      };
    });
    if (s.registered && s.controlled) {
      // Controlled: make sure no reload (controllerchange) is under way: the same document,
      // still controlled, a second later.
      const mark = `m${Date.now()}`;
      await evalRetry(page, (m) => { window.__swSettled = m; }, mark);
      await new Promise((r) => setTimeout(r, 1000));
      await page.waitForLoadState('load').catch(() => {});
      const same = await evalRetry(page, (m) => window.__swSettled === m && !!navigator.serviceWorker.controller, mark);
      if (same) return { reloaded };
      continue;
    }
    if (s.active === 'activated') {
      activeSince ??= Date.now();
      if (!reloaded && Date.now() - activeSince > 5000) {
        // Activated (and claimed) but this page is still not controlled: reload once.
        reloaded = true;
        await page.reload({ waitUntil: 'domcontentloaded' });
      }
    }
    if (Date.now() > deadline) throw new Error(`service worker not controlling after ${timeout} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * The app is settled: the service worker controls the page (on a first visit it claims the
 * page, and public/sw-register.js then reloads it, which would throw away any batch already
 * started; see offline.test.mjs) and the model is ready. E2E_NO_SW_WAIT=1 skips the first part.
 */
export async function waitForAppReady(page) {
  if (!process.env.E2E_NO_SW_WAIT) await waitForServiceWorker(page);
  await waitForModelReady(page);
}

/** Starts a new, empty session (the current one stays stored), as a person would. */
export async function startNewSession(page) {
  await page.waitForSelector('[data-testid=session]:not([data-state=starting])');
  if ((await page.locator('[data-testid=cell], [data-testid=field]').count()) === 0) return;
  await page.click('#new-session');
  await page.click('#confirm-new');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=cell], [data-testid=field]').length === 0, null, { timeout: 15_000 });
}

/** Waits until the session panel says everything up to now is stored. */
export async function waitForSaved(page) {
  // Changes are gathered for a moment before they are written (src/ui/persist/flush.rs).
  await page.waitForTimeout(100);
  await page.waitForFunction(
    () => {
      const s = document.querySelector('[data-testid=session]');
      return s?.getAttribute('data-state') === 'saved' && s.getAttribute('data-unsaved') === 'false';
    },
    null,
    { timeout: 15_000 },
  );
}

/**
 * Hands `images` to a page opened with `?testhooks`, and once 4 are done makes the worker that
 * gets the next file run out of memory on it (`window.marrowscopeTest`). Asserts that exactly
 * that file failed, with the classifier's message, and every other file is done; returns the cells.
 */
export async function crashOneFileMidBatch(page, images) {
  await page.setInputFiles('#file-input', images);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=cell][data-state=done]').length >= 4, null, { timeout: CLASSIFY_TIMEOUT });
  await page.evaluate(() => window.marrowscopeTest.crashWorkerOnNextFile());
  const cells = await waitForCellsSettled(page, { count: images.length });
  const failed = cells.filter((c) => c.state === 'error');
  assert.equal(failed.length, 1, `one file failed: ${JSON.stringify(failed)}`);
  assert.match(failed[0].error, /stopped the classifier/, failed[0].error);
  assert.equal(cells.filter((c) => c.state === 'done').length, images.length - 1, JSON.stringify(cells.map((c) => c.state)));
  return cells;
}

/** The service worker's cache: its names and the paths of the first one's entries. */
export async function cachedPaths(page) {
  return page.evaluate(async () => {
    const names = await caches.keys();
    const paths = names.length ? (await (await caches.open(names[0])).keys()).map((r) => new URL(r.url).pathname) : [];
    return { names, paths };
  });
}
