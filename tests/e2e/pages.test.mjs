// Atlas and About pages, the dataset citation, and the look of the classify view at a phone
// width and in dark theme (both the #theme select and the system colour scheme).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withApp, waitForCellsSettled, testImages, MODEL_TIMEOUT, CLASSIFY_TIMEOUT,
} from './lib.mjs';
import { readManifest, taxonomyKeys, waitForAppReady, EXTRA_CODES } from './flows.mjs';

const DOI = '10.7937/TCIA.AXH3-T579';

/** Relative luminance (0..1) of a computed CSS colour like "rgb(22, 19, 26)". */
function luminance(rgb) {
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(rgb);
  if (!m) return NaN;
  const [r, g, b] = m.slice(1, 4).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const colours = (page) =>
  page.evaluate(() => {
    const body = getComputedStyle(document.body);
    return { bg: body.backgroundColor, fg: body.color, theme: document.documentElement.getAttribute('data-theme') };
  });

test('atlas and about pages, citation', { timeout: MODEL_TIMEOUT + 60_000 }, async () => {
  const manifest = readManifest();
  const codes = Object.keys(taxonomyKeys());
  await withApp('pages', async (app) => {
    const { page } = app;
    await waitForAppReady(page);

    await page.click('#tab-atlas');
    assert.equal(await page.getAttribute('#tab-atlas', 'aria-selected'), 'true');
    await page.waitForSelector('[data-testid=atlas-class]', { state: 'visible' });
    const atlas = await page.$$eval('[data-testid=atlas-class]', (els) =>
      els.map((e) => ({ code: e.getAttribute('data-code'), known: e.getAttribute('data-known') })),
    );
    assert.equal(atlas.length, 21 + EXTRA_CODES.length, 'atlas shows the 21 MLL classes and platelets');
    assert.deepEqual(atlas.map((a) => a.code).sort(), [...codes].sort(), 'every class once');
    for (const a of atlas) {
      assert.equal(a.known, String(manifest.classes.includes(a.code)), `${a.code}: data-known`);
    }
    assert.ok(await page.locator('.atlas').textContent().then((t) => t.includes(manifest.model_id)), 'atlas names the loaded model');
    // The batch sidebar is hidden on the atlas.
    assert.equal(await page.locator('aside.sidebar').isVisible(), false, 'sidebar hidden on Atlas');
    await app.screenshot('atlas');

    await page.click('#tab-about');
    const facts = page.locator('[data-testid=model-facts]');
    await facts.waitFor({ state: 'visible' });
    const factsText = await facts.textContent();
    assert.ok(factsText.includes(manifest.model_id), `model facts lack the model id ${manifest.model_id}: ${factsText}`);
    for (const c of manifest.classes) assert.ok(factsText.includes(c), `model facts lack class ${c}`);
    const aboutText = await page.locator('.about').textContent();
    assert.ok(aboutText.includes(DOI), 'About shows the DOI');
    assert.ok(aboutText.includes('Matek'), 'About shows the citation');
    const footer = await page.locator('footer').textContent();
    assert.ok(footer.includes(DOI), `footer lacks the DOI: ${footer}`);
    const doiLinks = await page.$$eval('a[href*="10.7937"]', (as) => as.map((a) => a.getAttribute('href')));
    assert.ok(doiLinks.length >= 2 && doiLinks.every((h) => h === `https://doi.org/${DOI}`), `DOI links: ${doiLinks}`);
    await app.screenshot('about');
    assert.deepEqual(app.pageErrors, [], 'page errors');
  });
});

test('phone width and dark theme', { timeout: MODEL_TIMEOUT + CLASSIFY_TIMEOUT + 90_000 }, async () => {
  const [img] = testImages('NGS', 1);
  await withApp(
    'look',
    async (app) => {
      const { page } = app;
      await waitForAppReady(page);
      await page.setInputFiles('#file-input', img.path);
      await waitForCellsSettled(page, { count: 1 });
      await page.waitForSelector('[data-testid=result][data-code]');

      // Phone: nothing wider than the screen.
      const overflow = await page.evaluate(() => {
        const vw = document.documentElement.clientWidth;
        const wide = [...document.querySelectorAll('body *')]
          .filter((e) => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && r.right > vw + 1 && getComputedStyle(e).position !== 'fixed' && !e.closest('.visually-hidden');
          })
          .slice(0, 8)
          .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')} right=${Math.round(e.getBoundingClientRect().right)}`);
        return { scrollWidth: document.documentElement.scrollWidth, vw, wide };
      });
      await app.screenshot('phone-light');
      assert.ok(overflow.scrollWidth <= overflow.vw + 1, `page scrolls sideways at 390 px: ${JSON.stringify(overflow)}`);
      const light = await colours(page);
      assert.ok(luminance(light.bg) > 0.5, `light background expected: ${JSON.stringify(light)}`);

      // Dark through the theme select.
      await page.selectOption('#theme', 'dark');
      await page.waitForFunction(() => document.documentElement.getAttribute('data-theme') === 'dark');
      await page.waitForTimeout(300);
      const dark = await colours(page);
      assert.ok(luminance(dark.bg) < 0.1, `dark background expected: ${JSON.stringify(dark)}`);
      assert.ok(contrast(dark.bg, dark.fg) >= 7, `text contrast in dark theme ${contrast(dark.bg, dark.fg).toFixed(1)}`);
      await app.screenshot('phone-dark');
      assert.equal(await page.evaluate(() => localStorage.getItem('theme')), 'dark', 'theme is remembered');

      // Desktop width, dark.
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.waitForTimeout(300);
      await app.screenshot('desktop-dark');
      await page.click('#tab-count');
      await app.screenshot('count-dark');
      await page.click('#tab-about');
      await app.screenshot('about-dark');
      await page.click('#tab-classify');

      // System dark colour scheme with the theme on "system".
      await page.selectOption('#theme', '');
      await page.waitForFunction(() => !document.documentElement.hasAttribute('data-theme'));
      await page.emulateMedia({ colorScheme: 'light' });
      await page.waitForTimeout(200);
      assert.ok(luminance((await colours(page)).bg) > 0.5, 'system light → light');
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.waitForTimeout(300);
      const sys = await colours(page);
      assert.ok(luminance(sys.bg) < 0.1, `system dark → dark: ${JSON.stringify(sys)}`);
      await app.screenshot('system-dark');
      // An explicit "light" wins over a dark system.
      await page.selectOption('#theme', 'light');
      await page.waitForTimeout(300);
      assert.ok(luminance((await colours(page)).bg) > 0.5, 'theme light overrides a dark system');
      await page.selectOption('#theme', '');
      assert.deepEqual(app.pageErrors, [], 'page errors');
    },
    { viewport: { width: 390, height: 844 } },
  );
});
