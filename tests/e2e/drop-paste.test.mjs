// Drag and drop of several files onto the drop zone, and paste from the clipboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withApp, waitForModelReady, waitForCellsSettled, testImages, MODEL_TIMEOUT, CLASSIFY_TIMEOUT } from './lib.mjs';

/** Builds File objects in the page from real image bytes and dispatches `kind` with them. */
async function dispatchFiles(page, kind, images) {
  const payload = images.map((p) => ({ name: path.basename(p), b64: fs.readFileSync(p).toString('base64') }));
  await page.evaluate(({ kind, payload }) => {
    const dt = new DataTransfer();
    for (const f of payload) {
      const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: 'image/jpeg' }));
    }
    if (kind === 'drop') {
      const zone = document.querySelector('#drop-zone');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    } else {
      document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }
  }, { kind, payload });
}

test('drag and drop of several files, then paste', { timeout: MODEL_TIMEOUT + 2 * CLASSIFY_TIMEOUT }, async () => {
  const dropped = [...testImages('EOS', 3), ...testImages('NGS', 4).slice(3)].map((r) => r.path);
  const pasted = testImages('LYT', 2).slice(1).map((r) => r.path);
  await withApp('drop-paste', async (app) => {
    const { page } = app;
    await waitForModelReady(page);
    await dispatchFiles(page, 'drop', dropped);
    let cells = await waitForCellsSettled(page, { count: dropped.length });
    assert.equal(cells.length, dropped.length);
    assert.ok(cells.every((c) => c.state === 'done'), JSON.stringify(cells));
    assert.deepEqual(cells.map((c) => c.predicted), ['EOS', 'EOS', 'EOS', 'NGS']);
    await app.screenshot('dropped');

    await dispatchFiles(page, 'paste', pasted);
    cells = await waitForCellsSettled(page, { count: dropped.length + 1 });
    const last = cells.find((c) => c.file === path.basename(pasted[0]));
    assert.ok(last, JSON.stringify(cells));
    assert.equal(last.state, 'done');
    assert.equal(last.predicted, 'LYT');
    await app.screenshot('pasted');
    assert.deepEqual(app.pageErrors, []);
  });
});
