// Classify one real test-split NGS image end to end and check the top class shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  withApp, waitForModelReady, waitForCellsSettled, cellLocator, testImages, MODEL_TIMEOUT, CLASSIFY_TIMEOUT,
} from './lib.mjs';

test('classifies a real NGS test image as NGS', { timeout: MODEL_TIMEOUT + CLASSIFY_TIMEOUT + 60_000 }, async () => {
  // NGS_00803: a clear segmented neutrophil (the model misreads 00800, a known error it makes).
  const [img] = testImages('NGS', 4).slice(3);
  const name = path.basename(img.path);
  await withApp('classify', async (app) => {
    const { page } = app;
    await waitForModelReady(page);
    await page.setInputFiles('#file-input', img.path);

    const cells = await waitForCellsSettled(page, { count: 1 });
    const cell = cells.find((c) => c.file === name);
    assert.ok(cell, `no cell for ${name}; cells: ${JSON.stringify(cells)}`);
    assert.equal(cell.state, 'done', `cell state: ${JSON.stringify(cell)}`);
    assert.equal(cell.predicted, 'NGS', `predicted ${cell.predicted} (p=${cell.prob}) for ${name}`);
    const prob = Number(cell.prob);
    assert.ok(prob > 0 && prob <= 1, `data-prob out of range: ${cell.prob}`);

    // Select the cell (harmless when it is already selected) and read the result panel.
    const result = page.locator('[data-testid=result]');
    if (!(await result.isVisible())) await cellLocator(page, name).click();
    await page.waitForSelector('[data-testid=result][data-code]', { timeout: 30_000 });
    assert.equal(await result.getAttribute('data-code'), 'NGS');
    const rows = await result.locator('[data-testid=result-row]').evaluateAll((els) => els.map((e) => e.getAttribute('data-code')));
    assert.ok(rows.length >= 1, 'result panel has no rows');
    assert.equal(rows[0], 'NGS', `first result row is ${rows[0]}`);

    const progress = page.locator('[data-testid=progress]');
    assert.equal(await progress.getAttribute('data-done'), '1');
    assert.equal(await progress.getAttribute('data-total'), '1');

    await app.screenshot('ngs-result');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});
