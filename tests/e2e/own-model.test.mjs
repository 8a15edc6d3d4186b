// "Use your own model" (About tab): loading the bundled model files through #own-model-input
// works and classifies; a manifest with a wrong sha256 is refused with a checksum message; a
// manifest with an unknown class code is refused naming the code. The page survives throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  withApp, waitForModelReady, waitForCellsSettled, readCells, testImages, DIST, MODEL_TIMEOUT, CLASSIFY_TIMEOUT,
} from './lib.mjs';
import { readManifest, waitForModelError, waitForAppReady, EXTRA_CODES } from './flows.mjs';

/** Records every data-state the model status takes from now on (into window.__modelStates). */
async function watchModelStates(page) {
  await page.evaluate(() => {
    window.__modelStates = [];
    const el = document.querySelector('[data-testid=model-status]');
    window.__modelObs?.disconnect();
    window.__modelObs = new MutationObserver(() => window.__modelStates.push(el.getAttribute('data-state')));
    window.__modelObs.observe(el, { attributes: true, attributeFilter: ['data-state'] });
  });
}

async function loadOwn(page, files) {
  await page.click('#tab-about');
  await watchModelStates(page);
  await page.setInputFiles('#own-model-input', files);
}

test('bring your own model: good files load, bad checksum and unknown class are refused', { timeout: 3 * MODEL_TIMEOUT + 2 * CLASSIFY_TIMEOUT + 60_000 }, async () => {
  const manifest = readManifest();
  const manifestPath = path.join(DIST, 'model', 'manifest.json');
  const onnxPath = path.join(DIST, 'model', manifest.onnx_file);
  assert.ok(fs.existsSync(onnxPath), `${onnxPath} missing`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-own-'));
  const badSha = path.join(tmp, 'sha', 'manifest.json');
  const badClass = path.join(tmp, 'cls', 'manifest.json');
  fs.mkdirSync(path.dirname(badSha));
  fs.mkdirSync(path.dirname(badClass));
  const sha = manifest.sha256;
  fs.writeFileSync(badSha, JSON.stringify({ ...manifest, sha256: (sha[0] === '0' ? '1' : '0') + sha.slice(1) }, null, 1));
  const classes = [...manifest.classes];
  classes[classes.length - 1] = 'XYZ';
  fs.writeFileSync(badClass, JSON.stringify({ ...manifest, classes }, null, 1));
  const [img1, img2] = testImages('LYT', 2).map((r) => r.path);

  try {
    await withApp('own-model', async (app) => {
      const { page } = app;
      await waitForAppReady(page);

      // --- good model + manifest ---
      await loadOwn(page, [onnxPath, manifestPath]);
      await page.waitForFunction(() => window.__modelStates.includes('loading'), null, { timeout: 30_000 });
      await waitForModelReady(page);
      assert.equal(await page.getAttribute('#tab-classify', 'aria-selected'), 'true', 'back on the Classify tab after loading');
      await page.click('#tab-about');
      const facts = await page.locator('[data-testid=model-facts]').textContent();
      assert.ok(facts.includes(manifest.model_id), facts);
      assert.match(facts, new RegExp(`your file ${manifest.onnx_file.replace(/\./g, '\\.')}`), `facts name the source: ${facts}`);
      await app.screenshot('own-loaded');
      await page.click('#tab-classify');
      await page.setInputFiles('#file-input', img1);
      const cells = await waitForCellsSettled(page, { count: 1 });
      assert.equal(cells[0].state, 'done', JSON.stringify(cells));
      assert.ok(cells[0].predicted);

      // --- manifest whose sha256 does not match the model ---
      await loadOwn(page, [onnxPath, badSha]);
      const shaErr = await waitForModelError(page);
      console.log(`own-model checksum error: ${shaErr}`);
      assert.match(shaErr, /checksum/i, `error should mention the checksum: ${shaErr}`);
      await app.screenshot('own-bad-checksum');
      assert.equal(await page.getAttribute('[data-testid=model-status]', 'data-state'), 'error');
      // Still usable: tabs and the atlas work.
      await page.click('#tab-atlas');
      assert.equal(await page.locator('[data-testid=atlas-class]').count(), 21 + EXTRA_CODES.length);
      await page.click('#tab-about');
      assert.ok(await page.locator('.about').isVisible());

      // --- the good files again: recovers ---
      await loadOwn(page, [onnxPath, manifestPath]);
      await waitForModelReady(page);

      // --- manifest with an unknown class code ---
      await loadOwn(page, [onnxPath, badClass]);
      const clsErr = await waitForModelError(page);
      console.log(`own-model class error: ${clsErr}`);
      assert.match(clsErr, /XYZ/, `error should name XYZ: ${clsErr}`);
      await app.screenshot('own-bad-class');

      // --- only one file ---
      await page.click('#tab-about');
      await page.setInputFiles('#own-model-input', [manifestPath]);
      await page.waitForFunction(() => /two files/i.test(document.querySelector('.own-model .error-text')?.textContent || ''), null, { timeout: 10_000 });

      // Recover once more and classify.
      await loadOwn(page, [onnxPath, manifestPath]);
      await waitForModelReady(page);
      await page.click('#tab-classify');
      await page.setInputFiles('#file-input', img2);
      const after = await waitForCellsSettled(page, { count: 1 });
      const c = after.find((x) => x.file === path.basename(img2));
      assert.equal(c?.state, 'done', JSON.stringify(await readCells(page)));
      await app.screenshot('own-recovered');
      assert.deepEqual(app.pageErrors, [], 'page errors');
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
