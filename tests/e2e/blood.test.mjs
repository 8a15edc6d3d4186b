// Peripheral-blood originals as users drop them (issue 12): eight 360×363 PBC images, one of each
// group of Acevedo et al. 2020, dropped into the built site. The page finds each central cell,
// brings it to the model's scale and shows the crop the model saw ([data-testid=model-crop]); the
// top classes fall in the right group; a blood-only class says where it was learned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withApp, waitForModelReady, waitForCellsSettled, cellLocator, ROOT, MODEL_TIMEOUT, CLASSIFY_TIMEOUT } from './lib.mjs';
import { readManifest } from './flows.mjs';

const SAMPLE = path.resolve(ROOT, process.env.PBC_SAMPLE_DATA || '../shared/data/pbc-sample');
const GROUP = {
  BAS: 'basophil', EOS: 'eosinophil', EBO: 'erythroblast', PMO: 'ig', MYB: 'ig', MMZ: 'ig', LYT: 'lymphocyte', MON: 'monocyte',
  NGS: 'neutrophil', NGB: 'neutrophil', PLT: 'platelet',
};

/** The third image of each pbc-sample folder (a fixed, spread choice). */
function onePerGroup() {
  return fs.readdirSync(SAMPLE, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => {
    const files = fs.readdirSync(path.join(SAMPLE, d.name)).filter((f) => f.endsWith('.jpg')).sort();
    return { group: d.name, path: path.join(SAMPLE, d.name, files[2]) };
  });
}

test('peripheral-blood originals are cut to the model scale and classified', { timeout: MODEL_TIMEOUT + CLASSIFY_TIMEOUT + 60_000 }, async (t) => {
  const manifest = readManifest();
  if (!Object.values(manifest.class_sources ?? {}).flat().includes('blood')) {
    t.skip(`the model ${manifest.model_id} did not learn from peripheral blood`);
    return;
  }
  const images = onePerGroup();
  assert.equal(images.length, 8, 'pbc-sample has eight groups');
  await withApp('blood', async (app) => {
    const { page } = app;
    await waitForModelReady(page);
    await page.setInputFiles('#file-input', images.map((i) => i.path));
    const cells = await waitForCellsSettled(page, { count: images.length });
    const right = [];
    for (const img of images) {
      const cell = cells.find((c) => c.file === path.basename(img.path));
      assert.equal(cell?.state, 'done', `${img.path}: ${JSON.stringify(cell)}`);
      console.log(`${img.group.padEnd(13)} ${path.basename(img.path).padEnd(22)} -> ${cell.predicted} (set ${cell.set})`);
      if (GROUP[cell.predicted] === img.group) right.push(img.group);
    }
    // pbc-sample through the site scores far above this (docs/model-card.md); the old marrow-only
    // model put 1 or 2 of these 8 in the right group.
    assert.ok(right.length >= 7, `only ${right.length} of 8 in the right group: ${right.join(', ')}`);

    // The crop the model saw, with how it was cut, at the scale the manifest asks for
    // (image::cell_scale::CellScale::factor: (reference / nucleus)^exponent, kept within the nucleus range).
    const ebo = images.find((i) => i.group === 'erythroblast');
    await cellLocator(page, path.basename(ebo.path)).click();
    const crop = page.locator('[data-testid=model-crop]');
    await crop.waitFor({ timeout: 30_000 });
    const scale = Number(await crop.getAttribute('data-scale'));
    const nucleus = Number(await crop.getAttribute('data-nucleus'));
    const s = manifest.input.cell_scale;
    let target = s.nucleus_diameter_px ** (s.size_exponent ?? 1) * nucleus ** (1 - (s.size_exponent ?? 1));
    if (s.nucleus_range_px) target = Math.min(Math.max(target, s.nucleus_range_px[0]), s.nucleus_range_px[1]);
    assert.ok(nucleus > 20 && nucleus < 200, `measured nucleus ${nucleus} px in a 360×363 original`);
    assert.ok(Math.abs(scale - target / nucleus) < 0.02, `crop scale ${scale}, the manifest's rule gives ${(target / nucleus).toFixed(2)}`);
    assert.match(await crop.getAttribute('data-box'), /^\d+,\d+,\d+,\d+$/);
    assert.equal(await page.locator('#viewer-image').getAttribute('data-model-crop'), 'true');
    assert.match(await crop.innerText(), /The model saw this crop: the central cell .* cut out/);
    const code = await page.locator('[data-testid=result]').getAttribute('data-code');
    if (manifest.class_sources[code]?.length === 1 && manifest.class_sources[code][0] === 'blood') {
      assert.match(await page.locator('[data-testid=result] [data-testid=learned-from]').innerText(), /learned from peripheral blood only/);
    }
    await app.screenshot('blood-original');

    // The atlas says where each class was learned.
    await page.click('#tab-atlas');
    const ebAtlas = page.locator('[data-testid=atlas-class][data-code=EBO] [data-testid=learned-from]');
    assert.match(await ebAtlas.innerText(), /learned from peripheral blood only/);
    const plt = page.locator('[data-testid=atlas-class][data-code=PLT]');
    assert.equal(await plt.getAttribute('data-known'), 'true');
    await app.screenshot('atlas-sources');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});
