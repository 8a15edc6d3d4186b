// The differential count: 12 images of 3 classes; the count table follows the cells' final
// classes; a keyboard reassignment (class key with a cell selected) changes the cell and the
// count; CSV and JSON exports carry the correction; sorting and filtering of the cell list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withApp, waitForCellsSettled, readCells, downloadVia, testImages,
  MODEL_TIMEOUT, CLASSIFY_TIMEOUT, parseCsv,
} from './lib.mjs';
import { readManifest, knownTestClasses, taxonomyKeys, selectCell, waitForAppReady } from './flows.mjs';

const PREFERRED = ['NGS', 'LYT', 'EOS', 'BLA', 'MON'];

function tally(cells) {
  const t = {};
  for (const c of cells) if (c.final) t[c.final] = (t[c.final] || 0) + 1;
  return t;
}

async function readCountRows(page) {
  return page.$$eval('[data-testid=count-row]', (els) =>
    els.map((e) => ({ code: e.getAttribute('data-code'), count: Number(e.getAttribute('data-count')), percent: Number(e.getAttribute('data-percent')) })),
  );
}

/** The count table (non-zero rows) equals the tally of the cells' data-final. */
async function assertCountMatchesCells(page, n, label) {
  await page.click('#tab-count');
  await page.waitForSelector('[data-testid=count-row]', { timeout: 10_000 });
  const want = tally(await readCells(page));
  // The table is reactive: give it a moment to follow.
  await page.waitForFunction(
    (want) => {
      const got = {};
      for (const e of document.querySelectorAll('[data-testid=count-row]')) {
        const n = Number(e.getAttribute('data-count'));
        if (n) got[e.getAttribute('data-code')] = n;
      }
      return JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(want).sort());
    },
    want,
    { timeout: 10_000 },
  ).catch(() => {});
  const rows = await readCountRows(page);
  const sum = rows.reduce((s, r) => s + r.count, 0);
  assert.equal(sum, n, `${label}: count rows sum to ${sum}: ${JSON.stringify(rows)}`);
  for (const r of rows) {
    assert.ok(Math.abs(r.percent - (100 * r.count) / n) < 0.01, `${label}: ${r.code} shows ${r.percent} % for ${r.count} of ${n}`);
  }
  const got = Object.fromEntries(rows.filter((r) => r.count > 0).map((r) => [r.code, r.count]));
  assert.deepEqual(got, want, `${label}: count table vs cells' data-final`);
  const codes = rows.map((r) => r.code);
  assert.equal(new Set(codes).size, codes.length, `${label}: duplicate rows ${codes}`);
  return rows;
}

test('differential count, keyboard reassignment, CSV/JSON export, sort and filter', { timeout: MODEL_TIMEOUT + CLASSIFY_TIMEOUT + 120_000 }, async () => {
  const manifest = readManifest();
  const keys = taxonomyKeys();
  const known = knownTestClasses(manifest);
  const classes = [...PREFERRED.filter((c) => known.includes(c)), ...known.filter((c) => !PREFERRED.includes(c))].slice(0, 3);
  assert.equal(classes.length, 3, `need 3 classes the model knows with test images; have ${known}`);
  const images = classes.flatMap((c) => testImages(c, 4)).map((r) => r.path);
  assert.equal(images.length, 12);

  await withApp('count', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    await page.setInputFiles('#file-input', images);
    const cells = await waitForCellsSettled(page, { count: 12 });
    assert.equal(cells.filter((c) => c.state === 'done').length, 12, JSON.stringify(cells));
    for (const c of cells) assert.equal(c.final, c.predicted, `before any correction final = predicted (${c.file})`);

    const rows = await assertCountMatchesCells(page, 12, 'initial');
    // One row per class the model knows, in manifest order (then any others).
    assert.deepEqual(rows.slice(0, manifest.classes.length).map((r) => r.code), manifest.classes, 'count rows in manifest order');
    await app.screenshot('count-initial');

    // --- keyboard reassignment ---
    await page.click('#tab-classify');
    const target = cells[0];
    const newCode = ['BLA', 'LYT', 'NGS'].find((c) => c !== target.final);
    const key = keys[newCode];
    await selectCell(page, target.file);
    // Focus must not be in a form control: the cell row (an <li>) or the body.
    const focusedTag = await page.evaluate(() => document.activeElement?.tagName.toLowerCase());
    assert.ok(!['input', 'select', 'textarea'].includes(focusedTag), `focus is in a ${focusedTag}`);
    await page.keyboard.press(key);
    await page.waitForFunction(
      ({ f, code }) => document.querySelector(`[data-testid=cell][data-file="${CSS.escape(f)}"]`)?.getAttribute('data-final') === code,
      { f: target.file, code: newCode },
      { timeout: 10_000 },
    );
    const corrected = (await readCells(page)).find((c) => c.file === target.file);
    assert.equal(corrected.predicted, target.predicted, 'the prediction itself is unchanged');
    assert.equal(corrected.final, newCode);
    assert.ok(
      await page.locator(`[data-testid=cell][data-file="${target.file}"]`).evaluate((e) => e.classList.contains('corrected')),
      'a corrected cell is marked as such',
    );
    // The reassign <select> of the row shows the new class too.
    assert.equal(await page.locator(`[data-testid=cell][data-file="${target.file}"] select.reassign`).inputValue(), newCode);
    await assertCountMatchesCells(page, 12, 'after correction');
    await app.screenshot('count-corrected');

    // --- exports ---
    const csv = await downloadVia(page, '#export-csv', 'count-export.csv');
    const lines = csv.text.split(/\r?\n/).filter(Boolean);
    assert.equal(lines[0], 'file_name,predicted_class,probability,final_class,model_id,prediction_set,coverage,ood,field,box_x,box_y,box_w,box_h,too_small,confirmed,calibration', 'CSV header');
    const table = parseCsv(csv.text).filter((r) => r.length > 1);
    const body = table.slice(1);
    assert.equal(body.length, 12, `CSV rows: ${body.length}`);
    for (const r of body) {
      assert.equal(r.length, 16, `CSV row with ${r.length} fields: ${r}`);
      assert.deepEqual(r.slice(8, 14), ['', '', '', '', '', 'false'], 'single-cell images have no field or box, and are not too small');
      // Confirmed: the corrected cell only; the sets use the model's calibration (no laboratory profile).
      assert.deepEqual(r.slice(14), [String(r[0] === target.file), 'model'], `confirmed and calibration columns: ${r}`);
      assert.equal(r[4], manifest.model_id, 'model_id column');
      // Prediction set (most probable first: it starts with the predicted class), level, OOD flag.
      if (r[5] !== '') assert.equal(r[5].split(',')[0], r[1], `prediction_set ${r[5]} starts with the predicted class`);
      assert.equal(r[6], '0.90', 'coverage column (default level)');
      assert.ok(['true', 'false'].includes(r[7]), `ood column: ${r[7]}`);
      const p = Number(r[2]);
      assert.ok(p > 0 && p <= 1, `probability ${r[2]}`);
    }
    const row = body.find((r) => r[0] === target.file);
    assert.ok(row, `CSV has no row for ${target.file}`);
    assert.equal(row[1], target.predicted, 'CSV predicted_class of the corrected cell');
    assert.equal(row[3], newCode, 'CSV final_class of the corrected cell');
    assert.match(csv.suggestedFilename, /\.csv$/);

    const json = await downloadVia(page, '#export-json', 'count-export.json');
    const doc = JSON.parse(json.text);
    assert.equal(doc.model_id, manifest.model_id);
    assert.equal(doc.cells.length, 12);
    const jc = doc.cells.find((c) => c.file_name === target.file);
    assert.equal(jc?.final_class, newCode, 'JSON final_class of the corrected cell');
    assert.equal(jc?.predicted_class, target.predicted);
    assert.ok(Array.isArray(jc?.prediction_set) && (jc.prediction_set.length === 0 || jc.prediction_set[0] === target.predicted), 'JSON prediction_set');
    assert.equal(typeof jc?.ood, 'boolean', 'JSON ood flag');
    if (Array.isArray(doc.differential)) {
      assert.equal(doc.differential.reduce((s, r) => s + r.count, 0), 12, 'JSON differential sums to 12');
    }
    assert.match(json.suggestedFilename, /\.json$/);

    // --- sorting ---
    const probsInOrder = () => page.$$eval('[data-testid=cell]', (els) => els.map((e) => Number(e.getAttribute('data-prob'))));
    await page.selectOption('#sort-cells', 'conf-asc');
    await page.waitForTimeout(300);
    const asc = await probsInOrder();
    assert.equal(asc.length, 12);
    assert.deepEqual(asc, [...asc].sort((a, b) => a - b), `conf-asc order: ${asc}`);
    await page.selectOption('#sort-cells', 'conf-desc');
    await page.waitForTimeout(300);
    const desc = await probsInOrder();
    assert.deepEqual(desc, [...desc].sort((a, b) => b - a), `conf-desc order: ${desc}`);
    await page.selectOption('#sort-cells', 'class');
    await page.waitForTimeout(300);
    const byClass = (await readCells(page)).map((c) => c.final);
    assert.deepEqual(byClass, [...byClass].sort(), `class order: ${byClass}`);
    await app.screenshot('sorted-by-class');
    await page.selectOption('#sort-cells', 'added');
    await page.waitForTimeout(300);
    assert.deepEqual((await readCells(page)).map((c) => c.file), cells.map((c) => c.file), 'back to the order added');

    // --- filtering ---
    const want = tally(await readCells(page));
    await page.selectOption('#filter-class', newCode);
    await page.waitForTimeout(300);
    const filtered = await readCells(page);
    assert.equal(filtered.length, want[newCode], `filter ${newCode}: ${JSON.stringify(filtered)}`);
    assert.ok(filtered.every((c) => c.final === newCode));
    assert.ok(filtered.some((c) => c.file === target.file), 'the corrected cell is listed under its new class');
    await app.screenshot('filtered');
    const absent = Object.keys(keys).find((c) => !want[c]);
    await page.selectOption('#filter-class', absent);
    await page.waitForTimeout(300);
    assert.equal((await readCells(page)).length, 0, `filter ${absent} shows nothing`);
    await page.selectOption('#filter-class', '');
    await page.waitForTimeout(300);
    assert.equal((await readCells(page)).length, 12, 'filter "all" shows every cell');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});
