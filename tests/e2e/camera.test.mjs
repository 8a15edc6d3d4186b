// Counting at the microscope with a camera (issue 52), in Chromium with its fake camera playing a
// video that scripts/data/make-camera-video.py makes from three BCCD test fields (each held still for a
// few seconds, as a slide is). The camera opens live (`[data-testid=camera-view][data-state=live]`)
// with the fields' white cells boxed (`[data-testid=live-box]`, inside BCCD's WBC boxes); three
// captures (Space, the capture button, a click on the picture) become fields named `capture-…`
// whose cells (`data-field`) lie on BCCD's white cells; `[data-testid=count-progress]` counts them
// toward the target (`data-n`, `data-target`: 100 for blood, 200 for marrow by default; 500 chosen);
// the tab hidden stops the stream and shown again starts it; the camera lost mid-view says so in
// words; a reload keeps every capture. Other tests: the permission refused
// (`data-state=denied`, its message), no camera at all (`data-state=no-camera`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { withApp, waitForModelReady, findPython, ROOT, MODEL_TIMEOUT, BCCD_DATA as BCCD } from './lib.mjs';
import { waitForSaved } from './flows.mjs';

const FIELD_TIMEOUT = Number(process.env.E2E_FIELD_TIMEOUT || 180_000);
const HAVE_BCCD = fs.existsSync(path.join(BCCD, 'JPEGImages'));
const FAKE_UI = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

/** The video (Y4M) and its sidecar ({width, height, fields: [{id, boxes: [[x, y, w, h]]}]}). */
function makeVideo() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-camera-'));
  const file = path.join(dir, 'bccd.y4m');
  const r = spawnSync(findPython(), [path.join(ROOT, 'scripts', 'data', 'make-camera-video.py'), file, '--data', BCCD, '--hold', '3', '--fps', '5'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { file, meta: JSON.parse(fs.readFileSync(file + '.json', 'utf8')) };
}

const parseBox = (s) => s.split(',').map(Number);
/** Whether the centre of `box` lies inside one of `boxes` (`[x, y, w, h]`), `slack` px around. */
function centreInside(box, boxes, slack = 8) {
  const [x, y, w, h] = box;
  const cx = x + w / 2, cy = y + h / 2;
  return boxes.some(([bx, by, bw, bh]) => cx >= bx - slack && cx <= bx + bw + slack && cy >= by - slack && cy <= by + bh + slack);
}
/** The field of the video whose WBC boxes hold every box given (the frame shown then). */
function fieldOf(meta, boxes) {
  return meta.fields.find((f) => boxes.every((b) => centreInside(b, f.boxes)));
}

async function viewState(page) {
  return page.getAttribute('[data-testid=camera-view]', 'data-state');
}

async function captures(page) {
  return page.$$eval('[data-testid=field]', (els) => els.filter((e) => (e.getAttribute('data-file') || '').startsWith('capture-'))
    .map((e) => ({ name: e.getAttribute('data-file'), state: e.getAttribute('data-state'), cells: e.getAttribute('data-cells') })));
}

async function captureCells(page, name) {
  return page.$$eval('[data-testid=cell]', (els, name) => els.filter((e) => e.getAttribute('data-field') === name)
    .map((e) => ({ box: e.getAttribute('data-box'), predicted: e.getAttribute('data-predicted') })), name);
}

async function progress(page) {
  return page.$eval('[data-testid=count-progress]', (e) => ({
    n: Number(e.getAttribute('data-n')), target: Number(e.getAttribute('data-target')), text: e.textContent,
  }));
}

test('the camera: live boxes on the white cells, three captures read as dropped fields, the count toward its target, a reload keeps them',
  { skip: !HAVE_BCCD && `no BCCD data in ${BCCD}`, timeout: MODEL_TIMEOUT + 3 * FIELD_TIMEOUT }, async () => {
    const { file, meta } = makeVideo();
    await withApp('camera', async (app) => {
      const { page } = app;
      await waitForModelReady(page);
      const before = await progress(page);
      assert.equal(before.n, 0);
      const kind = await page.getAttribute('[data-testid=count-kind]', 'data-kind');
      assert.equal(before.target, kind === 'blood' ? 100 : 200, `default target for ${kind}`);
      assert.match(before.text, new RegExp(`0 of ${before.target} cells`));

      // Live, at the video's size, with the white cells boxed.
      await page.click('[data-testid=camera]');
      await page.waitForSelector('[data-testid=camera-view][data-state=live]', { timeout: 30_000 });
      assert.equal(await page.getAttribute('[data-testid=camera-view]', 'data-frame'), `${meta.width}x${meta.height}`);
      await page.waitForSelector('[data-testid=live-box]', { timeout: 30_000 });
      const live = (await page.$$eval('[data-testid=live-box]', (els) => els.map((e) => e.getAttribute('data-box')))).map(parseBox);
      assert.ok(fieldOf(meta, live), `live boxes ${JSON.stringify(live)} on one field's white cells`);
      await page.waitForTimeout(3000);
      const fps = Number(await page.getAttribute('[data-testid=camera-view]', 'data-fps'));
      console.log(`live boxes: ${live.length} on the frame, ${fps} frames a second`);
      await app.screenshot('live');

      // Three captures: Space on the view, the capture button, a click on the picture.
      await page.focus('[data-testid=camera-view]');
      await page.keyboard.press('Space');
      await page.waitForTimeout(1500);
      await page.click('[data-testid=camera-capture]');
      await page.waitForTimeout(1500);
      await page.click('video.camera-video');
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=field]')]
        .filter((e) => (e.getAttribute('data-file') || '').startsWith('capture-') && e.getAttribute('data-state') === 'done').length === 3,
      null, { timeout: FIELD_TIMEOUT });
      const caps = await captures(page);
      assert.equal(caps.length, 3, JSON.stringify(caps));
      assert.equal(new Set(caps.map((c) => c.name)).size, 3, 'three names');
      let total = 0;
      for (const c of caps) {
        assert.match(c.name, /^capture-\d{4}-\d\d-\d\d-\d{6}-\d{3}\.jpg$/);
        const cells = await captureCells(page, c.name);
        assert.ok(cells.length >= 1, `${c.name}: at least one white cell`);
        assert.equal(cells.length, Number(c.cells));
        const boxes = cells.map((x) => parseBox(x.box));
        const field = fieldOf(meta, boxes);
        assert.ok(field, `${c.name}: boxes ${JSON.stringify(boxes)} on one BCCD field's white cells`);
        assert.ok(cells.every((x) => x.predicted), `${c.name}: every cell classified`);
        console.log(`${c.name}: ${cells.length} cell(s) on ${field.id}`);
        total += cells.length;
      }
      const tooSmall = await page.locator('[data-testid=too-small]').count();
      await page.waitForFunction((n) => Number(document.querySelector('[data-testid=count-progress]').getAttribute('data-n')) === n,
        total + tooSmall, { timeout: 10_000 });
      const after = await progress(page);
      assert.match(after.text, new RegExp(`${total + tooSmall} of ${after.target} cells`));
      await page.selectOption('#count-target', '500');
      assert.equal((await progress(page)).target, 500);
      assert.match((await progress(page)).text, new RegExp(`${total + tooSmall} of 500 cells`));

      // The tab hidden: the stream stops; shown again: it starts again.
      await page.evaluate(() => { window.__camTrack = document.querySelector('video.camera-video').srcObject.getVideoTracks()[0]; });
      await page.evaluate(() => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
        document.dispatchEvent(new Event('visibilitychange'));
      });
      assert.equal(await page.evaluate(() => window.__camTrack.readyState), 'ended', 'the stream stops when the tab is hidden');
      await page.evaluate(() => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
        document.dispatchEvent(new Event('visibilitychange'));
      });
      await page.waitForSelector('[data-testid=camera-view][data-state=live]', { timeout: 30_000 });

      // The camera lost mid-view (unplugged): said in words, the captures kept.
      await page.evaluate(() => document.querySelector('video.camera-video').srcObject.getVideoTracks()[0].dispatchEvent(new Event('ended')));
      await page.waitForSelector('[data-testid=camera-view][data-state=error]');
      assert.match(await page.textContent('[data-testid=camera-problem]'), /stopped sending pictures/);
      await page.click('[data-testid=camera-retry]');
      await page.waitForSelector('[data-testid=camera-view][data-state=live]', { timeout: 30_000 });

      // A captured field in the viewer.
      await page.click('[data-testid=camera-close]');
      await page.click(`[data-testid=field][data-file="${caps[0].name}"]`);
      await page.waitForSelector('[data-testid=field-box]');
      await app.screenshot('captured');

      // A reload keeps every capture, its cells and the count.
      await waitForSaved(page);
      await page.reload({ waitUntil: 'domcontentloaded' });
      await waitForModelReady(page);
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=field]').length >= n, caps.length, { timeout: 30_000 });
      const again = await captures(page);
      assert.deepEqual(again.map((c) => [c.name, c.cells]).sort(), caps.map((c) => [c.name, c.cells]).sort());
      assert.equal((await progress(page)).n, total + tooSmall);
      assert.equal((await progress(page)).target, 500, 'the chosen target is kept');
      assert.deepEqual(app.pageErrors, []);
    }, { browserArgs: [...FAKE_UI, `--use-file-for-fake-video-capture=${file}`] });
  });

test('the permission refused: the view says so in words and the page goes on', { timeout: MODEL_TIMEOUT + 60_000 }, async () => {
  await withApp('camera-denied', async (app) => {
    const { page } = app;
    await page.click('[data-testid=camera]');
    await page.waitForSelector('[data-testid=camera-view][data-state=denied]', { timeout: 30_000 });
    const text = await page.textContent('[data-testid=camera-problem]');
    assert.match(text, /permission to use the camera was refused/);
    assert.match(text, /Retry/);
    await app.screenshot('denied');
    // The page goes on: the drop zone and the model still work.
    await waitForModelReady(page);
    assert.deepEqual(app.pageErrors, []);
  }, { browserArgs: ['--use-fake-device-for-media-stream', '--deny-permission-prompts'] });
});

test('no camera: the view says so in words', { skip: fs.existsSync('/dev/video0') && 'this machine has a camera', timeout: 60_000 }, async () => {
  await withApp('camera-none', async (app) => {
    const { page } = app;
    await page.click('[data-testid=camera]');
    await page.waitForSelector('[data-testid=camera-view]:is([data-state=no-camera], [data-state=error])', { timeout: 30_000 });
    assert.equal(await viewState(page), 'no-camera');
    assert.match(await page.textContent('[data-testid=camera-problem]'), /No camera was found/);
  }, { browserArgs: ['--use-fake-ui-for-media-stream'] });
});
