// A phone photo through a microscope's eyepiece at a low magnification (issue 31): a BCCD test
// field reduced to 0.2 of its size (nuclei of about 20 px), tiled 4×4 with alternate tiles mirrored
// (a wide field of many cells), inside a dark round aperture of a 640×480 frame, saved as JPEG.
// The page takes it for a field, leaves the dark surround out, and boxes its white cells
// ([data-testid=field-box-too-small], data-box) where BCCD's authors boxed them, mapped into the
// photo: too small to classify, counted as white cells; the layout says a higher magnification is
// needed. Before issue 31's change the dark surround made the whole lit disc one "cell" and no white
// cell was found. Screenshot: eyepiece.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { withApp, waitForModelReady, findPython, MODEL_TIMEOUT, BCCD_DATA as BCCD, bccdWbcBoxes as wbcBoxes } from './lib.mjs';

const FIELD_TIMEOUT = Number(process.env.E2E_FIELD_TIMEOUT || 180_000);
const ID = 'BloodImage_00007'; // a BCCD test field with one white cell (as too-small.test.mjs)
const TILE = [128, 96];
const TILES = 4;
const FRAME = [640, 480];
const RADIUS = 230;

/** The eyepiece photo of `id` (JPEG) and the white-cell boxes inside its aperture, in its pixels. */
function eyepiece(id) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-eyepiece-'));
  const file = path.join(dir, `${id}-eyepiece.jpg`);
  const py = `
import sys
from PIL import Image, ImageOps, ImageDraw
tw, th, n, fw, fh, r = map(int, sys.argv[3:9])
small = Image.open(sys.argv[1]).convert("RGB").resize((tw, th), Image.Resampling.BOX)
frame = Image.new("RGB", (fw, fh), (12, 10, 14))
ox, oy = (fw - n * tw) // 2, (fh - n * th) // 2
for j in range(n):
    for i in range(n):
        t = small
        if i % 2: t = ImageOps.mirror(t)
        if j % 2: t = ImageOps.flip(t)
        frame.paste(t, (ox + i * tw, oy + j * th))
mask = Image.new("L", (fw, fh), 0)
ImageDraw.Draw(mask).ellipse((fw / 2 - r, fh / 2 - r, fw / 2 + r, fh / 2 + r), fill=255)
Image.composite(frame, Image.new("RGB", (fw, fh), (12, 10, 14)), mask).save(sys.argv[2], quality=80)
`;
  const r = spawnSync(findPython(), ['-c', py, path.join(BCCD, 'JPEGImages', `${id}.jpg`), file, ...TILE, TILES, ...FRAME, RADIUS].map(String), { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [tw, th] = TILE;
  const [sx, sy] = [tw / 640, th / 480];
  const [ox, oy] = [(FRAME[0] - TILES * tw) / 2, (FRAME[1] - TILES * th) / 2];
  const boxes = [];
  for (let j = 0; j < TILES; j++) {
    for (let i = 0; i < TILES; i++) {
      for (const b of wbcBoxes(id)) {
        let [x0, x1] = [b[0] * sx, b[2] * sx];
        let [y0, y1] = [b[1] * sy, b[3] * sy];
        if (i % 2) [x0, x1] = [tw - x1, tw - x0];
        if (j % 2) [y0, y1] = [th - y1, th - y0];
        const bb = [x0 + ox + i * tw, y0 + oy + j * th, x1 + ox + i * tw, y1 + oy + j * th];
        const [cx, cy] = [(bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2];
        if (Math.hypot(cx - FRAME[0] / 2, cy - FRAME[1] / 2) < RADIUS - 8) boxes.push(bb);
      }
    }
  }
  return { file, boxes };
}

test('a phone photo through the eyepiece at a low magnification: its white cells found in the aperture, boxed and counted, not classified',
  { timeout: MODEL_TIMEOUT + 2 * FIELD_TIMEOUT }, async () => {
    const { file, boxes: truth } = eyepiece(ID);
    assert.ok(truth.length >= 10, `${truth.length} white cells inside the aperture`);
    const name = path.basename(file);
    await withApp('eyepiece', async (app) => {
      const { page } = app;
      await waitForModelReady(page);
      await page.setInputFiles('#file-input', file);
      await page.waitForFunction((name) => [...document.querySelectorAll('[data-testid=field]')]
        .some((e) => e.getAttribute('data-file') === name && e.getAttribute('data-state') === 'done'), name, { timeout: FIELD_TIMEOUT });
      const field = page.locator(`[data-testid=field][data-file="${name}"]`);
      await field.click();
      const layout = await page.locator('[data-testid=field-result] [data-testid=layout]').textContent();
      assert.match(layout, /^Field: \d+ white cells found/, layout);
      assert.match(layout, /take the picture at a higher magnification/, layout);

      const found = (await page.$$eval('[data-testid=field-box-too-small]', (els) => els.map((e) => e.getAttribute('data-box'))))
        .map((b) => b.split(',').map(Number));
      const centreIn = ([x, y, w, h], t) => x + w / 2 >= t[0] && x + w / 2 <= t[2] && y + h / 2 >= t[1] && y + h / 2 <= t[3];
      const hit = truth.filter((t) => found.some((c) => centreIn(c, t))).length;
      const right = found.filter((c) => truth.some((t) => centreIn(c, t))).length;
      const recall = hit / truth.length;
      const precision = right / Math.max(1, found.length);
      console.log(`# ${name}: ${truth.length} white cells in the aperture, ${found.length} boxed; recall ${recall.toFixed(3)}, precision ${precision.toFixed(3)}`);
      // Every box lies inside the lit aperture, none on the dark surround.
      for (const [x, y, w, h] of found) {
        assert.ok(Math.hypot(x + w / 2 - FRAME[0] / 2, y + h / 2 - FRAME[1] / 2) < RADIUS, `box ${[x, y, w, h]} outside the aperture`);
      }
      assert.ok(recall >= 0.6, `recall ${recall.toFixed(3)}`);
      assert.ok(precision >= 0.8, `precision ${precision.toFixed(3)}`);
      assert.equal(await page.locator('[data-testid=field-box]').count(), 0, 'no classified box');
      assert.equal(await field.getAttribute('data-cells'), '0', 'no classified cell');
      await app.screenshot('eyepiece');

      await page.click('#tab-count');
      const row = page.locator('[data-testid=count-row][data-code=WBC]');
      assert.equal(await row.getAttribute('data-count'), String(found.length), 'counted as white cells');
    });
  });
