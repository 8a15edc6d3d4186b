// The batch's shift warning (issue 33, item 1). An empty session is not judged (`too-few`); 30
// peripheral-blood test crops of PBC as they are look like the images the model learned from
// (`ok`); the same 30 cells taken as another laboratory might (scripts/data/make-shifted.py: tungsten
// light, gamma, blur, JPEG 40) are `shifted`: the page says so in words and shows the prediction
// sets as uncalibrated. Once those cells are confirmed and the sets calibrated on them, the
// warning compares with the laboratory's own cells (`data-reference=lab`) and the batch is `ok`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { withApp, waitForCellsSettled, findPython, ROOT, MODEL_TIMEOUT, CLASSIFY_TIMEOUT } from './lib.mjs';
import { readManifest, selectCell, startNewSession, waitForAppReady, pbcTestCrops } from './flows.mjs';

const shift = (page) => page.locator('[data-testid=shift]').evaluate((e) => ({ state: e.getAttribute('data-state'), score: e.getAttribute('data-score'), reference: e.getAttribute('data-reference') }));

test('shift warning: too few, ok for the sources, shifted for another laboratory, ok against its own calibration', { timeout: MODEL_TIMEOUT + 2 * CLASSIFY_TIMEOUT + 300_000 }, async () => {
  const spec = readManifest().ood?.batch_shift;
  assert.ok(spec && spec.batch === 30 && spec.sources?.blood > 0, `the manifest's ood.batch_shift: ${JSON.stringify(spec)}`);
  const crops = pbcTestCrops(30);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-shifted-'));
  try {
    const r = spawnSync(findPython(), [path.join(ROOT, 'scripts', 'data', 'make-shifted.py'), dir, ...crops.map((c) => c.path)], { encoding: 'utf8' });
    assert.equal(r.status, 0, `make-shifted.py: ${r.stderr}`);
    const shifted = crops.map((c) => path.join(dir, path.basename(c.path).replace(/\.[^.]+$/, '.jpg')));
    const truth = new Map(crops.map((c) => [path.basename(c.path).replace(/\.[^.]+$/, '.jpg'), c.code]));
    await withApp('shift', async (app) => {
      const { page } = app;
      await waitForAppReady(page);
      assert.deepEqual(await shift(page), { state: 'too-few', score: null, reference: 'model' });

      // The sources' own test crops: like the images the model learned from.
      await page.setInputFiles('#file-input', crops.map((c) => c.path));
      await waitForCellsSettled(page, { count: 30 });
      await page.waitForFunction(() => document.querySelector('[data-testid=shift]')?.getAttribute('data-state') !== 'too-few');
      const ok = await shift(page);
      console.log(`shift, PBC test crops: ${JSON.stringify(ok)} (blood threshold ${spec.sources.blood})`);
      assert.equal(ok.state, 'ok');
      assert.ok(Number(ok.score) <= spec.sources.blood, `score ${ok.score}`);
      assert.equal(await page.locator('[data-testid=set-size].uncalibrated').count(), 0);

      // The same cells from "another laboratory".
      await startNewSession(page);
      await page.setInputFiles('#file-input', shifted);
      const cells = await waitForCellsSettled(page, { count: 30 });
      await page.waitForFunction(() => document.querySelector('[data-testid=shift]')?.getAttribute('data-state') !== 'too-few');
      const moved = await shift(page);
      console.log(`shift, the same crops shifted: ${JSON.stringify(moved)}`);
      assert.equal(moved.state, 'shifted');
      assert.ok(Number(moved.score) > Number(ok.score));
      assert.match(await page.locator('[data-testid=shift]').innerText(), /differ from the ones the model learned from.*not calibrated for them/s);
      assert.equal(await page.locator('[data-testid=set-size].uncalibrated').count(), await page.locator('[data-testid=set-size]').count());
      await selectCell(page, cells[0].file);
      assert.equal(await page.locator('[data-testid=prediction-set]').getAttribute('data-uncalibrated'), 'true');
      assert.match(await page.locator('[data-testid=set-uncalibrated]').innerText(), /Not calibrated for these images/);
      await app.screenshot('shifted');

      // Confirmed and calibrated on: the laboratory's own cells are the reference now.
      for (const c of cells) {
        const row = page.locator(`[data-testid=cell][data-file="${c.file}"]`);
        await row.scrollIntoViewIfNeeded();
        if (c.predicted === truth.get(c.file)) await row.locator('[data-testid=confirm]').click();
        else await row.locator('select[data-testid=reassign]').selectOption(truth.get(c.file));
      }
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=cell][data-confirmed=true]').length === 30);
      await page.click('#lab-calibrate');
      await page.waitForFunction(() => document.querySelector('[data-testid=shift]')?.getAttribute('data-reference') === 'lab');
      const own = await shift(page);
      console.log(`shift, against the laboratory's calibration: ${JSON.stringify(own)}`);
      assert.equal(own.state, 'ok');
      assert.equal(await page.locator('[data-testid=set-size].uncalibrated').count(), 0);
      assert.deepEqual(app.pageErrors, [], 'page errors');
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
