// Issue 16: the session survives reloads, crashes and refusals. Every change is stored in the
// browser (IndexedDB) and restored on load: 20 cells with 3 reassigned come back after a reload
// with the same list, count, selection and exports; a reload in the middle of a batch keeps what
// was classified and goes on with the rest; files the session could not store are asked for
// after a reload and, dropped again, go on in their own entries; a worker that runs out of memory costs one file;
// storage refused gives a clear message and the app works in memory; two tabs keep their own
// sessions; a new session asks first and the previous one can be reopened or deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { withApp, waitForCellsSettled, waitForModelReady, readCells, downloadVia, MODEL_TIMEOUT, CLASSIFY_TIMEOUT } from './lib.mjs';
import { mixedTestImages, waitForAppReady, selectCell, readManifest, crashOneFileMidBatch, waitForSaved } from './flows.mjs';

const T = MODEL_TIMEOUT + 2 * CLASSIFY_TIMEOUT + 120_000;

async function countRows(page) {
  await page.click('#tab-count');
  const rows = await page.$$eval('[data-testid=count-row]', (els) => els.map((e) => `${e.getAttribute('data-code')}=${e.getAttribute('data-count')}`));
  await page.click('#tab-classify');
  return rows;
}

async function exportsOf(page, label) {
  await page.click('#tab-count');
  const csv = await downloadVia(page, '#export-csv', `session-${label}.csv`);
  const json = await downloadVia(page, '#export-json', `session-${label}.json`);
  await page.click('#tab-classify');
  return { csv: csv.text, json: json.text };
}

const selectedFile = (page) => page.evaluate(() => document.querySelector('[data-testid=cell][data-selected=true]')?.getAttribute('data-file') ?? null);

test('20 cells, 3 reassigned, reload: same list, same count, same selection, same exports', { timeout: T }, async () => {
  const images = mixedTestImages(20).map((r) => r.path);
  await withApp('session-reload', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    await page.waitForSelector('[data-testid=session][data-state=saved]');
    await page.setInputFiles('#file-input', images);
    let cells = await waitForCellsSettled(page, { count: 20 });
    assert.equal(cells.filter((c) => c.state === 'done').length, 20, JSON.stringify(cells));
    const manifest = readManifest();
    for (const c of cells.slice(2, 5)) {
      const code = manifest.classes.find((k) => k !== c.final);
      await page.selectOption(`[data-testid=cell][data-file="${c.file}"] select.reassign`, code);
      await page.waitForFunction(({ f, code }) => document.querySelector(`[data-testid=cell][data-file="${CSS.escape(f)}"]`)?.getAttribute('data-final') === code, { f: c.file, code });
    }
    await selectCell(page, cells[7].file);
    cells = await readCells(page);
    assert.equal(cells.filter((c) => c.final !== c.predicted).length, 3, 'three reassigned');
    const before = { cells, count: await countRows(page), selected: await selectedFile(page), exports: await exportsOf(page, 'before') };
    await waitForSaved(page);
    const panel = await page.locator('[data-testid=session]').evaluate((e) => ({ entries: e.getAttribute('data-entries'), classified: e.getAttribute('data-classified'), id: e.getAttribute('data-session') }));
    assert.deepEqual([panel.entries, panel.classified], ['20', '20'], JSON.stringify(panel));
    await app.screenshot('before-reload');

    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitForModelReady(page);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=cell]').length === 20, null, { timeout: 20_000 });
    const after = { cells: await readCells(page), count: await countRows(page), selected: await selectedFile(page), exports: await exportsOf(page, 'after') };
    assert.equal(await page.getAttribute('[data-testid=session]', 'data-session'), panel.id, 'the same session');
    assert.deepEqual(after.cells, before.cells, 'the list (file, state, predicted, final, probability, set, ood)');
    assert.deepEqual(after.count, before.count, 'the differential count');
    assert.equal(after.selected, before.selected, 'the selection');
    assert.equal(after.exports.csv, before.exports.csv, 'CSV export identical');
    assert.equal(after.exports.json, before.exports.json, 'JSON export identical');
    // The thumbnails and the viewer come from storage.
    const thumbs = await page.$$eval('[data-testid=cell] img.thumb', (imgs) => Promise.all(imgs.map((i) => i.decode().then(() => i.naturalWidth, () => 0))));
    assert.ok(thumbs.every((w) => w > 0), `every thumbnail shows: ${thumbs}`);
    const viewer = await page.locator('#viewer-image').evaluate((i) => i.decode().then(() => i.naturalWidth, () => 0));
    assert.ok(viewer > 0, 'the viewer shows the selected cell');
    await app.screenshot('after-reload');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});

test('a reload in the middle of a batch keeps every cell classified so far and goes on with the rest', { timeout: T }, async () => {
  const N = 200;
  const images = mixedTestImages(N).map((r) => r.path);
  await withApp('session-mid-batch', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    await page.waitForSelector('[data-testid=session][data-state=saved]');
    await page.setInputFiles('#file-input', images);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=cell][data-state=done]').length >= 6, null, { timeout: CLASSIFY_TIMEOUT });
    // Every cell done now must come back. Changes are written within a moment (250 ms, see
    // src/ui/persist/flush.rs): the reload comes 600 ms later, while the batch still runs.
    const doneBefore = (await readCells(page)).filter((c) => c.state === 'done');
    await page.waitForTimeout(600);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitForModelReady(page);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=cell]').length === n, N, { timeout: 30_000 });
    const restored = await readCells(page);
    const doneAfter = restored.filter((c) => c.state === 'done');
    assert.ok(doneAfter.length >= doneBefore.length, `done before the reload ${doneBefore.length}, after ${doneAfter.length}`);
    for (const c of doneBefore) assert.deepEqual(restored.find((r) => r.file === c.file), c, `${c.file} kept as it was`);
    const waiting = restored.filter((c) => c.state === 'waiting');
    assert.equal(doneAfter.length + waiting.length, N, JSON.stringify(restored.map((c) => c.state)));
    assert.ok(waiting.length > 0, 'some files were still waiting');
    const offer = await page.textContent('[data-testid=resume]');
    assert.match(offer, new RegExp(`${waiting.length} images? w(as|ere) not classified`), offer);
    assert.equal(await page.locator('[data-testid=waiting-files]').count(), 0, 'every waiting file is stored: none to drop again');
    await app.screenshot('mid-batch-restored');
    await page.click('#go-on');
    const cells = await waitForCellsSettled(page, { count: N });
    assert.equal(cells.filter((c) => c.state === 'done').length, N, JSON.stringify(cells.filter((c) => c.state !== 'done')));
    assert.equal(new Set(cells.map((c) => c.file)).size, N, 'no file twice');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});

test('files that were not stored: after a reload the page asks for them, and dropped again they go on in their own entries', { timeout: T }, async () => {
  const N = 120;
  const images = mixedTestImages(N).map((r) => r.path);
  const byName = new Map(images.map((p) => [path.basename(p), p]));
  await withApp('session-files-again', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    await page.waitForSelector('[data-testid=session][data-state=saved]');
    await page.setInputFiles('#file-input', images);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=cell][data-state=done]').length >= 4, null, { timeout: CLASSIFY_TIMEOUT });
    // As if the browser had not kept the files (too large to store, say): once every file is
    // stored, the test removes them from the session's storage, then reloads at once.
    const removed = await page.evaluate(async (n) => {
      const req = (r) => new Promise((ok, no) => { r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
      const db = await req(indexedDB.open('marrowscope'));
      const fileKeys = async () => (await req(db.transaction('blobs').objectStore('blobs').getAllKeys())).filter((k) => k[2] === 'file');
      for (let i = 0; i < 300 && (await fileKeys()).length < n; i++) await new Promise((r) => setTimeout(r, 50));
      const keys = await fileKeys();
      const tx = db.transaction('blobs', 'readwrite');
      for (const k of keys) tx.objectStore('blobs').delete(k);
      await new Promise((ok, no) => { tx.oncomplete = ok; tx.onerror = () => no(tx.error); });
      db.close();
      return keys.length;
    }, N);
    assert.equal(removed, N, 'every file was stored before the reload');
    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitForModelReady(page);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=cell]').length === n, N, { timeout: 30_000 });
    const waiting = (await readCells(page)).filter((c) => c.state === 'waiting');
    // More than one task's worth of entries (16, src/ui/entries.rs PUBLISH_CHUNK) get their files back.
    assert.ok(waiting.length > 16, `${waiting.length} files were still waiting`);
    const asked = page.locator('[data-testid=waiting-files]');
    assert.equal(await asked.getAttribute('data-count'), String(waiting.length), await asked.textContent());
    await app.screenshot('files-again-asked');
    // Dropped again: each file goes on in its waiting entry, no new entry.
    await page.setInputFiles('#file-input', waiting.map((c) => byName.get(c.file)));
    const cells = await waitForCellsSettled(page, { count: N });
    assert.equal(cells.length, N, 'no entry added');
    assert.equal(cells.filter((c) => c.state === 'done').length, N, JSON.stringify(cells.filter((c) => c.state !== 'done')));
    assert.equal(await asked.count(), 0, 'nothing asked for any more');
    // The last entry given its file again shows that file beside the crop the model saw.
    await selectCell(page, waiting[waiting.length - 1].file);
    const original = await page.waitForFunction(() => document.querySelector('[data-testid=model-crop] svg image')?.getAttribute('href'), null, { timeout: 10_000 });
    assert.match(await original.jsonValue(), /^blob:/);
    await app.screenshot('files-again-done');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});

test('the worker runs out of memory in the middle of a batch: one file fails, the rest completes', { timeout: T }, async () => {
  const N = 60;
  const images = mixedTestImages(N).map((r) => r.path);
  await withApp('session-worker-crash', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    await page.goto(`${app.url}?testhooks`, { waitUntil: 'domcontentloaded' });
    await waitForModelReady(page);
    await crashOneFileMidBatch(page, images);
    assert.ok(app.consoleMessages.some((m) => /worker/.test(m.text) && m.type === 'error'), 'the crash is logged');
    await page.click('#tab-count');
    const total = await page.$$eval('[data-testid=count-row]', (els) => els.reduce((s, e) => s + Number(e.getAttribute('data-count')), 0));
    assert.equal(total, N - 1, 'the count has every classified cell');
    await page.click('#tab-classify');
    await app.screenshot('worker-crashed');
  });
});

test('storage refused: a clear message, and the app works in memory', { timeout: T }, async () => {
  const images = mixedTestImages(3).map((r) => r.path);
  const refuse = () => {
    IDBFactory.prototype.open = function () {
      throw new DOMException('The user denied permission to access the database.', 'SecurityError');
    };
  };
  await withApp('session-storage-refused', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    const message = await page.textContent('[data-testid=storage-message]', { timeout: 15_000 });
    assert.match(message, /cannot be kept in this browser's storage/, message);
    assert.match(message, /export the count/, message);
    assert.equal(await page.getAttribute('[data-testid=session]', 'data-state'), 'unavailable');
    await page.setInputFiles('#file-input', images);
    const cells = await waitForCellsSettled(page, { count: 3 });
    assert.equal(cells.filter((c) => c.state === 'done').length, 3, JSON.stringify(cells));
    const { csv } = await exportsOf(page, 'refused');
    assert.equal(csv.trim().split('\n').length, 4, 'the export has the 3 cells');
    await app.screenshot('storage-refused');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  }, { onContext: (context) => context.addInitScript(refuse) });
});

test('storage full in the middle of a session: a clear message, nothing on the page lost, the app goes on', { timeout: T }, async () => {
  const images = mixedTestImages(8).map((r) => r.path);
  // The browser's quota runs out once the test says so (window.__storageFull).
  const fill = () => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (...args) {
      if (window.__storageFull) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
  };
  await withApp('session-storage-full', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    await page.waitForSelector('[data-testid=session][data-state=saved]');
    await page.setInputFiles('#file-input', images.slice(0, 4));
    await waitForCellsSettled(page, { count: 4 });
    await waitForSaved(page);
    await page.evaluate(() => { window.__storageFull = true; });
    await page.setInputFiles('#file-input', images.slice(4));
    const message = await page.textContent('[data-testid=storage-message]', { timeout: 15_000 });
    assert.match(message, /storage for this site is full/, message);
    assert.match(message, /export the count/, message);
    const cells = await waitForCellsSettled(page, { count: 8 });
    assert.equal(cells.filter((c) => c.state === 'done').length, 8, JSON.stringify(cells));
    const { csv } = await exportsOf(page, 'full');
    assert.equal(csv.trim().split('\n').length, 9, 'the export has all 8 cells');
    await app.screenshot('storage-full');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  }, { onContext: (context) => context.addInitScript(fill) });
});

test('two tabs keep their own sessions; a new session asks first; sessions reopen and delete', { timeout: T }, async () => {
  const images = mixedTestImages(6).map((r) => r.path);
  await withApp('session-tabs', async (app) => {
    const { page, context } = app;
    await waitForAppReady(page);
    await page.waitForSelector('[data-testid=session][data-state=saved]');
    await page.setInputFiles('#file-input', images.slice(0, 3));
    await waitForCellsSettled(page, { count: 3 });
    await waitForSaved(page);
    const first = await page.getAttribute('[data-testid=session]', 'data-session');

    // A second tab while the first is open: its own, new session.
    const other = await context.newPage();
    await other.goto(app.url, { waitUntil: 'domcontentloaded' });
    await waitForModelReady(other);
    await other.waitForSelector('[data-testid=session][data-state=saved]');
    const second = await other.getAttribute('[data-testid=session]', 'data-session');
    assert.notEqual(second, first, 'the second tab did not take the first tab\'s session');
    assert.equal(await other.locator('[data-testid=cell]').count(), 0);
    await other.setInputFiles('#file-input', images.slice(3, 5));
    await waitForCellsSettled(other, { count: 2 });
    await waitForSaved(other);
    // Opening the first tab's session from the second is refused while the first holds it.
    await other.click('#show-sessions');
    await other.locator(`[data-testid=session-item][data-id="${first}"] [data-testid=open-session]`).click();
    assert.match(await other.textContent('[data-testid=session-message]'), /open in another tab/);
    // The first tab is untouched by the second.
    assert.equal(await page.locator('[data-testid=cell]').count(), 3);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=cell]').length === 3, null, { timeout: 20_000 });
    assert.equal(await page.getAttribute('[data-testid=session]', 'data-session'), first);
    await page.close();

    // With the first tab closed, the second can open its session, after storing its own.
    await other.locator(`[data-testid=session-item][data-id="${first}"] [data-testid=open-session]`).click();
    await other.waitForFunction((id) => document.querySelector('[data-testid=session]')?.getAttribute('data-session') === id, first, { timeout: 15_000 });
    assert.equal(await other.locator('[data-testid=cell]').count(), 3);

    // New session: asks first; "keep" keeps, "start" empties the list and keeps the old one.
    await other.click('#new-session');
    await other.waitForSelector('[data-testid=confirm-new-session]');
    await other.click('#keep-session');
    assert.equal(await other.locator('[data-testid=cell]').count(), 3);
    await other.click('#new-session');
    await other.click('#confirm-new');
    await other.waitForFunction(() => document.querySelectorAll('[data-testid=cell]').length === 0);
    if ((await other.getAttribute('#show-sessions', 'aria-expanded')) !== 'true') await other.click('#show-sessions');
    await other.waitForFunction(() => document.querySelectorAll('[data-testid=session-item]').length === 3, null, { timeout: 10_000 });
    const used = await other.textContent('[data-testid=storage-used]');
    assert.match(used, /Stored in this browser .*: [\d.]+ (kB|MB)/, used);
    await other.screenshot({ path: `${process.cwd()}/tests/e2e/artifacts/session-tabs-list.png`, fullPage: true });
    // Delete the second tab's session (asks first); it leaves the list and the storage.
    await other.locator(`[data-testid=session-item][data-id="${second}"] [data-testid=delete-session]`).click();
    await other.locator(`[data-testid=session-item][data-id="${second}"] [data-testid=confirm-delete]`).click();
    await other.waitForFunction(() => document.querySelectorAll('[data-testid=session-item]').length === 2, null, { timeout: 10_000 });
    const left = await other.evaluate(() => new Promise((resolve, reject) => {
      const req = indexedDB.open('marrowscope');
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const tx = req.result.transaction(['sessions'], 'readonly');
        const all = tx.objectStore('sessions').getAllKeys();
        all.onsuccess = () => resolve(all.result);
      };
    }));
    assert.ok(!left.includes(second) && left.includes(first), `stored sessions: ${left}`);
  });
});
