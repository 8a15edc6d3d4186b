// Issue 13 end to end: prediction sets with their coverage in words, data-set/data-ood on every
// cell, the coverage level changing the sets, and a generated non-cell image flagged as outside
// what the model knows (while still offering its classes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  withApp, waitForModelReady, waitForCellsSettled, readCells, cellLocator, testImages, testImagesOfDistinctClasses,
  ROOT, MODEL_TIMEOUT, CLASSIFY_TIMEOUT,
} from './lib.mjs';

/** A python with numpy and Pillow for scripts/data/make-ood-images.py. */
function pythonWithNumpy() {
  const candidates = [process.env.PYTHON, path.join(ROOT, '.tools', 'py', 'bin', 'python'), path.join(ROOT, '.venv', 'bin', 'python'), 'python3']
    .filter(Boolean);
  for (const py of candidates) {
    if (py.includes(path.sep) && !fs.existsSync(py)) continue;
    if (spawnSync(py, ['-c', 'import numpy, PIL'], { stdio: 'ignore' }).status === 0) return py;
  }
  throw new Error('no python with numpy and Pillow (scripts/setup.sh makes .tools/py)');
}

function makeNonCells() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-ood-'));
  const r = spawnSync(pythonWithNumpy(), [path.join(ROOT, 'scripts', 'data', 'make-ood-images.py'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-ood-images.py failed (${r.status}): ${r.stderr}`);
  return dir;
}

const sizeOf = (set) => (set ? set.split(',').filter(Boolean).length : 0);

async function chooseLevel(page, percent) {
  await page.selectOption('#coverage-level', String(percent));
  await page.waitForFunction(
    (key) => document.querySelector('[data-testid=prediction-set]')?.getAttribute('data-level') === key,
    `0.${percent}`,
    { timeout: 10_000 },
  );
}

async function setsByFile(page) {
  return Object.fromEntries((await readCells(page)).map((c) => [c.file, c.set]));
}

test('prediction sets and the out-of-distribution flag', { timeout: MODEL_TIMEOUT + 2 * CLASSIFY_TIMEOUT + 120_000 }, async () => {
  const ngs = testImages('NGS', 4)[3]; // NGS_00803, the clear neutrophil of classify.test.mjs
  const cells = testImagesOfDistinctClasses(8).filter((r) => r.path !== ngs.path);
  const dir = makeNonCells();
  // noise-00 and shapes-01 have blobs the detector takes for white cells: they are read whole
  // because their colours are not a stain's (fields::SMEAR_COLOURS_MIN). text-00 (magenta text)
  // is not used: its colours are a stain's and it is read as a field of white cells too small to
  // classify (tests/uncertainty.rs counts such images: 12 of the 208 generated, at most 8 %).
  const nonCells = ['noise-00.png', 'text-01.png', 'shapes-01.png'].map((f) => path.join(dir, f));
  const files = [ngs.path, ...cells.map((r) => r.path), ...nonCells];
  const ngsName = path.basename(ngs.path);

  await withApp('uncertainty', async (app) => {
    const { page } = app;
    await waitForModelReady(page);
    assert.equal(await page.locator('#coverage-level').inputValue(), '90', 'the default coverage level is 90 %');
    await page.setInputFiles('#file-input', files);
    const settled = await waitForCellsSettled(page, { count: files.length });
    assert.equal(settled.length, files.length);

    // Every cell carries data-set (most probable first, so it starts with data-predicted; empty
    // when no class reaches the level) and data-ood.
    for (const c of settled) {
      assert.equal(c.state, 'done', `cell ${c.file}: ${JSON.stringify(c)}`);
      assert.equal(typeof c.set, 'string', `cell ${c.file} has no data-set: ${JSON.stringify(c)}`);
      if (c.set !== '') assert.equal(c.set.split(',')[0], c.predicted, `data-set of ${c.file} starts with its prediction`);
      assert.ok(['true', 'false'].includes(c.ood), `data-ood of ${c.file}: ${c.ood}`);
    }
    const byFile = Object.fromEntries(settled.map((c) => [c.file, c]));

    // The real neutrophil: not flagged, its set is shown with the coverage in words.
    assert.equal(byFile[ngsName].ood, 'false', `NGS cell flagged: ${JSON.stringify(byFile[ngsName])}`);
    assert.ok(sizeOf(byFile[ngsName].set) >= 1, `the NGS cell has an empty set: ${JSON.stringify(byFile[ngsName])}`);
    await cellLocator(page, ngsName).click();
    const set = page.locator('[data-testid=result] [data-testid=prediction-set]');
    await set.waitFor({ timeout: 30_000 });
    assert.equal(await set.getAttribute('data-set'), byFile[ngsName].set, 'result panel set = cell data-set');
    assert.equal(await set.getAttribute('data-level'), '0.90');
    const words = await page.locator('[data-testid=set-words]').textContent();
    assert.match(words, /contain the right class about 90 times in 100/, `coverage words: ${words}`);
    const members = await set.locator('[data-testid=set-member]').evaluateAll((els) => els.map((e) => e.getAttribute('data-code')));
    assert.deepEqual(members.join(','), byFile[ngsName].set, 'set members in order');
    const answer = await page.locator('[data-testid=set-answer]').textContent();
    if (members.length === 1) assert.match(answer, /^Confident: NGS/, answer);
    else assert.match(answer, /^One of \d+:/, answer);
    assert.equal(await page.locator('[data-testid=result] [data-testid=ood-flag]').count(), 0, 'no OOD notice for a real cell');
    await app.screenshot('set-ngs');

    // The real cells are (nearly) all inside what the model knows.
    const real = settled.filter((c) => !c.file.includes('-'));
    assert.ok(real.filter((c) => c.ood === 'true').length <= 1, `real cells flagged: ${JSON.stringify(real)}`);

    // Changing the coverage level changes the sets: nested, larger at 95 % than at 80 %.
    const at90 = await setsByFile(page);
    await chooseLevel(page, 80);
    const at80 = await setsByFile(page);
    await chooseLevel(page, 95);
    const at95 = await setsByFile(page);
    assert.match(await page.locator('[data-testid=set-words]').textContent(), /95 times in 100/);
    let changed = 0;
    for (const f of Object.keys(at90)) {
      assert.ok(sizeOf(at80[f]) <= sizeOf(at90[f]) && sizeOf(at90[f]) <= sizeOf(at95[f]), `sets of ${f} not nested: ${at80[f]} / ${at90[f]} / ${at95[f]}`);
      assert.ok(at95[f].startsWith(at80[f]), `${f}: the 80 % set ${at80[f]} is not the start of the 95 % set ${at95[f]}`);
      if (at80[f] !== at95[f]) changed += 1;
    }
    assert.ok(changed >= 1, `no set changed between 80 % and 95 %: ${JSON.stringify(at95)}`);
    const sizes = await page.locator('[data-testid=cell] [data-testid=set-size]').count();
    assert.equal(sizes, files.length, 'every cell shows its set size');
    await app.screenshot('sets-95');
    await chooseLevel(page, 90);

    // Generated non-cell images: flagged, with the reason, and still offering their classes.
    for (const f of nonCells.map((p) => path.basename(p))) {
      assert.equal(byFile[f].ood, 'true', `${f} not flagged: ${JSON.stringify(byFile[f])}`);
    }
    const noise = path.basename(nonCells[0]);
    await cellLocator(page, noise).click();
    await page.waitForSelector('[data-testid=result][data-ood=true]', { timeout: 30_000 });
    const flag = await page.locator('[data-testid=result] [data-testid=ood-flag]').textContent();
    assert.match(flag, /Outside what this model knows/, flag);
    assert.match(flag, /validation cells/, `the notice says why: ${flag}`);
    assert.ok((await page.locator('[data-testid=result] [data-testid=result-row]').count()) >= 1, 'a flagged image still offers its top classes');
    assert.ok((await cellLocator(page, noise).locator('[data-testid=ood-badge]').count()) === 1, 'the list marks it');
    await app.screenshot('ood-noise');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
  fs.rmSync(dir, { recursive: true, force: true });
});
