// Offline and sub-path: the service worker registers and takes control; with the network gone
// (context offline AND server stopped) a reload still loads the app and the model from the cache
// and classifies a real image. The app also works when served under /marrowscope/.
// Plus: the service worker taking control on the first visit must not reload the page (which
// would throw away a batch the person already started).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  withApp, waitForModelReady, waitForCellsSettled, readCells, testImages, MODEL_TIMEOUT, CLASSIFY_TIMEOUT,
} from './lib.mjs';
import { waitForServiceWorker, trackNavigations, evalRetry, cachedPaths, SW_TIMEOUT } from './flows.mjs';

test('first visit: the service worker taking control does not reload away the batch', { timeout: MODEL_TIMEOUT + CLASSIFY_TIMEOUT + SW_TIMEOUT + 60_000 }, async () => {
  const [img] = testImages('NGS', 1);
  await withApp('sw-first-visit', async (app) => {
    const { page } = app;
    const navs = trackNavigations(page);
    await waitForModelReady(page);
    await page.setInputFiles('#file-input', img.path);
    await waitForCellsSettled(page, { count: 1 });
    await waitForServiceWorker(page);
    await page.waitForTimeout(2000);
    const cells = await evalRetry(page, () => document.querySelectorAll('[data-testid=cell]').length);
    await app.screenshot('after-sw-control');
    assert.deepEqual(navs.slice(1), [], `the page navigated again after the first load: ${navs.join(', ')}`);
    assert.equal(cells, 1, 'the classified cell is still there once the service worker controls the page');
  });
});

test('works offline after the first visit', { timeout: 2 * MODEL_TIMEOUT + CLASSIFY_TIMEOUT + SW_TIMEOUT + 60_000 }, async () => {
  const [img] = testImages('LYT', 1);
  await withApp('offline', async (app) => {
    const { page, context } = app;
    await waitForServiceWorker(page);
    await waitForModelReady(page);
    const { names, paths } = await cachedPaths(page);
    const cache = { names, count: paths.length, model: paths.filter((u) => u.includes('/model/')), sample: paths.slice(0, 5) };
    console.log(`offline: caches ${JSON.stringify(cache)}`);
    assert.ok(cache.model.some((u) => u.endsWith('.onnx')), 'the model is precached');

    // Network gone: both emulated offline and the server stopped.
    await context.setOffline(true);
    await app.server.stop();
    const before = app.requests.length;
    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitForModelReady(page);
    assert.equal(await page.evaluate(() => !!navigator.serviceWorker.controller), true, 'controlled after the reload');
    await page.setInputFiles('#file-input', img.path);
    const cells = await waitForCellsSettled(page, { count: 1 });
    assert.equal(cells[0].state, 'done', JSON.stringify(cells));
    assert.ok(cells[0].predicted);
    // The gallery also comes from the cache when it was precached.
    const gallery = await page.evaluate(() => ({
      items: document.querySelectorAll('[data-testid=gallery-item]').length,
      missing: !!document.querySelector('[data-testid=gallery-missing]'),
    }));
    console.log(`offline: gallery ${JSON.stringify(gallery)}; ${app.requests.length - before} requests after going offline`);
    await app.screenshot('offline-classified');
    const failed = app.failedRequests.filter((r) => !r.url.startsWith('blob:') && !r.url.startsWith('data:'));
    if (failed.length) console.log(`offline: failed requests: ${JSON.stringify(failed.slice(0, 10))}`);
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});

test('works under a sub-path (/marrowscope/)', { timeout: MODEL_TIMEOUT + CLASSIFY_TIMEOUT + SW_TIMEOUT + 60_000 }, async () => {
  const [img] = testImages('EOS', 1);
  await withApp(
    'subpath',
    async (app) => {
      const { page } = app;
      assert.match(app.url, /\/marrowscope\/$/);
      await waitForServiceWorker(page);
      await waitForModelReady(page);
      await page.setInputFiles('#file-input', img.path);
      const cells = await waitForCellsSettled(page, { count: 1 });
      assert.equal(cells[0].state, 'done', JSON.stringify(cells));
      assert.equal(cells[0].file, path.basename(img.path));
      const scope = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.scope);
      assert.ok(scope?.endsWith('/marrowscope/'), `service worker scope ${scope}`);
      await page.click('#tab-atlas');
      await page.waitForSelector('[data-testid=atlas-class]');
      await page.click('#tab-classify');
      await app.screenshot('subpath');
      const bad = app.server.requests.filter((r) => r.status >= 400 || !r.url.startsWith('/marrowscope/'));
      assert.deepEqual(bad, [], 'every request under /marrowscope/ and answered');
      assert.equal((await readCells(page)).length, 1);
      assert.deepEqual(app.pageErrors, [], 'page errors');
    },
    { base: '/marrowscope/' },
  );
});
