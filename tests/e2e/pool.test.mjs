// Issue 17: a pool of classification workers. With 2 workers (`?workers=2`) a batch of marrow
// and blood images gives every file exactly the result one worker gives it (results go to their
// own cells whatever order they arrive in); a worker that runs out of memory costs one file and
// is replaced while the other goes on; the About tab's setting changes the pool and is kept.
// Images per second with 1 and 2 workers are printed, not asserted (speed lives in
// docs/benchmarks.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withApp, waitForCellsSettled, waitForModelReady, MODEL_TIMEOUT, CLASSIFY_TIMEOUT } from './lib.mjs';
import { mixedTestImages, waitForAppReady, crashOneFileMidBatch, waitForSaved } from './flows.mjs';

const T = MODEL_TIMEOUT + 4 * CLASSIFY_TIMEOUT + 120_000;
const N = 48;

/** Classifies `images` with the pool size given in the address; returns the cells and the time. */
async function runWith(app, workers, images) {
  const { page } = app;
  await page.goto(`${app.url}?workers=${workers}&testhooks`, { waitUntil: 'domcontentloaded' });
  await waitForModelReady(page);
  assert.equal(await page.getAttribute('[data-testid=worker-count]', 'data-workers'), String(workers));
  // The worker public/worker-boot.js starts before the page's code is one of the pool, not an
  // extra one (workers of the previous page may take a moment to close).
  let running = page.workers().length;
  for (let i = 0; i < 50 && running !== workers; i++) {
    await new Promise((r) => setTimeout(r, 100));
    running = page.workers().length;
  }
  assert.equal(running, workers, 'the page runs exactly the pool\'s workers');
  const t0 = Date.now();
  await page.setInputFiles('#file-input', images);
  const cells = await waitForCellsSettled(page, { count: images.length });
  const seconds = (Date.now() - t0) / 1000;
  return { cells, seconds };
}

const key = (c) => `${c.state} ${c.predicted} ${c.prob} ${c.set} ${c.ood}`;

test('two workers: every file gets the result one worker gives it; a crash costs one file; the setting is kept', { timeout: T }, async () => {
  const images = mixedTestImages(N).map((r) => r.path);
  await withApp('pool', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    const one = await runWith(app, 1, images);
    // A new session for the second run, so that the list holds only its cells.
    await page.evaluate(() => indexedDB.deleteDatabase('marrowscope'));
    const two = await runWith(app, 2, images.slice().reverse());
    console.log(`pool: ${N} images, 1 worker ${(N / one.seconds).toFixed(1)} images/s, 2 workers ${(N / two.seconds).toFixed(1)} images/s`);
    const byFile = (cells) => Object.fromEntries(cells.map((c) => [c.file, key(c)]));
    const a = byFile(one.cells);
    const b = byFile(two.cells.filter((c) => c.file in a));
    assert.equal(Object.keys(b).length, N, 'the second run has every file');
    assert.equal(two.cells.filter((c) => c.state === 'done').length, two.cells.length, 'every file done');
    assert.deepEqual(b, a, 'each file has the same result with 2 workers as with 1');
    await app.screenshot('pool-two-workers');

    // A worker runs out of memory in the middle of a batch: one file fails, the other worker and
    // the replacement finish the rest.
    await page.evaluate(() => indexedDB.deleteDatabase('marrowscope'));
    await page.goto(`${app.url}?workers=2&testhooks`, { waitUntil: 'domcontentloaded' });
    await waitForModelReady(page);
    const cells = await crashOneFileMidBatch(page, images);
    for (const c of cells.filter((c) => c.state === 'done')) assert.equal(key(c), a[c.file], `${c.file} after the crash`);
    // The last results are written a moment after they are shown (src/ui/persist/flush.rs); leaving
    // before then restores those files as "not classified" (with "Go on"), not as results.
    await waitForSaved(page);

    // The setting: the About tab changes the pool, and the choice is kept for the next visit.
    await page.goto(app.url, { waitUntil: 'domcontentloaded' });
    await waitForModelReady(page);
    await page.click('#tab-about');
    await page.selectOption('#worker-count', '3');
    assert.equal(await page.getAttribute('[data-testid=worker-count]', 'data-workers'), '3');
    assert.equal(await page.evaluate(() => localStorage.getItem('marrowscope-workers')), '3');
    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitForModelReady(page);
    assert.equal(await page.getAttribute('[data-testid=worker-count]', 'data-workers'), '3');
    await page.click('#tab-about');
    await app.screenshot('pool-setting');
    const few = mixedTestImages(6, { skip: N }).map((r) => r.path);
    await page.click('#tab-classify');
    await page.setInputFiles('#file-input', few);
    const after = await waitForCellsSettled(page, { count: 6 + N, timeout: CLASSIFY_TIMEOUT });
    assert.equal(after.filter((c) => c.state === 'done').length, 6 + N - 1, 'three workers classify the new files');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});
