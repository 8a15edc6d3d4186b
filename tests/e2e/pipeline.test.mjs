// One path from a file to its result (issue 30): a fixed mixed set (MLL marrow crops, PBC blood
// originals, BCCD smear fields) run natively through the core's `pipeline::read_file`
// (`cargo run --example outcomes`, dev profile: it shares the built dependencies with
// `cargo test`) and dropped into the built site, whose worker runs the same function in wasm.
// Compared file by file and cell by cell: the same reading (single cell or field) with the same
// reason in words, the same number of cells, the same boxes, the same predicted class.
//
// Boxes: equal, or within 1 px on each of x, y, w, h. The two runs are the same Rust code, but not
// the same machine code underneath: the JPEG decoder's inverse DCT has x86-64 SIMD paths that
// wasm32 does not, and f32 functions such as `powf`, `exp` and `hypot` come from glibc natively
// and from Rust's own libm in wasm, which may differ in the last bit; a measure that falls on a
// rounding edge can then move a box edge by one pixel. A larger difference is a different path.
// The test prints how many boxes were exactly equal.
//
// Classes: equal. Where they differ (a near-tie that the two engines' last bits split), it is
// allowed only when the native top probability is below 0.5, and printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  withApp, waitForModelReady, readSplits, cellLocator, ROOT, MODEL_TIMEOUT, CLASSIFY_TIMEOUT,
} from './lib.mjs';

const SAMPLE = path.resolve(ROOT, process.env.PBC_SAMPLE_DATA || '../shared/data/pbc-sample');
const BCCD = path.resolve(ROOT, process.env.BCCD_DATA || '../shared/data/bccd');
const FIELD_TIMEOUT = Number(process.env.E2E_FIELD_TIMEOUT || 180_000);
/** The native run compiles the example first when it is not built yet (minutes on a small machine). */
const CARGO_TIMEOUT = Number(process.env.E2E_CARGO_TIMEOUT || 1_800_000);
/** Where a class may differ between wasm and native: a near-tie (native top probability below this). */
const NEAR_TIE = 0.5;
const BOX_TOLERANCE_PX = 1;

/** 4 MLL test crops (the first test row of every other class, sorted), 4 PBC originals (the
 * third image of the first four groups), 3 BCCD test fields (the first three of the split). */
function mixedSet() {
  const firstOf = new Map();
  for (const r of readSplits()) if (r.split === 'test' && !firstOf.has(r.label)) firstOf.set(r.label, r.path);
  const labels = [...firstOf.keys()].sort();
  const marrow = labels.filter((_, i) => i % 2 === 0).slice(0, 4).map((l) => firstOf.get(l));
  const groups = fs.readdirSync(SAMPLE, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const blood = groups.slice(0, 4).map((g) => {
    const files = fs.readdirSync(path.join(SAMPLE, g)).filter((f) => f.endsWith('.jpg')).sort();
    return path.join(SAMPLE, g, files[2]);
  });
  const ids = fs.readFileSync(path.join(BCCD, 'ImageSets', 'test.txt'), 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  const fields = ids.slice(0, 3).map((id) => path.join(BCCD, 'JPEGImages', `${id}.jpg`));
  return [...marrow, ...blood, ...fields];
}

/** The core's outcome for `files`, computed natively. */
function nativeOutcomes(files) {
  const r = spawnSync(process.env.CARGO || 'cargo', ['run', '--quiet', '--example', 'outcomes', '--', ...files], {
    cwd: ROOT, encoding: 'utf8', timeout: CARGO_TIMEOUT, maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, `cargo run --example outcomes failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

const parseBox = (s) => (s ? s.split(',').map(Number) : null);

/** Until every file has its entry (a field, or a cell of its own) and every entry has settled. */
async function waitForAll(page, names) {
  await page.waitForFunction((names) => {
    const settled = (e) => ['done', 'error'].includes(e.getAttribute('data-state'));
    const fields = [...document.querySelectorAll('[data-testid=field]')];
    const cells = [...document.querySelectorAll('[data-testid=cell]')];
    const entry = (n) => fields.find((e) => e.getAttribute('data-file') === n)
      ?? cells.find((e) => e.getAttribute('data-file') === n && !e.getAttribute('data-field'));
    return names.every((n) => entry(n)) && [...fields, ...cells].every(settled);
  }, names, { timeout: CLASSIFY_TIMEOUT + names.length * FIELD_TIMEOUT / 4, polling: 500 });
}

/** What the page shows for one file: its reading, the reason, and its cells (box, class). */
async function pageOutcome(page, name) {
  const field = page.locator(`[data-testid=field][data-file="${name}"]`);
  if (await field.count()) {
    await field.click();
    const explain = (await page.locator('[data-testid=field-result] [data-testid=layout]').textContent()).trim();
    const cells = await page.$$eval('[data-testid=cell]', (els, name) => els.filter((e) => e.getAttribute('data-field') === name).map((e) => ({
      file: e.getAttribute('data-file'),
      state: e.getAttribute('data-state'),
      box: e.getAttribute('data-box'),
      code: e.getAttribute('data-predicted'),
    })), name);
    // Detection order: `NAME · cell K`, K from 1.
    const k = (c) => Number(c.file.slice(`${name} · cell `.length));
    cells.sort((a, b) => k(a) - k(b));
    return { reading: 'field', explain, cells: cells.map((c) => ({ state: c.state, box: parseBox(c.box), code: c.code })) };
  }
  // A single cell: its box is the measured cell's, shown beside the crop the model saw.
  const cell = cellLocator(page, name);
  const state = await cell.getAttribute('data-state');
  if (state !== 'done') return { reading: 'single', error: await cell.locator('[data-testid=cell-error]').textContent().catch(() => state) };
  await cell.click();
  await page.waitForFunction((n) => document.querySelector('[data-testid=result] .file-name')?.textContent === n
    && document.querySelector('[data-testid=model-crop]'), name, { timeout: 30_000 });
  const box = await page.locator('[data-testid=model-crop]').getAttribute('data-box');
  const explain = (await page.locator('[data-testid=result] [data-testid=layout]').first().textContent()).trim();
  return { reading: 'single', explain, cells: [{ state, box: parseBox(box), code: await cell.getAttribute('data-predicted') }] };
}

test('the site and the native core read a mixed set the same, file by file and cell by cell',
  { timeout: CARGO_TIMEOUT + MODEL_TIMEOUT + CLASSIFY_TIMEOUT + 3 * FIELD_TIMEOUT }, async () => {
    const files = mixedSet();
    assert.equal(files.length, 11, `the mixed set: ${files.join(', ')}`);
    const native = nativeOutcomes(files);
    assert.equal(native.length, files.length);
    assert.deepEqual(native.map((o) => o.name), files.map((f) => path.basename(f)));
    assert.deepEqual(native.map((o) => o.reading), [...Array(8).fill('single'), ...Array(3).fill('field')],
      `the set's readings natively: ${JSON.stringify(native.map((o) => [o.name, o.reading, o.error]))}`);

    await withApp('pipeline', async (app) => {
      const { page } = app;
      await waitForModelReady(page);
      await page.setInputFiles('#file-input', files);
      await waitForAll(page, native.map((o) => o.name));
      let boxes = 0;
      let exact = 0;
      const ties = [];
      for (const want of native) {
        const got = await pageOutcome(page, want.name);
        const where = `${want.name}: native ${JSON.stringify(want)}, site ${JSON.stringify(got)}`;
        assert.equal(got.error, undefined, where);
        assert.equal(got.reading, want.reading, where);
        assert.equal(got.explain, want.explain, `the reason in words, ${where}`);
        assert.equal(got.cells.length, want.cells.length, `number of cells, ${where}`);
        want.cells.forEach((w, k) => {
          const g = got.cells[k];
          assert.equal(g.state, 'done', `cell ${k + 1}, ${where}`);
          if (w.box === null) {
            assert.equal(g.box, null, `cell ${k + 1} has no box natively, ${where}`);
          } else {
            assert.ok(g.box, `cell ${k + 1} has no box on the page, ${where}`);
            boxes += 1;
            const off = Math.max(...w.box.map((v, i) => Math.abs(v - g.box[i])));
            assert.ok(off <= BOX_TOLERANCE_PX, `cell ${k + 1}: box ${g.box} on the page, ${w.box} natively (${off} px), ${where}`);
            exact += off === 0;
          }
          if (g.code !== w.code) {
            assert.ok(w.probability < NEAR_TIE,
              `cell ${k + 1}: ${g.code} on the page, ${w.code} natively at ${w.probability.toFixed(3)} (not a near-tie), ${where}`);
            ties.push(`${want.name} cell ${k + 1}: ${g.code} / ${w.code} (${w.probability.toFixed(3)})`);
          }
        });
        console.log(`# ${want.name}: ${want.reading}, ${want.cells.map((c) => `${c.code}${c.box ? ` [${c.box}]` : ''}`).join(', ')}`);
      }
      console.log(`# ${native.length} files, ${native.reduce((s, o) => s + o.cells.length, 0)} cells: ${exact} of ${boxes} boxes exactly equal; classes differing at near-ties: ${ties.length ? ties.join('; ') : 'none'}`);
      assert.deepEqual(app.pageErrors, [], 'page errors');
    });
  });
