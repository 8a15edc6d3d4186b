// Trunk hook (post_build, Trunk.toml), release builds only: removes the `name` custom section
// (function names, 1.4 MB in the worker) from the site's WebAssembly files. The worker is built
// without wasm-opt (index.html, data-wasm-opt="0": binaryen's -O1/-O3 made its inference 10-15 %
// slower in Chromium; docs/benchmarks.md), so nothing else removes it. Names are kept in dev
// builds, where CPU profiles want them (scripts/bench/profile-worker.mjs).
//
//   node scripts/build/strip-names.mjs [DIST]   (default: $TRUNK_STAGING_DIR, else dist)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `bytes` without its custom sections named `name`; the same bytes when there are none. */
export function stripNames(bytes) {
  const magic = [0x00, 0x61, 0x73, 0x6d];
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) throw new Error('not a WebAssembly module');
  const leb = (at) => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (at >= bytes.length) throw new Error('truncated module');
      const b = bytes[at++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return [value, at];
    }
  };
  const keep = [bytes.subarray(0, 8)];
  let at = 8;
  while (at < bytes.length) {
    const start = at;
    const id = bytes[at];
    const [size, body] = leb(at + 1);
    const end = body + size;
    if (end > bytes.length) throw new Error('truncated module');
    let drop = false;
    if (id === 0) {
      const [len, name] = leb(body);
      drop = Buffer.from(bytes.subarray(name, name + len)).toString('utf8') === 'name';
    }
    if (!drop) keep.push(bytes.subarray(start, end));
    at = end;
  }
  return Buffer.concat(keep);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.env.TRUNK_PROFILE && process.env.TRUNK_PROFILE !== 'release') process.exit(0);
  const dist = process.argv[2] || process.env.TRUNK_STAGING_DIR || 'dist';
  for (const f of fs.readdirSync(dist).filter((f) => f.endsWith('.wasm'))) {
    const file = path.join(dist, f);
    const before = fs.readFileSync(file);
    const after = stripNames(before);
    if (after.length !== before.length) {
      fs.writeFileSync(file, after);
      console.log(`strip-names: ${f} ${before.length} → ${after.length} bytes`);
    }
  }
}
