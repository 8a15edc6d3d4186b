// Smear fields (issue 14): a BCCD test field dropped into the built site shows its white cell(s)
// boxed and classified, each a [data-testid=cell] with data-field/data-box, counted in the count
// tab and exported with field and box; a cell removed (as a false one would be) and added back by a
// click on it (as a missed one would be); a generated 20-megapixel frame completes with progress
// while the page keeps answering. Prints the worker's detection time per field and its memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  withApp, waitForModelReady, readCells, downloadVia, assertResponsive, findPython, MODEL_TIMEOUT, BCCD_DATA as BCCD, bccdWbcBoxes as wbcBoxes, bccdTestIds as testIds,
} from './lib.mjs';

const FIELD_TIMEOUT = Number(process.env.E2E_FIELD_TIMEOUT || 180_000);

const fieldPath = (id) => path.join(BCCD, 'JPEGImages', `${id}.jpg`);
const parseBox = (s) => s.split(',').map(Number);

/** Wait until the field entry of `name` is done; returns its attributes. */
async function waitForField(page, name, timeout = FIELD_TIMEOUT) {
  const h = await page.waitForFunction(
    (name) => {
      const el = [...document.querySelectorAll('[data-testid=field]')].find((e) => e.getAttribute('data-file') === name);
      if (!el || el.getAttribute('data-state') !== 'done') return false;
      const cells = [...document.querySelectorAll('[data-testid=cell]')].filter((c) => c.getAttribute('data-field') === name);
      if (!cells.every((c) => ['done', 'error'].includes(c.getAttribute('data-state')))) return false;
      const figures = el.querySelector('[data-testid=field-layout]');
      return {
        cells: Number(el.getAttribute('data-cells')),
        detectMs: Number(figures.getAttribute('data-detect-ms')),
        fieldMs: Number(figures.getAttribute('data-field-ms')),
        memoryMb: Number(figures.getAttribute('data-memory-mb')),
      };
    },
    name,
    { timeout, polling: 250 },
  );
  return h.jsonValue();
}

async function fieldCells(page, name) {
  return page.$$eval('[data-testid=cell]', (els, name) => els.filter((e) => e.getAttribute('data-field') === name).map((e) => ({
    file: e.getAttribute('data-file'),
    state: e.getAttribute('data-state'),
    box: e.getAttribute('data-box'),
    predicted: e.getAttribute('data-predicted'),
    added: e.getAttribute('data-added'),
  })), name);
}

async function countTotal(page) {
  return page.$$eval('[data-testid=count-row]', (rows) => rows.reduce((s, r) => s + Number(r.getAttribute('data-count')), 0));
}

/** Client coordinates of a point (original image pixels) on the field shown in the viewer. */
async function clientPoint(page, x, y) {
  return page.$eval('[data-testid=field-view]', (svg, [x, y]) => {
    const r = svg.getBoundingClientRect();
    const w = Number(svg.getAttribute('data-width'));
    const h = Number(svg.getAttribute('data-height'));
    const s = Math.min(r.width / w, r.height / h);
    return { cx: r.left + (r.width - w * s) / 2 + x * s, cy: r.top + (r.height - h * s) / 2 + y * s };
  }, [x, y]);
}

test('a BCCD test field: white cells boxed, classified, counted, exported; a missed cell added by a click, a false one removed',
  { timeout: MODEL_TIMEOUT + 3 * FIELD_TIMEOUT }, async () => {
    // The first test field with one WBC that the detector finds (the doc lists those it does not).
    const problems = new Set(['BloodImage_00041', 'BloodImage_00088', 'BloodImage_00135', 'BloodImage_00171', 'BloodImage_00178', 'BloodImage_00220', 'BloodImage_00327']);
    const id = testIds().find((i) => !problems.has(i) && wbcBoxes(i).length === 1);
    const name = `${id}.jpg`;
    const truth = wbcBoxes(id)[0];
    await withApp('fields', async (app) => {
      const { page } = app;
      await waitForModelReady(page);
      await page.setInputFiles('#file-input', fieldPath(id));
      const f = await waitForField(page, name);
      console.log(`# ${name}: ${f.cells} white cell(s); worker: detection ${f.detectMs} ms, whole field (detection + classification) ${f.fieldMs} ms, wasm memory ${f.memoryMb} MB`);
      assert.ok(f.cells >= 1, `no white cell found in ${name}`);
      // Its time is a figure, printed above (goal <= 150 ms per 640x480 field), not a test: a
      // busy or slow machine must not fail it.
      assert.ok(f.detectMs > 0, `the worker reported no detection time (${f.detectMs})`);
      const layout = await page.locator('[data-testid=field-result] [data-testid=layout]').textContent();
      assert.match(layout, /^Field: \d+ white cells? found/, `layout text: ${layout}`);

      let cells = await fieldCells(page, name);
      assert.equal(cells.length, f.cells);
      for (const c of cells) {
        assert.equal(c.state, 'done', JSON.stringify(c));
        assert.ok(c.predicted, `no class on ${JSON.stringify(c)}`);
        assert.match(c.box, /^\d+,\d+,\d+,\d+$/, `data-box ${c.box}`);
        assert.ok(c.file.startsWith(`${name} · cell `), `data-file names the cell: ${c.file}`);
      }
      const hit = cells.find((c) => {
        const [x, y, w, h] = parseBox(c.box);
        const cx = x + w / 2;
        const cy = y + h / 2;
        return cx >= truth[0] && cx <= truth[2] && cy >= truth[1] && cy <= truth[3];
      });
      assert.ok(hit, `no box centred in the WBC box ${truth} of ${name}: ${JSON.stringify(cells)}`);

      // The viewer: a box per cell, coloured by class; a click on one shows its crop and result.
      const boxes = page.locator('[data-testid=field-box]');
      assert.equal(await boxes.count(), f.cells);
      await boxes.first().click();
      await page.waitForSelector('[data-testid=result][data-code]');
      await page.waitForSelector('[data-testid=field-crop] #viewer-image');
      await page.check('#cam-toggle');
      assert.ok(await page.locator('[data-testid=field-crop] canvas#cam-canvas').isVisible(), 'the map over the crop');
      await app.screenshot('field-selected');

      // Counted like dropped crops.
      await page.click('#tab-count');
      assert.equal(await countTotal(page), f.cells, 'the count holds every cell of the field');
      const csv = await downloadVia(page, '#export-csv', 'fields-export.csv');
      const lines = csv.text.split(/\r?\n/).filter(Boolean);
      assert.match(lines[0], /,field,box_x,box_y,box_w,box_h,too_small,confirmed,calibration$/);
      for (const c of cells) {
        const [x, y, w, h] = parseBox(c.box);
        assert.ok(lines.some((l) => l.includes(`,"${name}",${x},${y},${w},${h},false,`)), `CSV row for box ${c.box}`);
      }
      const json = JSON.parse((await downloadVia(page, '#export-json', 'fields-export.json')).text);
      assert.ok(json.cells.every((c) => c.field === name && Array.isArray(c.box) && c.box.length === 4), 'JSON field and box');
      await page.click('#tab-classify');

      // Remove a false one, then add a missed one by a click. BCCD test has one missed white cell
      // (00088), in a frame where nothing is found, which is then classified whole and has no field
      // to click on; so the cell found here is removed (as a false detection would be) and then
      // added back by a click on it, as a missed cell would be.
      await page.click('#tab-count');
      const before = await countTotal(page);
      await page.click('#tab-classify');
      await page.locator(`[data-testid=cell][data-file="${hit.file}"]`).click();
      await page.click('#remove-cell');
      await page.waitForFunction((f) => !document.querySelector(`[data-testid=cell][data-file="${f}"]`), hit.file);
      await page.click('#tab-count');
      assert.equal(await countTotal(page), before - 1, 'the count follows a removal');
      await page.click('#tab-classify');
      await page.locator(`[data-testid=field][data-file="${name}"]`).click();
      await page.waitForSelector(`[data-testid=field-view][data-field="${name}"]`);
      const { cx, cy } = await clientPoint(page, (truth[0] + truth[2]) / 2, (truth[1] + truth[3]) / 2);
      await page.mouse.click(cx, cy);
      await page.waitForFunction((n) => [...document.querySelectorAll('[data-testid=cell][data-added=true]')]
        .some((e) => e.getAttribute('data-field') === n && e.getAttribute('data-state') === 'done'), name, { timeout: FIELD_TIMEOUT });
      const added = (await fieldCells(page, name)).find((c) => c.added === 'true');
      const [ax, ay, aw, ah] = parseBox(added.box);
      assert.ok(ax + aw / 2 >= truth[0] && ax + aw / 2 <= truth[2] && ay + ah / 2 >= truth[1] && ay + ah / 2 <= truth[3],
        `added box ${added.box} is not on the WBC ${truth}`);
      assert.ok(added.predicted, 'the added cell is classified');
      await app.screenshot('field-added');
      await page.click('#tab-count');
      assert.equal(await countTotal(page), before, 'the added cell is counted');
      cells = await readCells(page);
      assert.ok(cells.every((c) => c.state === 'done'), JSON.stringify(cells));
      assert.deepEqual(app.pageErrors, [], 'page errors');
    });
  });

test('a 20-megapixel frame is handled with progress and the page keeps answering', { timeout: MODEL_TIMEOUT + 2 * FIELD_TIMEOUT }, async () => {
  // 5472x3648 (a 20 MP camera frame): a BCCD test field enlarged 2.85x, tiled 3x3, cropped, with
  // a little noise so that the JPEG is as large as a camera's (several MB).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-20mp-'));
  const file = path.join(dir, 'frame-20mp.jpg');
  const id = testIds()[0];
  const py = `
import sys
from PIL import Image
src = Image.open(sys.argv[1]).convert("RGB").resize((1824, 1368), Image.Resampling.BILINEAR)
out = Image.new("RGB", (5472, 3648))
for i in range(3):
    for j in range(3):
        out.paste(src, (i * 1824, j * 1368))
noise = Image.effect_noise((5472, 3648), 40).convert("RGB")
out = Image.blend(out, noise, 0.08)
out.save(sys.argv[2], quality=92)
`;
  const r = spawnSync(findPython(), ['-c', py, fieldPath(id), file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const mb = fs.statSync(file).size / 2 ** 20;
  await withApp('fields-20mp', async (app) => {
    const { page } = app;
    await waitForModelReady(page);
    const t0 = Date.now();
    await page.setInputFiles('#file-input', file);
    // While it runs: progress is shown, and the page answers every time it is asked.
    const stages = new Set();
    let worst = 0;
    for (;;) {
      const t = Date.now();
      await assertResponsive(page);
      worst = Math.max(worst, Date.now() - t);
      const s = await page.$eval('[data-file="frame-20mp.jpg"]', (e) => [e.getAttribute('data-testid'), e.getAttribute('data-state'), e.getAttribute('data-progress')]).catch(() => null);
      if (s?.[2]) stages.add(s[2].replace(/ \d+\/\d+$/, ''));
      if (s && s[0] === 'field' && s[1] === 'done') break;
      if (s && s[1] === 'error') assert.fail(`the 20 MP frame failed: ${await page.locator('[data-testid=cell-error]').textContent()}`);
      if (Date.now() - t0 > FIELD_TIMEOUT) assert.fail('the 20 MP frame did not finish');
      await page.waitForTimeout(200);
    }
    const f = await waitForField(page, 'frame-20mp.jpg');
    console.log(`# 20 MP frame (${mb.toFixed(1)} MB JPEG): ${f.cells} white cells in ${((Date.now() - t0) / 1000).toFixed(1)} s; worker detection ${f.detectMs} ms, whole frame ${f.fieldMs} ms; wasm memory ${f.memoryMb} MB; progress stages seen: ${[...stages].join(' | ')}; slowest page answer ${worst} ms`);
    assert.ok(stages.size >= 1, 'progress was shown');
    assert.ok(f.cells >= 3, `only ${f.cells} white cells in a 3x3 tiling of a field`);
    assert.ok(f.memoryMb <= 512, `wasm memory ${f.memoryMb} MB`);
    assert.ok(worst < 2000, `the page took ${worst} ms to answer`);
    await app.screenshot('field-20mp');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the BCCD test split through the worker: white-cell recall, precision, time per field', { timeout: MODEL_TIMEOUT + 4 * FIELD_TIMEOUT }, async () => {
  const ids = testIds();
  await withApp('fields-bccd-test', async (app) => {
    const { page } = app;
    await waitForModelReady(page);
    await page.setInputFiles('#file-input', ids.map(fieldPath));
    await page.waitForFunction((n) => {
      const fields = [...document.querySelectorAll('[data-testid=field]')];
      const cells = [...document.querySelectorAll('[data-testid=cell]')];
      return fields.length + cells.filter((c) => !c.getAttribute('data-field')).length >= n
        && [...fields, ...cells].every((e) => ['done', 'error'].includes(e.getAttribute('data-state')));
    }, ids.length, { timeout: 4 * FIELD_TIMEOUT, polling: 1000 });
    const fields = await page.$$eval('[data-testid=field]', (els) => els.map((e) => ({
      file: e.getAttribute('data-file'),
      ms: Number(e.querySelector('[data-testid=field-layout]').getAttribute('data-detect-ms')),
    })));
    // A frame in which no white cell is found is classified whole (BCCD test 00088): at most one.
    assert.ok(fields.length >= ids.length - 1, `${fields.length} of ${ids.length} BCCD test images taken as fields`);
    let tp = 0;
    let fp = 0;
    let boxes = 0;
    for (const id of ids) {
      const truth = wbcBoxes(id);
      const used = truth.map(() => false);
      for (const c of await fieldCells(page, `${id}.jpg`)) {
        const [x, y, w, h] = parseBox(c.box);
        const cx = x + w / 2;
        const cy = y + h / 2;
        const i = truth.findIndex((b, k) => !used[k] && cx >= b[0] && cx <= b[2] && cy >= b[1] && cy <= b[3]);
        if (i >= 0) {
          used[i] = true;
          tp += 1;
        } else fp += 1;
      }
      boxes += truth.length;
    }
    const ms = fields.map((f) => f.ms).sort((a, b) => a - b);
    const q = (p) => ms[Math.round((ms.length - 1) * p)];
    const recall = tp / boxes;
    const precision = tp / Math.max(1, tp + fp);
    console.log(`# BCCD test in the worker: ${ids.length} images, ${fields.length} taken as fields, ${boxes} WBC boxes, ${tp} found in boxes (box centre), ${fp} false: recall ${recall.toFixed(3)}, precision ${precision.toFixed(3)}; detection ms/field (goal: median <= 150) median ${q(0.5).toFixed(1)}, p95 ${q(0.95).toFixed(1)}, max ${ms[ms.length - 1].toFixed(1)}`);
    assert.ok(recall >= 0.95, `recall ${recall}`);
    assert.ok(precision >= 0.9, `precision ${precision}`);
    // Detection time is the figure printed above (goal: median <= 150 ms per field), not a test.
    assert.ok(q(0.5) > 0, `no detection time was reported (${q(0.5)})`);
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});
