// After `trunk build`: pins a strict Content-Security-Policy into dist/index.html
// (as a <meta> tag) and writes dist/csp.txt (the same policy, plus what only an HTTP
// header can carry) for servers that send headers (scripts/serve.mjs does).
//
// Why each source is there:
//   script-src 'self' 'wasm-unsafe-eval' 'sha256-…'  — the app's own JS; compiling
//     WebAssembly needs 'wasm-unsafe-eval' (NOT 'unsafe-eval'); trunk's one inline
//     bootstrap <script type=module> is allowed by its hash only.
//   connect-src 'self'  — the page fetches only its own model, manifest and samples.
//   img-src 'self' blob: data:  — dropped images are shown from blob: URLs, never uploaded.
//   worker-src 'self'  — the classification worker is a file of this site.
//   style-src 'self'  — one stylesheet; no inline styles in markup.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = process.argv[2] || 'dist';
const file = join(dist, 'index.html');
let html = readFileSync(file, 'utf8');
const hashes = [];
for (const m of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
  hashes.push(`'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
}
const policy = [
  "default-src 'self'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');
html = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\s*/g, '');
html = html.replace(/(<meta charset="utf-8">)/i, `$1\n  <meta http-equiv="Content-Security-Policy" content="${policy}">`);
writeFileSync(file, html);
writeFileSync(join(dist, 'csp.txt'), `${policy}; frame-ancestors 'none'\n`);
console.log(`csp: ${hashes.length} inline script hash(es) pinned`);
