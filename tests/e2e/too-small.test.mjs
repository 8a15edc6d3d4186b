// White cells too small to classify (issue 31): a BCCD test field reduced to 0.16 of its size (its
// white cell's nucleus about 20 px across, below fields::MIN_CLASSIFIABLE_NUCLEUS_PX) is still a
// field whose white cell is boxed (grey, dashed, "white cell") and listed as
// "White cell — too small to classify" ([data-testid=too-small], data-field, data-box), with no
// class; the layout says a higher magnification is needed; the count has a row
// "White cells not classified (too small)" (data-code=WBC) outside the percentages; CSV and JSON
// carry it with an empty class and too_small true; a reload brings it all back from storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { withApp, waitForModelReady, downloadVia, findPython, MODEL_TIMEOUT, BCCD_DATA as BCCD } from './lib.mjs';
import { waitForSaved } from './flows.mjs';

const FIELD_TIMEOUT = Number(process.env.E2E_FIELD_TIMEOUT || 180_000);
const ID = 'BloodImage_00007'; // the first BCCD test field of tests/pipeline.rs (nucleus about 125 px)
const SCALE = 0.16;

/** The field reduced by area averaging (Pillow's BOX filter), as a PNG; returns its path. */
function smallField() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-too-small-'));
  const file = path.join(dir, `${ID}-small.png`);
  const py = `
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
s = float(sys.argv[3])
im.resize((round(im.width * s), round(im.height * s)), Image.Resampling.BOX).save(sys.argv[2])
`;
  const r = spawnSync(findPython(), ['-c', py, path.join(BCCD, 'JPEGImages', `${ID}.jpg`), file, String(SCALE)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

async function tooSmall(page, name) {
  return page.$$eval('[data-testid=too-small]', (els, name) => els.filter((e) => e.getAttribute('data-field') === name)
    .map((e) => ({ box: e.getAttribute('data-box'), text: e.textContent.trim() })), name);
}

test('a field whose white cells are too small: boxed, listed and counted as white cells, not classified; kept across a reload',
  { timeout: MODEL_TIMEOUT + 2 * FIELD_TIMEOUT }, async () => {
    const file = smallField();
    const name = path.basename(file);
    await withApp('too-small', async (app) => {
      const { page } = app;
      await waitForModelReady(page);
      await page.setInputFiles('#file-input', file);
      const field = page.locator(`[data-testid=field][data-file="${name}"]`);
      await page.waitForFunction((name) => [...document.querySelectorAll('[data-testid=field]')]
        .some((e) => e.getAttribute('data-file') === name && e.getAttribute('data-state') === 'done'), name, { timeout: FIELD_TIMEOUT });

      // Listed: one entry per white cell too small, no classified cell of this field.
      const entries = await tooSmall(page, name);
      assert.ok(entries.length >= 1, 'at least one white cell too small to classify');
      for (const e of entries) {
        assert.match(e.box, /^\d+,\d+,\d+,\d+$/, `data-box ${e.box}`);
        assert.match(e.text, /White cell \d+ — too small to classify/, e.text);
      }
      assert.equal(await field.getAttribute('data-cells'), '0', 'no classified cell');
      const classified = await page.$$eval('[data-testid=cell]', (els, name) => els.filter((e) => e.getAttribute('data-field') === name).length, name);
      assert.equal(classified, 0, 'no [data-testid=cell] with a class for this field');

      // The layout in words, and the boxes on the field.
      await field.click();
      const layout = await page.locator('[data-testid=field-result] [data-testid=layout]').textContent();
      assert.match(layout, /^Field: \d+ white cells? found/, layout);
      assert.match(layout, /too small to classify \(nuclei about \d+ px across; a differential needs at least \d+ px: take the picture at a higher magnification\)/, layout);
      const boxes = await page.$$eval('[data-testid=field-box-too-small]', (els) => els.map((e) => e.getAttribute('data-box')));
      assert.deepEqual(boxes.sort(), entries.map((e) => e.box).sort(), 'a box on the field per entry');
      assert.equal(await page.locator('[data-testid=field-box]').count(), 0, 'no classified box');
      assert.ok((await page.locator('[data-testid=field-box-too-small] text').first().textContent()).includes('white cell'));
      await app.screenshot('field');

      // Counted as white cells, outside the percentages; exported without a class.
      await page.click('#tab-count');
      const row = page.locator('[data-testid=count-row][data-code=WBC]');
      assert.equal(await row.getAttribute('data-count'), String(entries.length));
      assert.match(await row.textContent(), /White cells not classified \(too small\)/);
      await app.screenshot('count');
      const csv = (await downloadVia(page, '#export-csv', 'too-small.csv')).text.split(/\r?\n/).filter(Boolean);
      assert.match(csv[0], /,field,box_x,box_y,box_w,box_h,too_small,confirmed,calibration$/, csv[0]);
      for (const e of entries) {
        const line = csv.find((l) => l.endsWith(`,"${name}",${e.box},true,false,`));
        assert.ok(line, `CSV row for ${e.box}: ${csv.join('\n')}`);
        assert.match(line, /^"[^"]+","",,"",/, `empty class and probability: ${line}`);
      }
      const json = JSON.parse((await downloadVia(page, '#export-json', 'too-small.json')).text);
      assert.equal(json.too_small, entries.length);
      const small = json.cells.filter((c) => c.too_small);
      assert.equal(small.length, entries.length);
      assert.ok(small.every((c) => c.field === name && c.final_class === '' && c.probability === null && c.box.length === 4), JSON.stringify(small));

      // Kept in the session: a reload brings the entries, the boxes and the row back.
      await waitForSaved(page);
      await page.reload({ waitUntil: 'domcontentloaded' });
      await waitForModelReady(page);
      await page.waitForSelector('[data-testid=too-small]', { timeout: 20_000 });
      assert.deepEqual(await tooSmall(page, name), entries, 'the same entries after a reload');
      await page.click('#tab-count');
      assert.equal(await page.locator('[data-testid=count-row][data-code=WBC]').getAttribute('data-count'), String(entries.length));
      await page.click('#tab-classify');
      await page.locator(`[data-testid=field][data-file="${name}"]`).click();
      await page.waitForSelector('[data-testid=field-box-too-small]');
      await app.screenshot('after-reload');
    });
  });
