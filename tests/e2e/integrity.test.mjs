// A damaged download: a copy of the site whose model file is cut to half its size. The model
// status turns to "error" with a message about the checksum / incomplete download; the rest of
// the page (tabs, atlas, about) still works and nothing throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withApp, testImages, readCells, MODEL_TIMEOUT } from './lib.mjs';
import { readManifest, copyDist, waitForModelError, waitForServiceWorker, EXTRA_CODES } from './flows.mjs';

test('a truncated model file is reported, the page stays usable', { timeout: MODEL_TIMEOUT + 90_000 }, async () => {
  const manifest = readManifest();
  const dir = copyDist('marrowscope-truncated-');
  try {
    const onnx = path.join(dir, 'model', manifest.onnx_file);
    const size = fs.statSync(onnx).size;
    fs.truncateSync(onnx, Math.floor(size / 2));

    await withApp(
      'integrity',
      async (app) => {
        const { page } = app;
        await waitForServiceWorker(page); // the first-visit reload (see offline.test.mjs) is over
        const msg = await waitForModelError(page, MODEL_TIMEOUT);
        console.log(`integrity: model error shown: ${msg}`);
        assert.match(msg, /checksum/i, `the error should mention the checksum: ${msg}`);
        assert.match(msg, /incomplete|download/i, `the error should suggest an incomplete download: ${msg}`);
        assert.ok(await page.locator('[data-testid=model-error]').isVisible(), 'the error is visible');
        await app.screenshot('model-error');

        // The rest of the page works.
        await page.click('#tab-atlas');
        await page.waitForSelector('[data-testid=atlas-class]', { state: 'visible' });
        assert.equal(await page.locator('[data-testid=atlas-class]').count(), 21 + EXTRA_CODES.length);
        const known = await page.$$eval('[data-testid=atlas-class]', (els) => els.map((e) => e.getAttribute('data-known')));
        assert.ok(known.every((k) => k === 'false'), 'no class is "known" without a model');
        await app.screenshot('atlas-without-model');
        await page.click('#tab-about');
        const about = await page.locator('.about').textContent();
        assert.ok(about.includes('10.7937/TCIA.AXH3-T579'), 'About still shows the citation');
        assert.equal(await page.locator('[data-testid=model-facts]').count(), 0, 'no model facts without a model');
        await app.screenshot('about-without-model');
        await page.click('#tab-count');
        await page.click('#tab-classify');
        assert.equal(await page.getAttribute('#tab-classify', 'aria-selected'), 'true');
        await page.selectOption('#theme', 'dark');
        await page.selectOption('#theme', '');

        // A file dropped now: record what the person sees (no model to classify it with).
        const [img] = testImages('NGS', 1);
        await page.setInputFiles('#file-input', img.path);
        await page.waitForTimeout(3000);
        const cells = await readCells(page);
        console.log(`integrity: a file added without a model: ${JSON.stringify(cells)}`);
        assert.equal(cells.length, 1, 'the file is listed');
        await app.screenshot('file-without-model');
        assert.equal(await page.getAttribute('[data-testid=model-status]', 'data-state'), 'error', 'still in error');
        assert.deepEqual(app.pageErrors, [], 'page errors');
      },
      { dist: dir },
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a panic inside the page ends in a visible message and one console line', { timeout: 120_000 }, async () => {
  await withApp('integrity-panic', async (app) => {
    const { page } = app;
    await page.goto(`${app.url}?selftest=panic`, { waitUntil: 'domcontentloaded' });
    const el = page.locator('#panic[data-visible=true]');
    await el.waitFor({ state: 'visible', timeout: 60_000 });
    const text = (await el.textContent()).trim();
    console.log(`integrity: panic banner: ${text}`);
    assert.match(text, /Something went wrong inside Marrowscope/);
    assert.match(text, /self-test panic requested/);
    assert.match(text, /Reload the page/);
    const lines = app.consoleMessages.filter((m) => m.text.startsWith('[marrowscope] error panic:'));
    assert.equal(lines.length, 1, `one console line in the project's form: ${JSON.stringify(app.consoleMessages.slice(-5))}`);
    assert.equal(lines[0].type, 'error');
    await app.screenshot('banner');
  });
});
