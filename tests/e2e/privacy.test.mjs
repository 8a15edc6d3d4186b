// Nothing leaves the machine: while the page loads, classifies 5 images and exports a CSV,
// every request is same-origin, a GET/HEAD, and carries no body. Checked both in the browser
// (Playwright's request events, including the service worker's) and in the server's own log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  withApp, waitForModelReady, waitForCellsSettled, testImagesOfDistinctClasses, downloadVia,
  MODEL_TIMEOUT, CLASSIFY_TIMEOUT,
} from './lib.mjs';

const LOCAL_SCHEMES = new Set(['data:', 'blob:', 'about:']);

test('no request leaves the origin, none sends data', { timeout: MODEL_TIMEOUT + CLASSIFY_TIMEOUT + 90_000 }, async () => {
  const images = testImagesOfDistinctClasses(5).map((r) => r.path);
  await withApp('privacy', async (app) => {
    const { page } = app;
    await waitForModelReady(page);
    await page.setInputFiles('#file-input', images);
    const cells = await waitForCellsSettled(page, { count: images.length });
    assert.equal(cells.filter((c) => c.state === 'done').length, images.length, JSON.stringify(cells));

    // The viewer with the activation-map overlay, then the count tab's export.
    await page.check('#cam-toggle');
    await page.waitForSelector('#viewer-image');
    await page.click('#tab-count');
    const { text, file } = await downloadVia(page, '#export-csv', 'privacy-export.csv');
    const lines = text.trim().split(/\r?\n/);
    assert.ok(lines.length >= images.length + 1, `CSV has ${lines.length} lines (${file})`);
    for (const img of images) assert.ok(text.includes(path.basename(img)), `CSV lacks ${path.basename(img)}`);

    await page.waitForTimeout(1000); // let late requests (e.g. service-worker precache) show up

    const offending = [];
    for (const r of app.requests) {
      const u = new URL(r.url);
      if (LOCAL_SCHEMES.has(u.protocol)) continue;
      if (u.origin !== app.origin) offending.push(`cross-origin ${r.method} ${r.url}`);
      if (r.method !== 'GET' && r.method !== 'HEAD') offending.push(`${r.method} ${r.url}`);
      if (r.hasBody) offending.push(`body of ${r.bodyBytes} bytes: ${r.method} ${r.url}`);
    }
    for (const r of app.server.requests) {
      if (r.method !== 'GET' && r.method !== 'HEAD') offending.push(`server saw ${r.method} ${r.url}`);
      if (r.bodyBytes > 0) offending.push(`server got a ${r.bodyBytes}-byte body: ${r.method} ${r.url}`);
    }
    for (const r of app.failedRequests) {
      const u = new URL(r.url);
      if (!LOCAL_SCHEMES.has(u.protocol) && u.origin !== app.origin) offending.push(`blocked cross-origin ${r.url}`);
    }
    assert.ok(app.requests.length > 0, 'no requests recorded at all');
    assert.deepEqual(offending, [], `\n${offending.join('\n')}\n`);
    await app.screenshot('done');
  }, { ownServer: true }); // the server's own request log is part of the check
});
