// Trunk hook (post_build, Trunk.toml): makes the worker keep the messages it receives before its
// WebAssembly has started. A dedicated worker drops a message that arrives while it has no
// `onmessage`; trunk's loader (worker_loader.js: importScripts, then an asynchronous start) has
// none until the wasm runs. With this line first, such messages wait in `self.__marrowscopeEarly`
// and the worker handles them once it starts (src/web/worker/mod.rs, `start`). public/worker-boot.js
// relies on it: it hands the worker the model as soon as the download ends, before the worker
// says `alive` (issue 35, cold start).
//
//   node scripts/build/worker-loader.mjs [DIST]   (default: $TRUNK_STAGING_DIR, else dist)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const EARLY = "self.__marrowscopeEarly = []; self.onmessage = function (e) { self.__marrowscopeEarly.push(e.data); };\n";

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dist = process.argv[2] || process.env.TRUNK_STAGING_DIR || 'dist';
  const file = path.join(dist, 'worker_loader.js');
  if (!fs.existsSync(file)) {
    console.error(`worker-loader.mjs: ${file} is missing (is the worker built with data-loader-shim?)`);
    process.exit(1);
  }
  const src = fs.readFileSync(file, 'utf8');
  if (!src.startsWith(EARLY)) fs.writeFileSync(file, EARLY + src);
  console.log(`worker-loader: ${file} keeps the messages that arrive before the worker starts`);
}
