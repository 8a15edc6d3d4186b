// Fields by content (issue 31): a BCCD test field cut to a square (its central 480×480 resized to
// 416×416, as object-detection exports and other laboratories' fields are) and a field reduced
// to half its size are both taken for fields, not single cells; their white cells are boxed
// ([data-testid=cell] with data-field and data-box) where BCCD's authors boxed them, mapped to
// the dropped image's pixels. Screenshots of both (field-square, field-half).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { withApp, waitForModelReady, findPython, MODEL_TIMEOUT, BCCD_DATA as BCCD, bccdWbcBoxes as wbcBoxes, bccdTestIds as testIds } from './lib.mjs';

const FIELD_TIMEOUT = Number(process.env.E2E_FIELD_TIMEOUT || 180_000);

/** `id` cut at (x, y, side×side) and resized to w×h (Pillow), as a PNG named `name`. */
function derived(id, name, [x, y, cw, ch], [w, h]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-square-'));
  const file = path.join(dir, name);
  const py = `
import sys
from PIL import Image
x, y, cw, ch, w, h = map(int, sys.argv[3:9])
Image.open(sys.argv[1]).convert("RGB").crop((x, y, x + cw, y + ch)).resize((w, h), Image.Resampling.BILINEAR).save(sys.argv[2])
`;
  const r = spawnSync(findPython(), ['-c', py, path.join(BCCD, 'JPEGImages', `${id}.jpg`), file, x, y, cw, ch, w, h].map(String), { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

async function fieldDone(page, name) {
  await page.waitForFunction((name) => {
    const el = [...document.querySelectorAll('[data-testid=field]')].find((e) => e.getAttribute('data-file') === name);
    if (!el || el.getAttribute('data-state') !== 'done') return false;
    return [...document.querySelectorAll('[data-testid=cell]')].filter((c) => c.getAttribute('data-field') === name)
      .every((c) => ['done', 'error'].includes(c.getAttribute('data-state')));
  }, name, { timeout: FIELD_TIMEOUT, polling: 250 });
  return page.$$eval('[data-testid=cell]', (els, name) => els.filter((e) => e.getAttribute('data-field') === name)
    .map((e) => ({ box: e.getAttribute('data-box').split(',').map(Number), state: e.getAttribute('data-state'), predicted: e.getAttribute('data-predicted') })), name);
}

/** Every truth box has a detected box centred in it, and every detected box is centred in one. */
function matches(cells, truth) {
  const centreIn = (c, t) => {
    const [x, y, w, h] = c.box;
    return x + w / 2 >= t[0] && x + w / 2 <= t[2] && y + h / 2 >= t[1] && y + h / 2 <= t[3];
  };
  return {
    missed: truth.filter((t) => !cells.some((c) => centreIn(c, t))),
    false: cells.filter((c) => !truth.some((t) => centreIn(c, t))),
  };
}

test('a square crop of a field and a field at half size are fields: their white cells boxed where BCCD boxed them',
  { timeout: MODEL_TIMEOUT + 3 * FIELD_TIMEOUT }, async () => {
    // A test field whose one white cell lies inside the central square but well away from its
    // centre (more than 1.3 of the cell's box from it: the square's centre shows red cells), so
    // that a single-cell decision would classify the wrong thing. (Nearer, with a white cell as
    // large as BCCD's, the square is rightly a crop of that cell.)
    const id = testIds().find((i) => {
      const b = wbcBoxes(i);
      if (b.length !== 1) return false;
      const [cx, cy] = [(b[0][0] + b[0][2]) / 2, (b[0][1] + b[0][3]) / 2];
      const side = Math.max(b[0][2] - b[0][0], b[0][3] - b[0][1]);
      return cx > 140 && cx < 500 && Math.hypot(cx - 320, cy - 240) > 1.3 * side;
    });
    assert.ok(id, 'a BCCD test field with its white cell off the centre of the central square');
    const s = 416 / 480;
    const squareTruth = wbcBoxes(id).map((b) => [(b[0] - 80) * s, b[1] * s, (b[2] - 80) * s, b[3] * s]);
    const square = derived(id, `${id}-square416.png`, [80, 0, 480, 480], [416, 416]);
    // A field reduced to half (320×240): a lower magnification or a smaller camera frame.
    const halfId = testIds().find((i) => i !== id && wbcBoxes(i).length >= 1);
    const halfTruth = wbcBoxes(halfId).map((b) => b.map((v) => v / 2));
    const half = derived(halfId, `${halfId}-half.png`, [0, 0, 640, 480], [320, 240]);

    await withApp('square-fields', async (app) => {
      const { page } = app;
      await waitForModelReady(page);
      for (const [file, truth, shot] of [[square, squareTruth, 'field-square'], [half, halfTruth, 'field-half']]) {
        const name = path.basename(file);
        await page.setInputFiles('#file-input', file);
        const cells = await fieldDone(page, name);
        console.log(`# ${name}: ${cells.length} white cell(s) at ${JSON.stringify(cells.map((c) => c.box))}; BCCD: ${JSON.stringify(truth.map((b) => b.map(Math.round)))}`);
        assert.ok(cells.length >= 1, `${name} was not taken for a field with white cells`);
        const m = matches(cells, truth);
        assert.deepEqual(m.missed, [], `${name}: BCCD white cells without a box`);
        assert.deepEqual(m.false, [], `${name}: boxes on no BCCD white cell`);
        assert.ok(cells.every((c) => c.state === 'done' && c.predicted), `${name}: every cell classified`);
        await page.locator(`[data-testid=field][data-file="${name}"]`).click();
        await page.waitForSelector(`[data-testid=field-view][data-field="${name}"]`);
        const layout = await page.locator('[data-testid=field-result] [data-testid=layout]').textContent();
        assert.match(layout, /^Field: \d+ white cells? found/, `${name}: ${layout}`);
        await app.screenshot(shot);
      }
      assert.deepEqual(app.pageErrors, [], 'page errors');
    });
  });
