// The count as a haematologist reads it (issue 34, items 1–3): 12 peripheral-blood test crops of
// PBC (Acevedo et al. 2020) are classified; the count says it is of peripheral blood (estimated
// from the cells), every row carries its adult reference interval and a flag that follows it,
// neutrophils are judged as one group, the classes the model cannot name are listed; the person
// says "bone-marrow aspirate" and the intervals, the flags and the M:E ratio follow, and the
// choice survives a reload; a reassignment to blasts is said against 5 % and 20 %. The chart has
// a bar per class; "Print report" calls the browser's print; Chromium's PDF of the page (print
// media, A4) is one page, and a screenshot of the print layout is kept (report-print.png,
// report.pdf).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { withApp, waitForCellsSettled, readCells, MODEL_TIMEOUT, CLASSIFY_TIMEOUT } from './lib.mjs';
import { readManifest, taxonomyKeys, selectCell, waitForAppReady, waitForSaved, artifact, pbcTestCrops } from './flows.mjs';

// Adult intervals the app must show (src/count/reference.rs, cited in the README).
const BLOOD = { LYT: [20, 40], MON: [2, 10], EOS: [1, 6], BAS: [0, 2], BLA: [0, 0], MYB: [0, 0] };
const MARROW = { LYT: [11.1, 23.2], NGS: [6, 12], EBO: [18, 39], BLA: [0, 5], MON: [0, 0.8] };
const MLL_CLASSES = ['ABE', 'ART', 'BAS', 'BLA', 'EBO', 'EOS', 'FGC', 'HAC', 'KSC', 'LYI', 'LYT', 'MMZ', 'MON', 'MYB', 'NGB', 'NGS', 'NIF', 'OTH', 'PEB', 'PLM', 'PMO'];

async function readRows(page) {
  return page.$$eval('[data-testid=count-row]', (els) => els.map((e) => ({
    code: e.getAttribute('data-code'), count: Number(e.getAttribute('data-count')), percent: Number(e.getAttribute('data-percent')),
    low: e.getAttribute('data-ref-low'), high: e.getAttribute('data-ref-high'), flag: e.getAttribute('data-flag'),
  })));
}

/** Every row's flag follows its percentage (at the table's 0.1 % precision) and its interval. */
function assertFlags(rows, label) {
  for (const r of rows) {
    if (r.code === 'WBC') continue;
    if (r.low == null) {
      assert.equal(r.flag, 'none', `${label}: ${r.code} has no interval but flag ${r.flag}`);
      assert.equal(r.high, null, `${label}: ${r.code} has a high without a low`);
      continue;
    }
    const p = Math.round(r.percent * 10) / 10;
    const want = p < Number(r.low) ? 'low' : p > Number(r.high) ? 'high' : 'normal';
    assert.equal(r.flag, want, `${label}: ${r.code} ${r.percent} % against ${r.low}–${r.high}`);
  }
}

function assertIntervals(rows, want, label) {
  for (const [code, [lo, hi]] of Object.entries(want)) {
    const r = rows.find((x) => x.code === code);
    if (!r) continue; // a class this model cannot name
    assert.deepEqual([Number(r.low), Number(r.high)], [lo, hi], `${label}: interval of ${code}`);
  }
}

test('count against reference intervals, chart, printable report', { timeout: MODEL_TIMEOUT + CLASSIFY_TIMEOUT + 180_000 }, async () => {
  const manifest = readManifest();
  const images = pbcTestCrops(12, ['NGS', 'LYT', 'MON', 'EOS']).map((c) => c.path);
  assert.equal(images.length, 12);
  await withApp('report', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    await page.setInputFiles('#file-input', images);
    const cells = await waitForCellsSettled(page, { count: 12 });
    assert.equal(cells.filter((c) => c.state === 'done').length, 12, JSON.stringify(cells));
    await page.click('#tab-count');
    const kind = page.locator('[data-testid=count-kind]');
    await kind.waitFor();

    // --- peripheral blood, as estimated from the cells ---
    assert.equal(await kind.getAttribute('data-kind'), 'blood', 'PBC crops: the count is estimated to be of peripheral blood');
    assert.equal(await kind.getAttribute('data-kind-from'), 'estimate');
    let rows = await readRows(page);
    assertFlags(rows, 'blood');
    assertIntervals(rows, BLOOD, 'blood');
    assert.ok(rows.filter((r) => r.low != null).length >= 6, `blood rows with an interval: ${JSON.stringify(rows)}`);
    assert.ok(rows.some((r) => r.flag !== 'none'), 'some rows are judged');
    // Neutrophils (segmented + band) are one group in blood, 40–80 %.
    const group = page.locator('[data-testid=count-group]');
    assert.equal(await group.count(), 1);
    assert.deepEqual([await group.getAttribute('data-ref-low'), await group.getAttribute('data-ref-high')], ['40', '80']);
    const neut = rows.filter((r) => r.code === 'NGS' || r.code === 'NGB').reduce((s, r) => s + r.count, 0);
    assert.equal(Number(await group.getAttribute('data-count')), neut, 'the group sums NGS and NGB');
    // Classes the model cannot name are said to be missing.
    const missing = (await page.locator('[data-testid=count-missing]').getAttribute('data-codes')).split(',');
    assert.deepEqual(missing, MLL_CLASSES.filter((c) => !manifest.classes.includes(c)), 'missing classes');
    assert.match(await page.locator('[data-testid=count-missing]').innerText(), /not a complete differential/);
    assert.match(await page.locator('[data-testid=reference-sources]').innerText(), /Dacie and Lewis Practical Haematology/);
    // The chart: one bar per class with cells or an interval.
    const bars = await page.locator('[data-testid=count-chart] .chart-row').count();
    assert.equal(bars, Number(await page.locator('[data-testid=count-chart]').getAttribute('data-bars')));
    assert.ok(bars >= 4, `chart bars: ${bars}`);
    await app.screenshot('report-blood');

    // --- the person says: bone-marrow aspirate ---
    await page.check('#count-kind-marrow');
    await page.waitForFunction(() => document.querySelector('[data-testid=count-kind]')?.getAttribute('data-kind') === 'marrow');
    assert.equal(await kind.getAttribute('data-kind-from'), 'person');
    rows = await readRows(page);
    assertFlags(rows, 'marrow');
    assertIntervals(rows, MARROW, 'marrow');
    assert.match(await page.locator('[data-testid=reference-sources]').innerText(), /Osgood EE, Seaman AJ/);
    const me = page.locator('[data-testid=me-ratio]');
    assert.equal(await me.count(), 1, 'marrow: the M:E ratio is shown');
    assert.match(await me.innerText(), /Myeloid:erythroid ratio/);
    assert.match(await page.locator('[data-testid=small-count]').innerText(), /at least 500/);

    // --- a cell reassigned to blasts: said against 5 % and 20 % ---
    await page.click('#tab-classify');
    await selectCell(page, (await readCells(page))[0].file);
    await page.keyboard.press(taxonomyKeys().BLA);
    await page.click('#tab-count');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=count-row][data-code=BLA]')?.getAttribute('data-count')) >= 1);
    const blaRow = (await readRows(page)).find((r) => r.code === 'BLA');
    assert.equal(blaRow.flag, 'high', `1 of 12 blasts (8.3 %) is above the marrow's 5 %: ${JSON.stringify(blaRow)}`);
    const note = await page.locator('[data-testid=blasts-note]').innerText();
    assert.match(note, /upper normal 5 %/);
    assert.match(note, /20 %/);
    assert.match(note, /not a diagnosis/);
    assert.match(await page.locator('[data-testid=report-meta]').innerText(), /1 of 12 cells reassigned/);
    await app.screenshot('report-marrow');

    // --- the choice survives a reload ---
    await waitForSaved(page);
    await page.reload();
    await waitForAppReady(page);
    await page.click('#tab-count');
    await page.waitForFunction(() => document.querySelector('[data-testid=count-kind]')?.getAttribute('data-kind-from') === 'person', null, { timeout: 30_000 });
    assert.equal(await kind.getAttribute('data-kind'), 'marrow', 'the count kind the person chose is kept with the session');

    // --- the printable report ---
    await page.evaluate(() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; });
    await page.click('[data-testid=print-report]');
    assert.equal(await page.evaluate(() => window.__printed), 1, 'Print report opens the browser print dialogue');
    await page.emulateMedia({ media: 'print' });
    for (const sel of ['[data-testid=report-meta]', '[data-testid=count-kind]', '.count-table', '[data-testid=count-chart]', '[data-testid=reference-sources]', '[data-testid=disclaimer]', '.report-sources']) {
      assert.ok(await page.locator(sel).isVisible(), `print: ${sel} is on the report`);
    }
    for (const sel of ['aside.sidebar', 'nav.tabs', '#export-csv', '#print-report']) {
      assert.ok(!(await page.locator(sel).isVisible()), `print: ${sel} is not on the report`);
    }
    const meta = await page.locator('[data-testid=report-meta]').innerText();
    assert.ok(meta.includes(manifest.model_id) && meta.includes(manifest.version), `report names the model and version: ${meta}`);
    assert.match(meta, /Session .+ · report of .+ % coverage/);
    await app.screenshot('report-print');
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    fs.writeFileSync(artifact('report.pdf'), pdf);
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page\b(?!s)/g) || []).length;
    assert.equal(pages, 1, `the report is one A4 page (${pages})`);
    const letter = await page.pdf({ format: 'Letter', printBackground: true });
    assert.equal((letter.toString('latin1').match(/\/Type\s*\/Page\b(?!s)/g) || []).length, 1, 'and one Letter page');
    await page.emulateMedia({ media: 'screen' });
  });
});
