// A large batch: 100 real test-split images of mixed classes at once. Progress reaches 100/100,
// the main thread stays responsive throughout (setTimeout heartbeat + long-task observer), and
// the JS heap is recorded. Then: 30 images, cancelled soon after the start: queued cells become
// "cancelled", the rest "done", nothing stays queued/running, and the engine still works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  withApp, waitForCellsSettled, readCells, MODEL_TIMEOUT, CLASSIFY_TIMEOUT,
} from './lib.mjs';
import { mixedTestImages, waitForAppReady } from './flows.mjs';

const BATCH_TIMEOUT = Number(process.env.E2E_BATCH_TIMEOUT || 600_000);
const MAX_GAP_MS = Number(process.env.E2E_MAX_GAP_MS || 500);

/** Starts a heartbeat in the page: records the largest setTimeout gap, long tasks and the heap. */
async function startHeartbeat(page) {
  await page.evaluate(() => {
    const hb = { last: performance.now(), maxGap: 0, gaps: [], longTasks: [], heap: [], stopped: false };
    window.__hb = hb;
    const tick = () => {
      if (hb.stopped) return;
      const now = performance.now();
      const gap = now - hb.last;
      if (gap > hb.maxGap) hb.maxGap = gap;
      if (gap > 200) hb.gaps.push({ at: Math.round(now), gap: Math.round(gap) });
      hb.last = now;
      setTimeout(tick, 50);
    };
    setTimeout(tick, 50);
    const sampleHeap = () => {
      if (hb.stopped) return;
      if (performance.memory) hb.heap.push(performance.memory.usedJSHeapSize);
      setTimeout(sampleHeap, 1000);
    };
    sampleHeap();
    try {
      hb.observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) hb.longTasks.push({ at: Math.round(e.startTime), ms: Math.round(e.duration) });
      });
      hb.observer.observe({ type: 'longtask', buffered: false });
    } catch {
      hb.longTasksUnsupported = true;
    }
  });
}

async function stopHeartbeat(page) {
  return page.evaluate(() => {
    const hb = window.__hb;
    hb.stopped = true;
    hb.observer?.disconnect();
    return {
      maxGap: Math.round(hb.maxGap),
      gaps: hb.gaps,
      longTasks: hb.longTasks,
      longTasksUnsupported: !!hb.longTasksUnsupported,
      heapMax: hb.heap.length ? Math.max(...hb.heap) : null,
      heapLast: hb.heap.length ? hb.heap[hb.heap.length - 1] : null,
      heapFirst: hb.heap.length ? hb.heap[0] : null,
    };
  });
}

const mb = (b) => (b == null ? 'n/a' : `${(b / 1048576).toFixed(1)} MB`);

test('100 images: progress to 100/100, responsive main thread; then cancel a batch of 30', { timeout: MODEL_TIMEOUT + BATCH_TIMEOUT + CLASSIFY_TIMEOUT + 120_000 }, async () => {
  const images = mixedTestImages(100).map((r) => r.path);
  const second = mixedTestImages(30, { skip: 100 }).map((r) => r.path);
  const extra = mixedTestImages(1, { skip: 130 }).map((r) => r.path);
  const labels = new Set(mixedTestImages(100).map((r) => r.label));
  assert.ok(labels.size >= 3, `the 100 images cover only ${labels.size} classes`);

  await withApp('batch', async (app) => {
    const { page } = app;
    await waitForAppReady(page);

    // --- 100 images at once ---
    await startHeartbeat(page);
    const t0 = Date.now();
    await page.setInputFiles('#file-input', images);
    await page.waitForFunction(
      () => {
        const p = document.querySelector('[data-testid=progress]');
        return p?.getAttribute('data-done') === '100' && p?.getAttribute('data-total') === '100';
      },
      null,
      { timeout: BATCH_TIMEOUT, polling: 1000 },
    );
    const seconds = (Date.now() - t0) / 1000;
    const hb = await stopHeartbeat(page);
    const cells = await readCells(page);
    console.log(`batch: 100 images in ${seconds.toFixed(1)} s (${((seconds * 1000) / 100).toFixed(0)} ms/image)`);
    console.log(`batch: main thread max gap ${hb.maxGap} ms; gaps > 200 ms: ${JSON.stringify(hb.gaps)}`);
    console.log(`batch: long tasks (> 50 ms): ${hb.longTasksUnsupported ? 'not observable' : `${hb.longTasks.length}, longest ${Math.max(0, ...hb.longTasks.map((l) => l.ms))} ms`}`);
    console.log(`batch: JS heap (usedJSHeapSize) first ${mb(hb.heapFirst)}, max ${mb(hb.heapMax)}, last ${mb(hb.heapLast)}`);
    await app.screenshot('100-done');

    assert.equal(cells.length, 100, 'one cell per file');
    const notDone = cells.filter((c) => c.state !== 'done');
    assert.deepEqual(notDone, [], 'every real image is classified');
    const files = new Set(cells.map((c) => c.file));
    for (const p of images) assert.ok(files.has(path.basename(p)), `no cell for ${path.basename(p)}`);
    assert.ok(hb.maxGap <= MAX_GAP_MS, `main thread blocked for ${hb.maxGap} ms (limit ${MAX_GAP_MS}); gaps: ${JSON.stringify(hb.gaps)}`);
    assert.ok(await page.isEnabled('#cancel-batch') === false, 'cancel is disabled when nothing is pending');

    // --- 30 images, cancelled soon after the start ---
    await page.click('#clear-batch');
    await page.click('#confirm-clear');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=cell]').length === 0, null, { timeout: 10_000 });
    await page.setInputFiles('#file-input', second);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=cell]').length === 30, null, { timeout: 30_000 });
    // Let one or two finish, so that both outcomes occur; cancel at the latest after 1 done.
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid=cell]')].some((c) => c.getAttribute('data-state') === 'done'),
      null,
      { timeout: CLASSIFY_TIMEOUT, polling: 50 },
    );
    await page.click('#cancel-batch');
    await app.screenshot('cancelled');
    const after = await waitForCellsSettled(page, { count: 30, timeout: CLASSIFY_TIMEOUT });
    await page.waitForTimeout(3000); // nothing may start again after a cancel
    const settled = await readCells(page);
    const states = {};
    for (const c of settled) states[c.state] = (states[c.state] || 0) + 1;
    console.log(`cancel: ${JSON.stringify(states)}`);
    assert.equal(settled.length, 30);
    assert.ok((states.cancelled || 0) >= 1, `no cell was cancelled: ${JSON.stringify(states)}`);
    assert.ok((states.done || 0) >= 1, `no cell was done: ${JSON.stringify(states)}`);
    assert.equal((states.done || 0) + (states.cancelled || 0), 30, `only done/cancelled expected: ${JSON.stringify(states)}`);
    assert.deepEqual(settled.map((c) => c.state), after.map((c) => c.state), 'states changed after settling');
    // Cancelled cells come after the done ones (the queue is processed in order).
    const firstCancelled = settled.findIndex((c) => c.state === 'cancelled');
    assert.ok(settled.slice(firstCancelled).every((c) => c.state === 'cancelled'), 'a done cell after a cancelled one');
    const progress = page.locator('[data-testid=progress]');
    assert.equal(await progress.getAttribute('data-done'), '30');
    assert.equal(await progress.getAttribute('data-total'), '30');
    assert.equal(await page.isEnabled('#cancel-batch'), false);

    // The engine still works after a cancel.
    await page.setInputFiles('#file-input', extra);
    const withExtra = await waitForCellsSettled(page, { count: 31 });
    const e = withExtra.find((c) => c.file === path.basename(extra[0]));
    assert.equal(e?.state, 'done', `after cancel, a new image: ${JSON.stringify(e)}`);
    await app.screenshot('after-cancel');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});
