// Feed the whole awkward-file corpus (scripts/data/make-bad-inputs.py) plus 2 real images at once:
// every "error" file must show a per-file message, every "ok" file a predicted class,
// the real images must be classified, and the page must survive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  withApp, waitForModelReady, waitForCellsSettled, readCells, makeBadInputs, testImages, assertResponsive,
  MODEL_TIMEOUT,
} from './lib.mjs';

const BATCH_TIMEOUT = Number(process.env.E2E_BATCH_TIMEOUT || 300_000); // large.jpg is 6000x6000

test('bad inputs give per-file errors and do not break the batch', { timeout: MODEL_TIMEOUT + BATCH_TIMEOUT + 90_000 }, async () => {
  const { dir, expected } = makeBadInputs();
  try {
    const real = [...testImages('NGS', 1), ...testImages('LYT', 1)].map((r) => r.path);
    const names = Object.keys(expected);
    assert.ok(names.length >= 22, `only ${names.length} bad inputs`);
    const files = [...names.map((n) => path.join(dir, n)), ...real];
    const realNames = real.map((p) => path.basename(p));

    await withApp('bad-inputs', async (app) => {
      const { page } = app;
      await waitForModelReady(page);
      await page.setInputFiles('#file-input', files);

      const cells = await waitForCellsSettled(page, { count: files.length, timeout: BATCH_TIMEOUT });
      await app.screenshot('settled');
      const byFile = new Map(cells.map((c) => [c.file, c]));
      const problems = [];

      for (const [name, want] of Object.entries(expected)) {
        const c = byFile.get(name);
        if (!c) {
          problems.push(`${name}: no cell`);
        } else if (want === 'error') {
          if (c.state !== 'error') problems.push(`${name}: expected error, got ${c.state} (${c.predicted ?? ''})`);
          else if (!c.error) problems.push(`${name}: error cell without a [data-testid=cell-error] message`);
        } else {
          if (c.state !== 'done') problems.push(`${name}: expected a prediction, got ${c.state}: ${c.error ?? ''}`);
          else if (!c.predicted) problems.push(`${name}: done without data-predicted`);
        }
      }
      for (const name of realNames) {
        const c = byFile.get(name);
        if (!c || c.state !== 'done' || !c.predicted) problems.push(`${name} (real image): ${JSON.stringify(c)}`);
      }
      assert.deepEqual(problems, [], `\n${problems.join('\n')}\n`);
      assert.equal(cells.length, files.length, 'one cell per file');

      const progress = page.locator('[data-testid=progress]');
      assert.equal(await progress.getAttribute('data-total'), String(files.length));
      assert.equal(await progress.getAttribute('data-done'), String(files.length));

      assert.deepEqual(app.pageErrors, [], 'no uncaught page errors');
      await assertResponsive(page);
      // The model is still usable: still "ready", and a tab switch works.
      assert.equal(await page.getAttribute('[data-testid=model-status]', 'data-state'), 'ready');
      await page.click('#tab-about');
      await page.click('#tab-classify');
      assert.equal((await readCells(page)).length, files.length, 'cells survive a tab switch');
      await app.screenshot('after');
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
