// Issue 15: the Learn tab. The teaching set is not part of the first load and is fetched when
// Learn opens; a student answers right (a button) and wrong, then right again with a class key;
// the feedback names the expert's label and shows the model's opinion; score, streak and the
// per-class table follow; the atlas offers the pair the student confused first; a reload keeps
// the progress; reset clears it after asking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withApp, DIST, MLL_DATA, MODEL_TIMEOUT } from './lib.mjs';
import { waitForAppReady, taxonomyKeys, copyDist } from './flows.mjs';

const index = JSON.parse(fs.readFileSync(path.join(DIST, 'teaching', 'index.json'), 'utf8'));

async function current(page, items = index) {
  const file = await page.getAttribute('[data-testid=quiz-image]', 'data-file');
  const item = items.find((i) => i.file === file);
  assert.ok(item, `${file} is in teaching/index.json`);
  return { file, label: item.label };
}

async function score(page) {
  return page.locator('[data-testid=quiz-score]').evaluate((e) => ({ right: Number(e.getAttribute('data-right')), total: Number(e.getAttribute('data-total')), streak: Number(e.getAttribute('data-streak')) }));
}

async function nextCell(page, via = 'button') {
  const before = await page.getAttribute('[data-testid=quiz-image]', 'data-file');
  if (via === 'button') await page.click('#quiz-next');
  else await page.keyboard.press('Enter');
  await page.waitForFunction((f) => !document.querySelector('[data-testid=quiz-feedback]') && document.querySelector('[data-testid=quiz-image]')?.getAttribute('data-file') !== f, before);
}

test('Learn: right and wrong answers, feedback with the model, score and classes, kept over a reload, reset', { timeout: MODEL_TIMEOUT + 240_000 }, async () => {
  const keys = taxonomyKeys();
  await withApp('learn', async (app) => {
    const { page } = app;
    await waitForAppReady(page);
    const teachingRequests = () => app.requests.filter((r) => r.url.includes('/teaching/')).length;
    assert.equal(teachingRequests(), 0, 'the first load does not fetch the teaching set');

    await page.click('#tab-learn');
    await page.waitForSelector('[data-testid=quiz-image]', { timeout: 30_000 });
    assert.ok(app.requests.some((r) => r.url.endsWith('/teaching/index.json')), 'Learn fetched teaching/index.json');
    const options = await page.$$eval('[data-testid=quiz-option]', (els) => els.map((e) => e.getAttribute('data-code')));
    assert.deepEqual([...options].sort(), [...new Set(index.map((i) => i.label))].sort(), 'one option per class of the set');
    await app.screenshot('before-answer');

    // 1. Right, with the button.
    const first = await current(page);
    await page.click(`[data-testid=quiz-option][data-code=${first.label}]`);
    const fb = page.locator('[data-testid=quiz-feedback]');
    await fb.waitFor();
    assert.equal(await fb.getAttribute('data-correct'), first.label);
    assert.equal(await fb.getAttribute('data-right'), 'true');
    await page.waitForSelector('[data-testid=quiz-model] .opinion[data-top]', { timeout: 60_000 });
    const top = await page.getAttribute('[data-testid=quiz-model] .opinion', 'data-top');
    assert.ok(top && top.length >= 3, `the model's top class: ${top}`);
    assert.equal(await page.locator('[data-testid=quiz-atlas]').count(), 1, 'right: the atlas card of the class');
    assert.deepEqual(await score(page), { right: 1, total: 1, streak: 1 });
    await app.screenshot('after-right-answer');

    // 2. Wrong.
    await nextCell(page);
    const second = await current(page);
    const wrong = options.find((c) => c !== second.label);
    await page.click(`[data-testid=quiz-option][data-code=${wrong}]`);
    await fb.waitFor();
    assert.equal(await fb.getAttribute('data-correct'), second.label);
    assert.equal(await fb.getAttribute('data-chosen'), wrong);
    assert.equal(await fb.getAttribute('data-right'), 'false');
    const verdict = await fb.locator('.verdict').textContent();
    assert.match(verdict, new RegExp(`this is ${second.label}.*you answered ${wrong}`), verdict);
    const sides = await page.$$eval('[data-testid=quiz-atlas]', (els) => els.map((e) => e.getAttribute('data-code')));
    assert.deepEqual(sides, [wrong, second.label], 'the atlas text of both classes, side by side');
    await page.waitForSelector('[data-testid=quiz-model] .opinion[data-top]', { timeout: 60_000 });
    assert.deepEqual(await score(page), { right: 1, total: 2, streak: 0 });
    await app.screenshot('after-wrong-answer');

    // 3. Right, with the keyboard (Enter for the next cell, the class's key to answer).
    await page.locator('#learn-title').click();
    await nextCell(page, 'key');
    const third = await current(page);
    await page.keyboard.press(keys[third.label]);
    await fb.waitFor();
    assert.equal(await fb.getAttribute('data-right'), 'true', `key ${keys[third.label]} for ${third.label}`);
    assert.deepEqual(await score(page), { right: 2, total: 3, streak: 1 });

    // The per-class table.
    const rows = await page.$$eval('[data-testid=quiz-class-row]', (els) => els.map((e) => ({ code: e.getAttribute('data-code'), seen: Number(e.getAttribute('data-seen')), right: Number(e.getAttribute('data-right')) })));
    const expected = {};
    for (const [label, ok] of [[first.label, 1], [second.label, 0], [third.label, 1]]) {
      expected[label] ??= { seen: 0, right: 0 };
      expected[label].seen += 1;
      expected[label].right += ok;
    }
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.code, { seen: r.seen, right: r.right }])), expected, JSON.stringify(rows));
    assert.ok(await page.locator('[data-testid=quiz-matrix]').count() === 1, 'the confusion matrix');
    await page.locator('.quiz-progress').screenshot({ path: path.join(path.dirname(new URL(import.meta.url).pathname), 'artifacts', 'learn-progress.png') });

    // The atlas offers the pair this student confused first.
    await page.click('#tab-atlas');
    const pair = await page.$eval('[data-testid=compare-pair]', (e) => [e.getAttribute('data-a'), e.getAttribute('data-b')]);
    assert.deepEqual(pair, [second.label, wrong].sort(), 'the confused pair comes first');
    const compared = await page.$$eval('[data-testid=compare-side]', (els) => els.map((e) => ({ code: e.getAttribute('data-code'), n: Number(e.getAttribute('data-examples')) })));
    assert.equal(compared.length, 2);
    assert.ok(compared.every((c) => c.n >= 2), `several examples each: ${JSON.stringify(compared)}`);
    await page.locator('[data-testid=compare]').screenshot({ path: path.join(path.dirname(new URL(import.meta.url).pathname), 'artifacts', 'learn-compare.png') });

    // A focus: granulocyte maturation only.
    await page.click('#tab-learn');
    await page.selectOption('#quiz-focus', 'granulocytes');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=quiz-option]')].map((e) => e.getAttribute('data-code')).join(',') === 'PMO,MYB,MMZ,NGB,NGS');
    const focused = await current(page);
    assert.ok(['PMO', 'MYB', 'MMZ', 'NGB', 'NGS'].includes(focused.label), focused.label);

    // The set is cached as Learn fetches it (every image, in the background): offline from now on.
    const cachedTeaching = () => page.evaluate(async () => {
      const name = (await caches.keys()).find((n) => n.startsWith('marrowscope-'));
      if (!name) return 0;
      return (await (await caches.open(name)).keys()).filter((r) => r.url.includes('/teaching/')).length;
    });
    const deadline = Date.now() + 120_000;
    while ((await cachedTeaching()) < index.length + 1 && Date.now() < deadline) await page.waitForTimeout(500);
    assert.equal(await cachedTeaching(), index.length + 1, 'the index and every image are in the offline cache');

    // A reload, offline, keeps the progress and the quiz.
    await app.context.setOffline(true);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.click('#tab-learn');
    await page.waitForSelector('[data-testid=quiz-score]');
    assert.deepEqual(await score(page), { right: 2, total: 3, streak: 1 }, 'kept over the reload');
    const shown = await page.locator('[data-testid=quiz-image]').evaluate((i) => i.decode().then(() => i.naturalWidth, () => 0));
    assert.ok(shown > 0, 'the quiz works offline');
    await app.context.setOffline(false);

    // Reset asks, then clears.
    await page.click('#quiz-reset');
    await page.waitForSelector('[data-testid=quiz-reset-confirm]');
    await page.click('#quiz-reset-yes');
    await page.waitForFunction(() => document.querySelector('[data-testid=quiz-score]')?.getAttribute('data-total') === '0');
    assert.equal(await page.locator('[data-testid=quiz-class-row]').count(), 0);
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});

// MLL crops of an artefact or of no identifiable cell have no cell at their centre, and the app
// reads such a file, dropped, as a field (field-like-crops.txt). On the Learn tab the image is
// known to be one cell's crop: the model's opinion must be on the whole crop, never "a field".
const NO_CELL_AT_CENTRE = ['ART/ART_00393.jpg', 'ART/ART_00436.jpg', 'NIF/NIF_00849.jpg', 'NIF/NIF_00852.jpg'];

test('Learn: the model gives its opinion on a crop with no cell at its centre (one cell, not a field)', { timeout: MODEL_TIMEOUT + 120_000 }, async () => {
  const dist = copyDist('marrowscope-learn-');
  try {
    const teaching = path.join(dist, 'teaching');
    fs.rmSync(teaching, { recursive: true, force: true });
    fs.mkdirSync(teaching);
    const items = NO_CELL_AT_CENTRE.map((rel) => {
      const [label, original] = rel.split('/');
      const file = `mll-${label}-${original}`;
      fs.copyFileSync(path.join(MLL_DATA, 'images', rel), path.join(teaching, file));
      return { file, label, source: 'marrow', dataset: 'MLL', original };
    });
    fs.writeFileSync(path.join(teaching, 'index.json'), JSON.stringify(items));
    await withApp('learn-no-cell-at-centre', async (app) => {
      const { page } = app;
      await waitForAppReady(page);
      await page.click('#tab-learn');
      await page.waitForSelector('[data-testid=quiz-image]', { timeout: 30_000 });
      const seen = [];
      for (let k = 0; k < items.length; k++) {
        if (k > 0) await nextCell(page);
        const { file, label } = await current(page, items);
        await page.click(`[data-testid=quiz-option][data-code=${label}]`);
        const model = page.locator('[data-testid=quiz-model]');
        await page.waitForFunction(() => !/Asking the model/.test(document.querySelector('[data-testid=quiz-model]')?.textContent || ''), null, { timeout: 60_000 });
        const top = await model.locator('.opinion').getAttribute('data-top', { timeout: 1_000 }).catch(() => null);
        assert.ok(top, `${file}: the model's opinion, not "${(await model.textContent()).trim()}"`);
        seen.push({ file, top });
      }
      console.log(`opinions on crops with no cell at the centre: ${JSON.stringify(seen)}`);
      assert.deepEqual(app.pageErrors, [], 'page errors');
    }, { dist });
  } finally {
    fs.rmSync(dist, { recursive: true, force: true });
  }
});
