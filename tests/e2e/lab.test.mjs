// Calibration to your laboratory (issue 33, item 2): 36 peripheral-blood test crops of PBC
// (Acevedo et al. 2020) are classified; a person confirms 30 of them through the UI as a
// haematologist would (the ✓ button where the model is right, the class menu where it is wrong,
// Enter on the selected cell); from 30 confirmed cells the panel calibrates the prediction sets
// on them; every cell then says `data-calibration="lab"`, the exports carry `confirmed` and
// `calibration`, and after a reload the profile still applies. The profile is exported, removed
// and imported back; a file that is not a profile is refused in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withApp, waitForCellsSettled, readCells, downloadVia, ARTIFACTS, MODEL_TIMEOUT, CLASSIFY_TIMEOUT, parseCsv } from './lib.mjs';
import { selectCell, waitForAppReady, waitForSaved, pbcTestCrops } from './flows.mjs';

const lab = (page) => page.locator('[data-testid=lab]').evaluate((e) => ({ state: e.getAttribute('data-state'), n: Number(e.getAttribute('data-n')) }));
const calibrations = (page) => page.$$eval('[data-testid=cell]', (els) => els.map((e) => e.getAttribute('data-calibration')));

test('calibrate to your laboratory: 30 cells confirmed through the UI, calibrated, kept over a reload, exported and imported', { timeout: MODEL_TIMEOUT + CLASSIFY_TIMEOUT + 300_000 }, async () => {
  const images = pbcTestCrops(36);
  const truth = new Map(images.map((i) => [path.basename(i.path), i.code]));
  await withApp('lab', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    await page.setInputFiles('#file-input', images.map((i) => i.path));
    const cells = await waitForCellsSettled(page, { count: images.length });
    assert.equal(cells.filter((c) => c.state === 'done').length, images.length, JSON.stringify(cells));
    assert.deepEqual(await lab(page), { state: 'none', n: 0 });
    assert.ok((await calibrations(page)).every((c) => c === 'model'), 'before: the model calibration');
    assert.ok(await page.locator('#lab-calibrate').isDisabled(), 'no calibration before 30 confirmed cells');

    // Confirm 30 cells: Enter on the first two, the menu where the model is wrong, ✓ where it is right.
    const ways = { enter: 0, menu: 0, button: 0 };
    for (const [k, c] of cells.slice(0, 30).entries()) {
      const row = page.locator(`[data-testid=cell][data-file="${c.file}"]`);
      const want = truth.get(c.file);
      if (k < 2 && c.predicted === want) {
        await selectCell(page, c.file);
        await row.focus();
        await page.keyboard.press('Enter');
        ways.enter++;
      } else if (c.predicted !== want) {
        await row.scrollIntoViewIfNeeded();
        await row.locator('select[data-testid=reassign]').selectOption(want);
        ways.menu++;
      } else {
        await row.scrollIntoViewIfNeeded();
        await row.locator('[data-testid=confirm]').click();
        ways.button++;
      }
      await page.waitForFunction((f) => document.querySelector(`[data-testid=cell][data-file="${CSS.escape(f)}"]`)?.getAttribute('data-confirmed') === 'true', c.file, { timeout: 10_000 });
    }
    console.log(`confirmed: ${JSON.stringify(ways)}`);
    assert.ok(ways.enter >= 1 && ways.button >= 1, `each way used: ${JSON.stringify(ways)}`);
    const after = await readCells(page);
    assert.equal(after.filter((c) => c.final === truth.get(c.file)).length, images.length - cells.slice(30).filter((c) => c.predicted !== truth.get(c.file)).length);
    assert.equal(await page.locator('[data-testid=cell][data-confirmed=true]').count(), 30);
    assert.deepEqual(await lab(page), { state: 'collecting', n: 30 });

    // Calibrate.
    await page.click('#lab-calibrate');
    await page.waitForFunction(() => document.querySelector('[data-testid=lab]')?.getAttribute('data-state') === 'calibrated');
    assert.deepEqual(await lab(page), { state: 'calibrated', n: 30 });
    assert.match(await page.locator('[data-testid=lab-words]').innerText(), /calibrated on your 30 confirmed cells/);
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=cell]')].every((e) => e.getAttribute('data-calibration') === 'lab'));
    await selectCell(page, cells[31].file);
    assert.equal(await page.locator('[data-testid=prediction-set]').getAttribute('data-calibration'), 'lab');
    assert.match(await page.locator('[data-testid=set-words]').innerText(), /calibrated on your 30 confirmed cells/);
    await page.locator('[data-testid=lab]').screenshot({ path: path.join(ARTIFACTS, 'lab-calibrated.png') });
    await app.screenshot('lab-calibrated');

    // The exports say which cells were confirmed and which calibration the sets used.
    await page.click('#tab-count');
    const csv = parseCsv((await downloadVia(page, '#export-csv', 'lab-export.csv')).text).filter((r) => r.length > 1);
    assert.deepEqual(csv[0].slice(-2), ['confirmed', 'calibration']);
    assert.equal(csv.slice(1).filter((r) => r[14] === 'true').length, 30, 'confirmed column');
    assert.ok(csv.slice(1).every((r) => r[15] === 'lab'), 'calibration column');
    const json = JSON.parse((await downloadVia(page, '#export-json', 'lab-export.json')).text);
    assert.equal(json.cells.filter((c) => c.confirmed).length, 30);
    assert.ok(json.cells.every((c) => c.calibration === 'lab'));
    await page.click('#tab-classify');

    // The profile as a file.
    const profile = await downloadVia(page, '[data-testid=lab-export]', 'lab-profile.json');
    const p = JSON.parse(profile.text);
    assert.equal(p.kind, 'marrowscope-lab-profile');
    assert.equal(p.n, 30);
    assert.equal(p.scores.length, 30);
    assert.deepEqual(Object.keys(p.qhat).sort(), ['0.80', '0.90', '0.95']);

    // A reload keeps the profile (IndexedDB) and the confirmations (the session).
    await waitForSaved(page);
    await page.reload();
    await waitForAppReady(page);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=cell]').length === n, images.length, { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=lab]')?.getAttribute('data-state') === 'calibrated', null, { timeout: 30_000 });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=cell]')].every((e) => e.getAttribute('data-calibration') === 'lab'), null, { timeout: 30_000 });
    assert.equal(await page.locator('[data-testid=cell][data-confirmed=true]').count(), 30, 'confirmations kept');

    // Removed: the model's calibration again; imported back: the laboratory's.
    await page.click('[data-testid=lab-remove]');
    await page.waitForFunction(() => document.querySelector('[data-testid=lab]')?.getAttribute('data-state') === 'collecting');
    assert.ok((await calibrations(page)).every((c) => c === 'model'));
    await page.setInputFiles('#lab-import', profile.file);
    await page.waitForFunction(() => document.querySelector('[data-testid=lab]')?.getAttribute('data-state') === 'calibrated');
    assert.ok((await calibrations(page)).every((c) => c === 'lab'));

    // A file that is not a profile: refused in words, the profile in use stays.
    const bad = path.join(ARTIFACTS, 'not-a-profile.json');
    fs.writeFileSync(bad, JSON.stringify({ hello: 'world' }));
    await page.setInputFiles('#lab-import', bad);
    await page.waitForSelector('[data-testid=lab-error]');
    assert.match(await page.locator('[data-testid=lab-error]').innerText(), /not a laboratory profile/);
    assert.equal((await lab(page)).state, 'calibrated');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});
