// The sample gallery: one button per dist/gallery/index.json entry; clicking one classifies it;
// "Classify all samples" classifies every sample and, for the classes the model knows, most
// predictions of the samples equal their label (blood samples are scored only for a model that learned from blood; otherwise reported).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withApp, waitForCellsSettled, readCells, MODEL_TIMEOUT, CLASSIFY_TIMEOUT,
} from './lib.mjs';
import { readGallery, readManifest, waitForAppReady } from './flows.mjs';

const MIN_ACCURACY = Number(process.env.E2E_GALLERY_MIN_ACCURACY || 0.5);
const ALL_TIMEOUT = Number(process.env.E2E_BATCH_TIMEOUT || 300_000);

test('gallery samples classify, one and all', { timeout: MODEL_TIMEOUT + CLASSIFY_TIMEOUT + ALL_TIMEOUT + 60_000 }, async (t) => {
  const gallery = readGallery();
  if (gallery.length === 0) {
    t.skip('this build has no gallery (dist/gallery/index.json missing or empty)');
    return;
  }
  const manifest = readManifest();
  const known = new Set(manifest.classes);
  const learnedBlood = Object.values(manifest.class_sources ?? {}).flat().includes('blood');

  await withApp('gallery', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    const items = page.locator('[data-testid=gallery-item]');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=gallery-item]').length === n, gallery.length, { timeout: 30_000 });
    const labels = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));
    assert.deepEqual(labels, gallery.map((g) => g.label), 'gallery buttons follow index.json');
    const sources = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-source')));
    assert.deepEqual(sources, gallery.map((g) => g.source ?? null), 'data-source follows index.json');
    // Every thumbnail loads (they are loading="lazy": make them eager so off-screen ones load too).
    await items.locator('img').evaluateAll((imgs) => imgs.forEach((i) => { i.loading = 'eager'; }));
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid=gallery-item] img')].every((i) => i.complete),
      null,
      { timeout: 30_000 },
    );
    const broken = await items.locator('img').evaluateAll((imgs) => imgs.filter((i) => i.naturalWidth === 0).map((i) => i.getAttribute('src')));
    assert.deepEqual(broken, [], 'gallery thumbnails that did not load');
    // The thumbnails wait for the model: none was requested before the page's model was ready
    // (on a first visit they would compete with the worker's wasm and the model: issue 35).
    const early = await page.evaluate(() => {
      const ready = performance.getEntriesByName('marrowscope:model-ready')[0]?.startTime;
      return { ready, early: performance.getEntriesByType('resource').filter((r) => /\/gallery\/.+\.(jpe?g|png|webp)$/i.test(new URL(r.name).pathname) && !(r.startTime >= ready)).map((r) => r.name) };
    });
    assert.ok(Number.isFinite(early.ready), 'the page marks the moment its model is ready');
    assert.deepEqual(early.early, [], 'gallery thumbnails fetched before the model was ready');
    await app.screenshot('gallery');

    // One click: one cell, classified.
    const marrow = (g) => (g.source ?? 'marrow') === 'marrow';
    const firstIdx = Math.max(0, gallery.findIndex((g) => known.has(g.label) && marrow(g)));
    const first = gallery[firstIdx];
    await items.nth(firstIdx).click();
    const one = await waitForCellsSettled(page, { count: 1 });
    assert.equal(one.length, 1, `one cell after one click: ${JSON.stringify(one)}`);
    assert.equal(one[0].file, first.file.split('/').pop());
    assert.equal(one[0].state, 'done', JSON.stringify(one[0]));
    assert.ok(one[0].predicted, 'a predicted class');
    await page.waitForSelector('[data-testid=result][data-code]', { timeout: 30_000 });
    await app.screenshot('one-sample');

    // Classify all samples (after clearing, so file names are unique).
    await page.click('#clear-batch');
    await page.click('#confirm-clear');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=cell]').length === 0, null, { timeout: 10_000 });
    await page.click('#gallery-all');
    const cells = await waitForCellsSettled(page, { count: gallery.length, timeout: ALL_TIMEOUT });
    assert.equal(cells.length, gallery.length, 'one cell per sample');
    const byFile = new Map(cells.map((c) => [c.file, c]));
    const wrong = [];
    const perClass = {};
    let right = 0;
    let considered = 0;
    const blood = { right: 0, n: 0 };
    for (const g of gallery) {
      const c = byFile.get(g.file.split('/').pop());
      assert.ok(c, `no cell for ${g.file}`);
      assert.equal(c.state, 'done', `${g.file}: ${JSON.stringify(c)}`);
      if (!known.has(g.label)) continue;
      // Blood samples are scored only for a model that learned from peripheral blood; for a
      // marrow-only model they are reported.
      if (!marrow(g) && !learnedBlood) {
        blood.n++;
        if (c.predicted === g.label) blood.right++;
        continue;
      }
      considered++;
      perClass[g.label] ??= { right: 0, n: 0 };
      perClass[g.label].n++;
      if (c.predicted === g.label) {
        right++;
        perClass[g.label].right++;
      } else wrong.push(`${g.file}: label ${g.label}, predicted ${c.predicted} (p=${c.prob})`);
    }
    const acc = considered ? right / considered : 0;
    console.log(`gallery: ${right}/${considered} samples of known classes predicted as labelled (${(acc * 100).toFixed(0)} %)`);
    console.log(`gallery per class: ${Object.entries(perClass).map(([k, v]) => `${k} ${v.right}/${v.n}`).join(', ')}`);
    if (blood.n) console.log(`gallery: ${blood.right}/${blood.n} peripheral-blood samples of known classes predicted as labelled (not scored: the model learned bone marrow only)`);
    if (wrong.length) console.log(`gallery misses:\n  ${wrong.join('\n  ')}`);
    assert.ok(considered > 0, 'no gallery sample of a class the model knows');
    assert.ok(acc >= MIN_ACCURACY, `only ${right}/${considered} gallery samples predicted as labelled:\n${wrong.join('\n')}`);
    const progress = page.locator('[data-testid=progress]');
    assert.equal(await progress.getAttribute('data-done'), String(gallery.length));
    assert.equal(await progress.getAttribute('data-total'), String(gallery.length));
    await app.screenshot('all-samples');
    assert.equal((await readCells(page)).length, gallery.length);
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});
