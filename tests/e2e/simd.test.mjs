// The two worker builds of `bash scripts/build.sh --relaxed-simd` (scripts/build/worker-variants.mjs):
// this Chromium supports relaxed SIMD, so the app loads the relaxed build and the service worker
// precaches only that one; `?simd=baseline` loads the SIMD128 build; both give the same top class
// on real test images. Skipped for a site built without --relaxed-simd (the default).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withApp, waitForCellsSettled, DIST, MODEL_TIMEOUT, CLASSIFY_TIMEOUT } from './lib.mjs';
import { mixedTestImages, waitForAppReady, waitForServiceWorker, startNewSession } from './flows.mjs';

async function runsOn(page) {
  await page.click('#tab-about');
  const text = (await page.locator('[data-testid=simd]').textContent()).trim();
  await page.click('#tab-classify');
  return text;
}

async function classify(page, images) {
  await page.setInputFiles('#file-input', images.map((r) => r.path));
  const cells = await waitForCellsSettled(page, { count: images.length });
  return new Map(cells.map((c) => [c.file, c]));
}

const built = fs.existsSync(path.join(DIST, 'worker_relaxed_bg.wasm'));

test('relaxed-SIMD worker where supported, SIMD128 on request, same answers', { skip: !built && `${DIST} was built without --relaxed-simd`, timeout: 2 * (MODEL_TIMEOUT + CLASSIFY_TIMEOUT) + 120_000 }, async () => {
  const images = mixedTestImages(16);
  await withApp('simd', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    const relaxedText = await runsOn(page);
    assert.match(relaxedText, /with relaxed SIMD/, `About: ${relaxedText}`);
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const cache = await caches.open(names.find((n) => n.startsWith('marrowscope-')));
      return (await cache.keys()).map((r) => new URL(r.url).pathname.split('/').pop());
    });
    assert.ok(cached.includes('worker_relaxed_bg.wasm'), `precached: ${cached.join(' ')}`);
    assert.ok(!cached.includes('worker_bg.wasm'), 'the SIMD128 build is not precached where relaxed SIMD works');
    const relaxed = await classify(page, images);

    await page.goto(`${app.url}?simd=baseline`, { waitUntil: 'domcontentloaded' });
    await waitForServiceWorker(page);
    await waitForAppReady(page);
    // The first build's cells are restored from the browser's storage: start afresh.
    await startNewSession(page);
    const baseText = await runsOn(page);
    assert.match(baseText, /without relaxed SIMD/, `About with ?simd=baseline: ${baseText}`);
    const baseline = await classify(page, images);

    // The two builds round differently (relaxed SIMD uses fused multiply-add in tract's f32
    // kernels), and in an int8 graph a rounding difference can move a requantised value by one
    // step, so probabilities differ by a little (as native tract and onnxruntime do). The top class
    // must agree except on near-ties (top probability below 0.5 in both builds).
    let maxDiff = 0;
    let same = 0;
    const rows = [];
    for (const img of images) {
      const name = path.basename(img.path);
      const a = relaxed.get(name);
      const b = baseline.get(name);
      assert.equal(a?.state, 'done', `${name} (relaxed): ${JSON.stringify(a)}`);
      assert.equal(b?.state, 'done', `${name} (baseline): ${JSON.stringify(b)}`);
      rows.push(`${name}: relaxed ${a.predicted} ${a.prob}, SIMD128 ${b.predicted} ${b.prob}`);
      if (a.predicted === b.predicted) {
        same += 1;
        maxDiff = Math.max(maxDiff, Math.abs(Number(a.prob) - Number(b.prob)));
      } else {
        assert.ok(Number(a.prob) < 0.5 && Number(b.prob) < 0.5, `the builds disagree on a confident image:\n${rows.join('\n')}`);
      }
    }
    console.log(`relaxed vs SIMD128 on ${images.length} images: same top class on ${same}, largest difference of its probability ${maxDiff.toFixed(4)}`);
    assert.ok(same >= images.length - 2, rows.join('\n'));
    assert.ok(maxDiff < 0.03, `largest probability difference ${maxDiff}\n${rows.join('\n')}`);
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});
