// Issue 34, item 4: an installable offline app. Served under a sub-path (/marrowscope/), the page
// links a web app manifest whose start_url and scope are that path; its icons (192 and 512, and
// a maskable 512) load at their stated sizes; Chromium reports no installability error
// (DevTools Protocol Page.getInstallabilityErrors: manifest, icons, service worker with a fetch
// handler); the manifest and icons are precached; and the start_url, opened with the network
// gone (context offline and the server stopped) as an installed app opens it, loads the app and
// its model from the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { withApp, waitForModelReady, MODEL_TIMEOUT, ARTIFACTS } from './lib.mjs';
import { waitForServiceWorker, cachedPaths, SW_TIMEOUT } from './flows.mjs';

test('installable: manifest under the sub-path, icons, no installability error, the start_url opens offline', { timeout: 2 * MODEL_TIMEOUT + SW_TIMEOUT + 60_000 }, async () => {
  await withApp(
    'install',
    async (app) => {
      const { page, context } = app;
      await waitForServiceWorker(page);
      await waitForModelReady(page);

      const href = await page.evaluate(() => document.querySelector('link[rel=manifest]')?.href);
      assert.ok(href, 'a <link rel=manifest>');
      const manifest = await page.evaluate(async (u) => (await fetch(u)).json(), href);
      const startUrl = new URL(manifest.start_url, href).href;
      const scope = new URL(manifest.scope, href).href;
      console.log(`# manifest ${href}: start_url ${startUrl}, scope ${scope}, display ${manifest.display}`);
      assert.equal(new URL(startUrl).pathname, '/marrowscope/', 'start_url is the BASE the site is served under');
      assert.equal(new URL(scope).pathname, '/marrowscope/', 'scope is the BASE');
      assert.ok(manifest.name && manifest.short_name, 'name and short_name');
      assert.equal(manifest.display, 'standalone');
      assert.match(manifest.theme_color, /^#[0-9a-f]{6}$/i);
      assert.match(manifest.background_color, /^#[0-9a-f]{6}$/i);

      // Every PNG icon loads and has the size it states; 192, 512 and a maskable one are there.
      const icons = await page.evaluate(async ({ icons, base }) => Promise.all(icons.map(async (i) => {
        const u = new URL(i.src, base).href;
        const r = await fetch(u);
        if (!r.ok) return { ...i, status: r.status };
        if (i.type !== 'image/png') return { ...i, status: r.status };
        const b = await createImageBitmap(await r.blob());
        return { ...i, status: r.status, actual: `${b.width}x${b.height}` };
      })), { icons: manifest.icons, base: href });
      console.log(`# icons ${JSON.stringify(icons)}`);
      for (const i of icons) {
        assert.equal(i.status, 200, `icon ${i.src}`);
        if (i.actual) assert.equal(i.actual, i.sizes, `icon ${i.src} is ${i.actual}, said ${i.sizes}`);
      }
      const png = icons.filter((i) => i.type === 'image/png');
      assert.ok(png.some((i) => i.sizes === '192x192' && i.purpose.includes('any')), 'a 192 px icon');
      assert.ok(png.some((i) => i.sizes === '512x512' && i.purpose.includes('any')), 'a 512 px icon');
      assert.ok(png.some((i) => i.sizes === '512x512' && i.purpose.includes('maskable')), 'a maskable 512 px icon');

      // What Chromium itself says about installing it.
      const cdp = await context.newCDPSession(page);
      const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
      const parsed = await cdp.send('Page.getAppManifest');
      console.log(`# installability errors: ${JSON.stringify(installabilityErrors)}; manifest parse errors: ${JSON.stringify(parsed.errors)}`);
      assert.deepEqual(parsed.errors, [], 'the manifest parses without errors');
      // "in-incognito" only says that the test's browser context is off the record (every
      // Playwright context is); any other error is the app's.
      const errors = installabilityErrors.filter((e) => e.errorId !== 'in-incognito');
      assert.deepEqual(errors, [], 'Chromium finds the app installable');

      // Precached, so that an installed app opens without the network.
      const cached = (await cachedPaths(page)).paths.filter((u) => u.endsWith('.webmanifest') || u.includes('/icons/'));
      assert.ok(cached.some((u) => u.endsWith('/manifest.webmanifest')), `manifest precached: ${cached}`);
      assert.equal(cached.filter((u) => u.includes('/icons/')).length, 3, `icons precached: ${cached}`);

      await context.setOffline(true);
      await app.server.stop();
      const standalone = await context.newPage();
      await standalone.goto(startUrl, { waitUntil: 'domcontentloaded' });
      await waitForModelReady(standalone);
      assert.equal(await standalone.evaluate(() => !!navigator.serviceWorker.controller), true, 'served by the service worker');
      await standalone.screenshot({ path: path.join(ARTIFACTS, 'install-offline-start.png') });
      assert.deepEqual(app.pageErrors, [], 'page errors');
    },
    { base: '/marrowscope/' },
  );
});
