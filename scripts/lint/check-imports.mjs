// Fails when modules of the library in src/ import each other: a pair (A uses B and B uses A) or a
// longer loop. Reads each file's `crate::…` and `super::…` paths (in `use` lines and inline), maps
// each to the deepest module of src/ it names, and looks for strongly connected components.
// A folder's mod.rs handing on its own children's names (`pub use child::…`) is the folder's face,
// not an import; `super::` inside a file's `mod tests { … }` means the file itself.
// src/main.rs and src/bin/ are crates of their own (they use `marrowscope::…`) and are not read.
//
//   node scripts/lint/check-imports.mjs            # src/ of this checkout; prints the arrows' count
//   node scripts/lint/check-imports.mjs DIR        # another crate's src/ (the self-test uses this)
//   node scripts/lint/check-imports.mjs --arrows   # also lists every arrow, module by module
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every .rs file under `src` that belongs to the library, with its module path (`crate::a::b`). */
function modules(src) {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (path.relative(src, p) !== 'bin') walk(p);
      } else if (e.name.endsWith('.rs')) {
        const rel = path.relative(src, p).replace(/\\/g, '/');
        if (rel === 'main.rs') continue;
        let parts = rel.replace(/\.rs$/, '').split('/');
        if (parts[parts.length - 1] === 'mod' || rel === 'lib.rs') parts = parts.slice(0, -1);
        if (rel === 'lib.rs') parts = [];
        out.push({ file: p, rel: `src/${rel}`, path: ['crate', ...parts] });
      }
    }
  };
  walk(src);
  return out;
}

/** The source without comments and string literals (so that prose never counts as an import). */
function code(text) {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/r#*"[\s\S]*?"#*/g, '""')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\/\/[^\n]*/g, '');
}

/** Expands a `use` tree (`a::{b, c::{d, e}}`) into its full paths. */
function expand(tree) {
  tree = tree.replace(/\s+/g, '');
  const open = tree.indexOf('{');
  if (open < 0) return [tree.replace(/\bas\b.*$/, '')];
  const prefix = tree.slice(0, open);
  const inner = tree.slice(open + 1, tree.lastIndexOf('}'));
  const parts = [];
  let depth = 0;
  let cur = '';
  for (const ch of inner) {
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    cur += ch;
  }
  if (cur) parts.push(cur);
  return parts.flatMap((p) => expand(p).map((q) => (q === 'self' ? prefix.replace(/::$/, '') : prefix + q)));
}

/** The paths (as arrays of segments, absolute from `crate`) that one file names. */
function pathsOf(text, mod) {
  const src = code(text);
  const testsAt = src.search(/\bmod\s+tests\s*\{/);
  const found = [];
  const absolute = (raw, at) => {
    const segs = raw.split('::').filter(Boolean);
    if (segs[0] === 'crate') return segs;
    if (segs[0] !== 'super') return null;
    // Inside `mod tests { … }`, `super` is the file's own module.
    let base = testsAt >= 0 && at > testsAt ? [...mod.path] : mod.path.slice(0, -1);
    let i = 1;
    while (segs[i] === 'super') {
      base = base.slice(0, -1);
      i++;
    }
    return [...base, ...segs.slice(i)];
  };
  const useRe = /\buse\s+((?:crate|super)::[^;]*);/g;
  let m;
  const spans = [];
  while ((m = useRe.exec(src))) {
    spans.push([m.index, m.index + m[0].length]);
    const isPub = /\bpub(\([^)]*\))?\s+$/.test(src.slice(Math.max(0, m.index - 20), m.index));
    for (const p of expand(m[1])) {
      const abs = absolute(p, m.index);
      if (abs) found.push({ segs: abs, reexport: isPub });
    }
  }
  const inlineRe = /\b(?:crate|super)(?:::[A-Za-z_][A-Za-z0-9_]*)+/g;
  while ((m = inlineRe.exec(src))) {
    if (spans.some(([a, b]) => m.index >= a && m.index < b)) continue;
    const abs = absolute(m[0], m.index);
    if (abs) found.push({ segs: abs, reexport: false });
  }
  return found;
}

export function checkImports(src) {
  const mods = modules(src);
  const byPath = new Map(mods.map((m) => [m.path.join('::'), m]));
  const arrows = new Map(mods.map((m) => [m.rel, new Map()]));
  for (const m of mods) {
    for (const { segs, reexport } of pathsOf(fs.readFileSync(m.file, 'utf8'), m)) {
      // The deepest module of src/ that the path names.
      let target = null;
      for (let k = segs.length; k >= 1; k--) {
        const t = byPath.get(segs.slice(0, k).join('::'));
        if (t) {
          target = t;
          break;
        }
      }
      if (!target || target === m) continue;
      const own = m.path.join('::');
      const isChild = target.path.join('::').startsWith(`${own}::`);
      // A folder's face handing on its children's names is not an import.
      if (reexport && isChild && m.path.length < target.path.length) continue;
      // A parent naming its own descendants (`mod child;`, `child::f()`) is how Rust folders work;
      // only `pub use` re-exports would draw such arrows, and those are excused above.
      const names = arrows.get(m.rel).get(target.rel) ?? new Set();
      names.add(segs.slice(target.path.length).join('::') || '(module)');
      arrows.get(m.rel).set(target.rel, names);
    }
  }
  // Tarjan's strongly connected components.
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const loops = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of arrows.get(v).keys()) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) {
        low.set(v, Math.min(low.get(v), idx.get(w)));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) loops.push(comp.sort());
    }
  };
  for (const v of arrows.keys()) if (!idx.has(v)) visit(v);
  const count = [...arrows.values()].reduce((n, a) => n + a.size, 0);
  return { modules: mods.length, arrows, count, loops };
}

function main() {
  const args = process.argv.slice(2);
  const listArrows = args.includes('--arrows');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const src = args.find((a) => !a.startsWith('--')) ?? path.join(root, 'src');
  const { modules: n, arrows, count, loops } = checkImports(src);
  if (listArrows) {
    for (const [from, to] of arrows) for (const [t, names] of to) console.log(`${from} -> ${t}: ${[...names].join(', ')}`);
  }
  if (loops.length === 0) {
    console.log(`imports: ${n} modules of ${path.relative(process.cwd(), src) || src}, ${count} arrows; no pair or loop of modules that import each other`);
    return;
  }
  console.error(`imports: ${loops.length} loop(s) of modules that import each other:`);
  for (const comp of loops) {
    console.error(`  ${comp.join(', ')}`);
    for (const from of comp) {
      for (const [to, names] of arrows.get(from)) if (comp.includes(to)) console.error(`    ${from} -> ${to}: ${[...names].join(', ')}`);
    }
  }
  process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
