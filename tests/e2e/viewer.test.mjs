// The viewer: for cells of at least 3 classes, the class activation map ("Show what the model
// looked at") draws a heat map whose weight lies towards the centre of the image (the cell is
// centred in MLL crops); screenshots of each. Keyboard zoom on the stage: + and 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  withApp, waitForCellsSettled, testImages, MODEL_TIMEOUT, CLASSIFY_TIMEOUT,
} from './lib.mjs';
import { readManifest, knownTestClasses, artifact, selectCell, waitForAppReady } from './flows.mjs';

const PREFERRED = ['NGS', 'LYT', 'EOS', 'BLA', 'MON', 'PMO'];

/** Alpha statistics of #cam-canvas: coverage and the alpha-weighted centroid vs centre/corners. */
function camStats() {
  const c = document.getElementById('cam-canvas');
  if (!c) return { missing: true };
  const { width: w, height: h } = c;
  const d = c.getContext('2d').getImageData(0, 0, w, h).data;
  let sum = 0;
  let sx = 0;
  let sy = 0;
  let nonzero = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = d[(y * w + x) * 4 + 3];
      if (a > 0) nonzero++;
      sum += a;
      sx += a * (x + 0.5);
      sy += a * (y + 0.5);
    }
  }
  if (sum === 0) return { w, h, nonzero, sum, hidden: c.classList.contains('hidden') };
  const cx = sx / sum;
  const cy = sy / sum;
  const dist = (x, y) => Math.hypot(cx - x, cy - y);
  const dCentre = dist(w / 2, h / 2);
  const dCorner = Math.min(dist(0, 0), dist(w, 0), dist(0, h), dist(w, h));
  return { w, h, nonzero, sum, cx, cy, dCentre, dCorner, hidden: c.classList.contains('hidden'), display: getComputedStyle(c).display };
}

test('viewer: activation maps for 3+ classes, keyboard zoom', { timeout: MODEL_TIMEOUT + CLASSIFY_TIMEOUT + 120_000 }, async () => {
  const manifest = readManifest();
  assert.ok(manifest.cam, 'the manifest has no "cam" section: the app cannot show activation maps');
  const known = knownTestClasses(manifest);
  const classes = [...PREFERRED.filter((c) => known.includes(c)), ...known.filter((c) => !PREFERRED.includes(c))].slice(0, 4);
  assert.ok(classes.length >= 3, `need 3 classes the model knows with test images; have ${known}`);
  const imgs = classes.map((c) => ({ code: c, path: testImages(c, 1)[0].path }));

  await withApp('viewer', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    await page.setInputFiles('#file-input', imgs.map((i) => i.path));
    const cells = await waitForCellsSettled(page, { count: imgs.length });
    assert.ok(cells.every((c) => c.state === 'done'), JSON.stringify(cells));

    const report = [];
    for (const img of imgs) {
      const name = path.basename(img.path);
      await selectCell(page, name);
      await page.waitForFunction((n) => document.getElementById('viewer-image')?.getAttribute('alt')?.includes(n), name, { timeout: 10_000 });
      await page.waitForFunction(() => {
        const i = document.getElementById('viewer-image');
        return i?.complete && i.naturalWidth > 0;
      }, null, { timeout: 10_000 });
      await page.check('#cam-toggle');
      // Wait until the heat map is drawn.
      await page
        .waitForFunction(() => {
          const c = document.getElementById('cam-canvas');
          if (!c || c.classList.contains('hidden')) return false;
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
          return false;
        }, null, { timeout: 10_000, polling: 200 })
        .catch(() => {});
      await page.waitForTimeout(300);
      const s = await page.evaluate(camStats);
      const predicted = cells.find((c) => c.file === name)?.predicted;
      report.push(`${img.code} (${name}, predicted ${predicted}): ${JSON.stringify(s, (k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
      await page.locator('.viewer').screenshot({ path: artifact(`viewer-cam-${img.code}.png`) });

      assert.ok(!s.missing, `${img.code}: no #cam-canvas`);
      assert.ok(!s.hidden, `${img.code}: #cam-canvas is hidden with the toggle on`);
      assert.ok(s.nonzero > 0, `${img.code}: #cam-canvas has no visible pixel: ${JSON.stringify(s)}`);
      assert.ok(s.dCentre < s.dCorner, `${img.code}: heat centroid (${s.cx?.toFixed(0)}, ${s.cy?.toFixed(0)}) is nearer a corner than the centre`);

      // The #cam-class select redraws the map for the chosen class. Two classes can have the
      // same normalised map (e.g. both positive only at the centre of the 5×5 feature map), so
      // the assertion is that some other class draws a different map.
      if (await page.locator('#cam-class').count()) {
        const before = await page.evaluate(() => document.getElementById('cam-canvas').toDataURL());
        const opts = await page.locator('#cam-class option').evaluateAll((os) => os.map((o) => ({ v: o.value, sel: o.selected })));
        const others = opts.filter((o) => !o.sel);
        let differs = null;
        for (const other of others) {
          await page.selectOption('#cam-class', other.v);
          await page.waitForTimeout(200);
          const after = await page.evaluate(() => document.getElementById('cam-canvas').toDataURL());
          if (after !== before) {
            differs = other.v;
            break;
          }
        }
        if (others.length) assert.ok(differs !== null, `${img.code}: the maps of all ${others.length} other classes are identical to the shown one`);
      }
    }
    console.log(`viewer CAM stats:\n  ${report.join('\n  ')}`);

    // Unticking hides the overlay.
    await page.uncheck('#cam-toggle');
    assert.equal(await page.locator('#cam-canvas').evaluate((c) => getComputedStyle(c).display), 'none', 'overlay hidden when unticked');

    // --- keyboard zoom on the stage ---
    const zoom = page.locator('.zoom-level');
    assert.equal((await zoom.textContent()).trim(), '100 %');
    await page.focus('.stage');
    await page.keyboard.press('+');
    await page.waitForFunction(() => document.querySelector('.zoom-level')?.textContent.trim() === '125 %', null, { timeout: 5000 });
    const transform = await page.locator('.viewer .layers').evaluate((e) => e.style.transform);
    assert.match(transform, /scale\(1\.25\)/, `layers transform: ${transform}`);
    await page.keyboard.press('+');
    await page.waitForFunction(() => document.querySelector('.zoom-level')?.textContent.trim() === '156 %', null, { timeout: 5000 });
    await page.keyboard.press('ArrowLeft');
    assert.match(await page.locator('.viewer .layers').evaluate((e) => e.style.transform), /translate\(20px, 0px\)/);
    await page.locator('.viewer').screenshot({ path: artifact('viewer-zoomed.png') });
    await page.keyboard.press('0');
    await page.waitForFunction(() => document.querySelector('.zoom-level')?.textContent.trim() === '100 %', null, { timeout: 5000 });
    // Zooming out below 100 % is clamped.
    await page.keyboard.press('-');
    await page.waitForTimeout(200);
    assert.equal((await zoom.textContent()).trim(), '100 %', 'zoom out is clamped at 100 %');
    // '0' on the stage must not have been taken as a class key (none is bound to 0), and '+'
    // did not change any cell's final class.
    const finals = await page.$$eval('[data-testid=cell]', (els) => els.map((e) => [e.getAttribute('data-predicted'), e.getAttribute('data-final')]));
    assert.ok(finals.every(([p, f]) => p === f), `a zoom key changed a cell: ${JSON.stringify(finals)}`);
    await app.screenshot('viewer');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});
