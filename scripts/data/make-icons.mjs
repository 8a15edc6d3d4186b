#!/usr/bin/env node
// Draws the installable app's icons from public/favicon.svg with the system Chromium
// (playwright-core; nothing is downloaded): public/icons/icon-192.png, icon-512.png (the icon
// on a transparent ground) and icon-maskable-512.png (on an opaque ground, the drawing inside the
// central 80 % circle that every launcher's mask keeps). Run after changing the favicon:
//   node scripts/data/make-icons.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const svg = fs.readFileSync(path.join(ROOT, 'public', 'favicon.svg'), 'utf8');
const out = path.join(ROOT, 'public', 'icons');
fs.mkdirSync(out, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  const draw = async (file, size, { ground = 'transparent', scale = 1 } = {}) => {
    await page.setViewportSize({ width: size, height: size });
    const inner = Math.round(size * scale);
    await page.setContent(`<html><body style="margin:0;background:${ground};display:grid;place-items:center;width:${size}px;height:${size}px">
      <div style="width:${inner}px;height:${inner}px">${svg.replace('<svg ', `<svg width="${inner}" height="${inner}" `)}</div></body></html>`);
    await page.screenshot({ path: path.join(out, file), omitBackground: ground === 'transparent' });
    console.log(`${file}: ${size}×${size}`);
  };
  await draw('icon-192.png', 192);
  await draw('icon-512.png', 512);
  // Maskable: the circle of the favicon (radius 28 of 64 with its stroke) scaled to 70 % of the
  // side stays inside the 80 % safe zone; the ground is the page's light background.
  await draw('icon-maskable-512.png', 512, { ground: '#f7f5f8', scale: 0.7 });
} finally {
  await browser.close();
}
