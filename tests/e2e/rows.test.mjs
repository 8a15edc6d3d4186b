// Confirming while counting (issue 52, item 5): every result row's ✓ and class menu can be reached
// by mouse and touch at 1280, 1024, 820 and 390 px wide. Rows with every badge there is (single
// cells of several classes, images outside what the model knows: "outside", "not sure", a set of
// several classes) and a field's cells. At each width, every row scrolled into view: its ✓ and
// class menu lie inside the list (not past its edge, under the viewer) and are what a click at
// their centre hits; then one ✓ is clicked and its row is confirmed, and one menu reassigns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { withApp, waitForModelReady, testImagesOfDistinctClasses, ROOT, MODEL_TIMEOUT, CLASSIFY_TIMEOUT, BCCD_DATA as BCCD } from './lib.mjs';

const WIDTHS = [[1280, 900], [1024, 768], [820, 1180], [390, 844]];

/** A python with numpy and Pillow for scripts/data/make-ood-images.py, or null. */
function pythonWithNumpy() {
  for (const py of [process.env.PYTHON, path.join(ROOT, '.tools', 'py', 'bin', 'python'), path.join(ROOT, '.venv', 'bin', 'python'), 'python3'].filter(Boolean)) {
    if (py.includes(path.sep) && !fs.existsSync(py)) continue;
    if (spawnSync(py, ['-c', 'import numpy, PIL'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

/** A few images that are not cells (scripts/data/make-ood-images.py): rows with the "outside" badge. */
function nonCells(n) {
  const py = pythonWithNumpy();
  if (!py) return [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-rows-'));
  const r = spawnSync(py, [path.join(ROOT, 'scripts', 'data', 'make-ood-images.py'), dir], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return fs.readdirSync(dir).filter((f) => /^(noise|text|screen|shapes)-/.test(f)).sort().slice(0, n).map((f) => path.join(dir, f));
}

/** For every row with a ✓: whether its ✓ and class menu lie inside the list and are hit at their centre. */
async function unreachable(page) {
  return page.evaluate(async () => {
    const list = document.querySelector('ul.cells') || document.querySelector('[data-testid=cell]').parentElement;
    const bad = [];
    for (const row of document.querySelectorAll('[data-testid=cell]')) {
      const confirm = row.querySelector('[data-testid=confirm]');
      if (!confirm) continue;
      row.scrollIntoView({ block: 'center' });
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const menu = row.querySelector('[data-testid=reassign]');
      const l = list.getBoundingClientRect();
      for (const [what, el] of [['✓', confirm], ['menu', menu]]) {
        if (!el) {
          bad.push(`${row.getAttribute('data-file')}: no ${what}`);
          continue;
        }
        const r = el.getBoundingClientRect();
        const inside = r.width > 0 && r.left >= l.left - 0.5 && r.right <= l.right + 0.5 && r.top >= l.top - 0.5 && r.bottom <= l.bottom + 0.5;
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (!inside || !(hit === el || el.contains(hit))) {
          bad.push(`${row.getAttribute('data-file')}: ${what} at ${Math.round(r.left)}..${Math.round(r.right)} (list ${Math.round(l.left)}..${Math.round(l.right)}), hits ${hit?.tagName}.${hit?.className}`);
        }
      }
    }
    return bad;
  });
}

test('every row\'s ✓ and class menu are reachable at 1280, 1024, 820 and 390 px wide', { timeout: MODEL_TIMEOUT + 2 * CLASSIFY_TIMEOUT + 120_000 }, async () => {
  const files = [...testImagesOfDistinctClasses(6).map((r) => r.path), ...nonCells(4)];
  const field = path.join(BCCD, 'JPEGImages', 'BloodImage_00007.jpg');
  if (fs.existsSync(field)) files.push(field);
  await withApp('rows', async (app) => {
    const { page } = app;
    await waitForModelReady(page);
    await page.setInputFiles('#file-input', files);
    await page.waitForFunction((n) => {
      const entries = [...document.querySelectorAll('[data-testid=cell], [data-testid=field]')];
      return entries.length >= n && entries.every((e) => ['done', 'error'].includes(e.getAttribute('data-state')));
    }, files.length, { timeout: CLASSIFY_TIMEOUT });
    const outside = await page.locator('[data-testid=ood-badge]').count();
    console.log(`${await page.locator('[data-testid=confirm]').count()} rows with a ✓, ${outside} with "outside"`);
    let k = 0;
    for (const [width, height] of WIDTHS) {
      await page.setViewportSize({ width, height });
      await page.waitForTimeout(300);
      const bad = await unreachable(page);
      await app.screenshot(`${width}`);
      assert.deepEqual(bad, [], `at ${width} px`);
      // A real click on a ✓ confirms its row; a class menu reassigns.
      const rows = page.locator('[data-testid=cell][data-confirmed=false]');
      const row = rows.nth(0);
      const name = await row.getAttribute('data-file');
      await row.locator('[data-testid=confirm]').click();
      await page.waitForFunction((n) => [...document.querySelectorAll('[data-testid=cell]')]
        .some((e) => e.getAttribute('data-file') === n && e.getAttribute('data-confirmed') === 'true'), name, { timeout: 5_000 });
      const other = page.locator('[data-testid=cell][data-confirmed=false]').nth(0);
      const menu = other.locator('[data-testid=reassign]');
      await menu.click();
      await menu.selectOption({ index: k++ % 3 + 1 });
      await page.keyboard.press('Escape');
    }
    assert.deepEqual(app.pageErrors, []);
  });
});
