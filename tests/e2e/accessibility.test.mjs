// Issue 34, item 5: axe-core (npm, run inside the page) finds no WCAG 2.1 A/AA violation on any
// tab, in the light and the dark theme, with cells classified (one of them selected, its
// viewer open), a smear field shown and a Learn question answered. Rules that axe marks
// experimental are run too where they test WCAG A/AA (label-content-name-mismatch: a control's
// accessible name must contain its visible text). Every violation is printed with its nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  withApp, waitForModelReady, waitForCellsSettled, cellLocator, testImagesOfDistinctClasses,
  ROOT, MODEL_TIMEOUT, CLASSIFY_TIMEOUT,
} from './lib.mjs';
import { taxonomyKeys } from './flows.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BCCD = path.resolve(ROOT, process.env.BCCD_DATA || '../shared/data/bccd');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** axe's violations of the page as it is now (WCAG 2.1 A/AA, experimental rules of those tags included). */
async function violations(page) {
  // Evaluated through the DevTools protocol: the site's Content-Security-Policy (release builds)
  // forbids inline <script> tags, which page.addScriptTag would add.
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const experimental = window.axe.getRules(tags).filter((r) => r.tags.includes('experimental')).map((r) => r.ruleId);
    const rules = Object.fromEntries(experimental.map((id) => [id, { enabled: true }]));
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, rules, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, n: v.nodes.length,
      nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 220)}`),
    }));
  }, TAGS);
}

async function setTheme(page, theme) {
  await page.selectOption('#theme', theme);
  await page.waitForFunction((t) => document.documentElement.getAttribute('data-theme') === t, theme);
}

test('axe-core: no WCAG 2.1 A/AA violation on any tab, light and dark, with cells, a field and a Learn answer', { timeout: MODEL_TIMEOUT + 2 * CLASSIFY_TIMEOUT + 240_000 }, async () => {
  const cells = testImagesOfDistinctClasses(4).map((r) => r.path);
  const field = path.join(BCCD, 'JPEGImages', 'BloodImage_00007.jpg');
  await withApp('accessibility', async (app) => {
    const { page } = app;
    await waitForModelReady(page);
    const found = [];
    const check = async (where) => {
      const v = await violations(page);
      for (const x of v) found.push({ where, ...x });
      console.log(`# ${where}: ${v.length ? v.map((x) => `${x.id} (${x.n})`).join(', ') : 'no violation'}`);
    };

    // The empty page first (gallery, drop zone), then with cells and a field.
    await setTheme(page, 'light');
    await check('Classify, empty, light');
    await page.setInputFiles('#file-input', [...cells, field]);
    await waitForCellsSettled(page, { count: cells.length + 1 });
    await cellLocator(page, path.basename(cells[0])).click();
    await page.waitForSelector('[data-testid=result]', { timeout: 30_000 });
    await page.locator('[data-testid=field]').first().click();
    await page.waitForSelector('[data-testid=field-box]', { timeout: 30_000 });
    await check('Classify, a field shown, light');
    await page.locator('[data-testid=field-box]').first().click();
    await page.waitForSelector('[data-testid=field-crop] #viewer-image', { timeout: 30_000 });
    await check('Classify, a field cell shown, light');
    await cellLocator(page, path.basename(cells[1])).click();
    await page.waitForSelector('[data-testid=result][data-code]', { timeout: 30_000 });

    await page.click('#tab-learn');
    await page.waitForSelector('[data-testid=quiz-option]', { timeout: 60_000 });
    await page.locator('[data-testid=quiz-option]').first().click();
    await page.waitForSelector('[data-testid=quiz-feedback]', { timeout: 30_000 });

    for (const theme of ['light', 'dark']) {
      await setTheme(page, theme);
      for (const tab of ['classify', 'count', 'learn', 'atlas', 'about']) {
        await page.click(`#tab-${tab}`);
        await page.waitForFunction((id) => document.getElementById(id)?.getAttribute('aria-selected') === 'true', `tab-${tab}`);
        await page.waitForTimeout(300);
        await check(`${tab}, ${theme}`);
        await app.screenshot(`${tab}-${theme}`);
      }
    }
    assert.deepEqual(found, [], `axe violations:\n${JSON.stringify(found, null, 1)}`);
  });
});

/** Presses Tab (Shift+Tab with `back`) until the focused element matches `selector` (at most `max` presses); returns the presses. */
async function tabTo(page, selector, { back = false, max = 150 } = {}) {
  for (let i = 1; i <= max; i += 1) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return i;
  }
  const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  throw new Error(`${selector} not reached with ${max} Tab presses (focus on ${at})`);
}

test('keyboard only: choose files, select and reassign a cell, open the count, export it', { timeout: MODEL_TIMEOUT + CLASSIFY_TIMEOUT + 180_000 }, async () => {
  const cells = testImagesOfDistinctClasses(3);
  await withApp('keyboard', async (app) => {
    const { page } = app;
    await waitForModelReady(page);
    // The file chooser: its button is reached with Tab and opened with Enter.
    const presses = await tabTo(page, 'label[for=file-input]');
    // Listening first (Playwright then intercepts the chooser), Enter once that is in place.
    const chooserEvent = page.waitForEvent('filechooser', { timeout: 10_000 });
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
    const chooser = await chooserEvent;
    await chooser.setFiles(cells.map((r) => r.path));
    const settled = await waitForCellsSettled(page, { count: cells.length });
    console.log(`# keyboard: file chooser after ${presses} Tab presses; ${settled.length} cells`);

    // A cell row with Tab, then a class key reassigns it (as on a manual counter).
    await tabTo(page, '[data-testid=cell]');
    const row = await page.evaluate(() => document.activeElement.getAttribute('data-file'));
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-selected')), 'true', 'focusing a row selects it');
    const other = (await page.evaluate(() => document.activeElement.getAttribute('data-predicted'))) === 'LYT' ? 'NGS' : 'LYT';
    const key = taxonomyKeys()[other];
    await page.keyboard.press(key);
    await page.waitForFunction(({ f, c }) => document.querySelector(`[data-testid=cell][data-file="${CSS.escape(f)}"]`)?.getAttribute('data-final') === c, { f: row, c: other }, { timeout: 10_000 });

    // The Count tab and its CSV export, by keyboard.
    await tabTo(page, '#tab-count', { back: true });
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('tab-count')?.getAttribute('aria-selected') === 'true');
    await tabTo(page, '#export-csv');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.keyboard.press('Enter')]);
    const file = await download.path();
    const csv = fs.readFileSync(file, 'utf8');
    const lines = csv.trim().split('\n');
    console.log(`# keyboard: CSV ${lines.length} lines; reassigned ${row} to ${other} by key ${key}`);
    assert.ok(lines.length >= cells.length + 1, `the CSV has a row per cell:\n${csv}`);
    for (const r of cells) assert.ok(csv.includes(path.basename(r.path)), `${path.basename(r.path)} in the CSV`);
    assert.ok(lines.some((l) => l.includes(row) && l.includes(other)), `the reassigned class ${other} of ${row} in the CSV`);
    await app.screenshot('keyboard-count');
  });
});
