// Fails when modules of the library in src/ import each other: a pair (A uses B and B uses A) or a
// longer loop; and when a folder imports one that the table of docs/architecture.md ("What each
// folder may import") does not let it import (an arrow up), printing the file and line. Reads each file's `crate::…` and `super::…` paths (in `use` lines and inline), maps
// each to the deepest module of src/ it names, and looks for strongly connected components.
// A folder's mod.rs handing on its own children's names (`pub use child::…`) is the folder's face,
// not an import; `super::` inside a file's `mod tests { … }` means the file itself.
// src/main.rs and src/bin/ are crates of their own (they use `marrowscope::…`) and are not read.
//
//   node scripts/lint/check-imports.mjs            # src/ of this checkout; prints the arrows' count
//   node scripts/lint/check-imports.mjs DIR        # another crate's src/ (the self-test uses this; no folder check)
//   node scripts/lint/check-imports.mjs --arrows   # also lists every arrow, module by module
//   node scripts/lint/check-imports.mjs --folders  # also lists every arrow between folders, with its count
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

/** The source with comments and string literals blanked (so that prose never counts as an import),
 *  every other character, line breaks included, where it was (so that an offset keeps its line). */
function code(text) {
  const blank = (m) => m.replace(/[^\n]/g, ' ');
  const quoted = (m) => `"${blank(m.slice(1, -1))}"`;
  return text
    .replace(/\/\*[\s\S]*?\*\//g, blank)
    .replace(/r#*"[\s\S]*?"#*/g, blank)
    .replace(/"(?:[^"\\]|\\.)*"/g, quoted)
    .replace(/\/\/[^\n]*/g, blank);
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
      if (abs) found.push({ segs: abs, reexport: isPub, at: m.index });
    }
  }
  const inlineRe = /\b(?:crate|super)(?:::[A-Za-z_][A-Za-z0-9_]*)+/g;
  while ((m = inlineRe.exec(src))) {
    if (spans.some(([a, b]) => m.index >= a && m.index < b)) continue;
    const abs = absolute(m[0], m.index);
    if (abs) found.push({ segs: abs, reexport: false, at: m.index });
  }
  for (const f of found) f.line = src.slice(0, f.at).split('\n').length;
  return found;
}

export function checkImports(src) {
  const mods = modules(src);
  const byPath = new Map(mods.map((m) => [m.path.join('::'), m]));
  const arrows = new Map(mods.map((m) => [m.rel, new Map()]));
  // Every import, where it stands: the folder check reads them.
  const uses = [];
  for (const m of mods) {
    for (const { segs, reexport, line } of pathsOf(fs.readFileSync(m.file, 'utf8'), m)) {
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
      uses.push({ from: m, to: target, segs, line });
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
  return { modules: mods.length, arrows, count, loops, mods, uses };
}

// ---------------------------------------------------------------------------------------------
// Folders. docs/architecture.md ("What each folder may import") has one table: each folder or
// top-level module of src/ (`ui/`, `pipeline.rs`, `web/worker.rs` …, in backticks) and, in its
// "may import" column, the ones it may import: named in backticks, "every row below" (optionally
// "except `…`"), or "nothing". Rows run from the top floor down, and a row may only name rows
// below it, so the table itself has no arrow up; the check fails on any import of src/ that the
// table does not allow, with its file and line.

/** `ui/` → `ui`, `count.rs` → `count`, `web/worker.rs` → `web::worker`: a unit as a module path. */
function unitKey(name) {
  return name.replace(/\/$/, '').replace(/\.rs$/, '').replace(/\//g, '::');
}

/** The table of `markdown` (docs/architecture.md): `{ units: [[name…] per row], allowed: Map(key →
 *  Set of keys), names: Map(key → name), errors }`. */
export function readTable(markdown) {
  const errors = [];
  const at = markdown.search(/^## What each folder may import/m);
  if (at < 0) return { units: [], allowed: new Map(), names: new Map(), errors: ['no section "## What each folder may import"'] };
  const lines = markdown.slice(at).split('\n');
  const start = lines.findIndex((l) => l.trim().startsWith('|'));
  const rows = [];
  for (let i = start; i >= 0 && i < lines.length && lines[i].trim().startsWith('|'); i++) {
    rows.push(lines[i].trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim()));
  }
  const [header = [], , ...body] = rows;
  const unitCol = header.findIndex((h) => /folder/i.test(h));
  const mayCol = header.findIndex((h) => /may import/i.test(h));
  if (unitCol < 0 || mayCol < 0) errors.push('the table has no "folder" or no "may import" column');
  const ticks = (cell) => [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((x) => x[1]);
  const units = body.map((r) => ticks(r[unitCol]));
  const allowed = new Map();
  const names = new Map();
  body.forEach((r, i) => {
    const cell = r[mayCol] ?? '';
    const below = units.slice(i + 1).flat();
    let may;
    if (/every row below/i.test(cell)) {
      const except = ticks(cell.split(/\bexcept\b/i)[1]);
      may = below.filter((u) => !except.includes(u));
    } else if (/^nothing\b/i.test(cell)) {
      may = [];
    } else {
      may = ticks(cell);
    }
    for (const u of may) {
      if (!below.includes(u)) errors.push(`the row of ${units[i].map((x) => `\`${x}\``).join(', ')} lets it import \`${u}\`, which is on no row below it`);
    }
    for (const u of units[i]) {
      const key = unitKey(u);
      names.set(key, names.get(key) ?? u);
      const set = allowed.get(key) ?? new Set();
      for (const x of may) set.add(unitKey(x));
      allowed.set(key, set);
    }
  });
  return { units, allowed, names, errors };
}

/** The row (unit key) a module belongs to: the longest key of the table that its path starts with. */
function unitOf(modPath, allowed) {
  const segs = modPath.slice(1);
  for (let k = segs.length; k >= 1; k--) {
    const key = segs.slice(0, k).join('::');
    if (allowed.has(key)) return key;
  }
  return null;
}

/** Which module of src/ a name of the crate root (`crate::Manifest`) stands for: lib.rs's `pub use`s. */
function rootNames(src) {
  const lib = path.join(src, 'lib.rs');
  const out = new Map();
  if (!fs.existsSync(lib)) return out;
  const text = code(fs.readFileSync(lib, 'utf8'));
  for (const m of text.matchAll(/\bpub\s+use\s+([^;]*);/g)) {
    for (const p of expand(m[1])) {
      const segs = p.split('::').filter((x) => x && x !== 'crate');
      if (segs.length > 1) out.set(segs[segs.length - 1], ['crate', ...segs.slice(0, -1)]);
    }
  }
  return out;
}

/** Imports against the table: `{ up: [{ file, line, from, to, name }], unplaced: [file…], errors }`.
 *  `from`/`to` are the table's names of the rows (`session/`, `web/`). */
export function checkFolders(src, table) {
  const { mods, uses } = checkImports(src);
  const { allowed, names, errors } = table;
  const root = rootNames(src);
  const unplaced = mods.filter((m) => m.path.length > 1 && !unitOf(m.path, allowed)).map((m) => m.rel);
  const keys = new Set(mods.map((m) => unitOf(m.path, allowed)));
  const unused = [...allowed.keys()].filter((k) => !keys.has(k)).map((k) => names.get(k));
  if (unused.length) errors.push(`the table names ${unused.map((u) => `\`${u}\``).join(', ')}, which no module of src/ is`);
  const up = [];
  for (const { from, to, segs, line } of uses) {
    if (from.path.length === 1) continue; // lib.rs declares the modules and hands on their names
    let target = to.path;
    if (target.length === 1) {
      // A name of the crate root: the module it is re-exported from.
      target = root.get(segs[1]);
      if (!target) continue;
    }
    const a = unitOf(from.path, allowed);
    const b = unitOf(target, allowed);
    if (!a || !b || a === b || allowed.get(a).has(b)) continue;
    up.push({ file: from.rel, line, from: names.get(a), to: names.get(b), name: segs.slice(1).join('::') });
  }
  return { up, unplaced, errors };
}

/** The folder-to-folder arrows of src/ (rows of the table, or each module's first segment). */
export function folderArrows(src, table) {
  const { uses } = checkImports(src);
  const root = rootNames(src);
  const out = new Map();
  for (const { from, to, segs } of uses) {
    if (from.path.length === 1) continue;
    const target = to.path.length === 1 ? root.get(segs[1]) : to.path;
    if (!target) continue;
    const name = (p) => table.names.get(unitOf(p, table.allowed)) ?? p.slice(1, 2).join('');
    const [a, b] = [name(from.path), name(target)];
    if (a === b) continue;
    const key = `${a} -> ${b}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

function main() {
  const args = process.argv.slice(2);
  const listArrows = args.includes('--arrows');
  const listFolders = args.includes('--folders');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const given = args.find((a) => !a.startsWith('--'));
  const src = given ?? path.join(root, 'src');
  const { modules: n, arrows, count, loops } = checkImports(src);
  if (listArrows) {
    for (const [from, to] of arrows) for (const [t, names] of to) console.log(`${from} -> ${t}: ${[...names].join(', ')}`);
  }
  let failed = false;
  if (loops.length === 0) {
    console.log(`imports: ${n} modules of ${path.relative(process.cwd(), src) || src}, ${count} arrows; no pair or loop of modules that import each other`);
  } else {
    console.error(`imports: ${loops.length} loop(s) of modules that import each other:`);
    for (const comp of loops) {
      console.error(`  ${comp.join(', ')}`);
      for (const from of comp) {
        for (const [to, names] of arrows.get(from)) if (comp.includes(to)) console.error(`    ${from} -> ${to}: ${[...names].join(', ')}`);
      }
    }
    failed = true;
  }
  // The folders, against the table of docs/architecture.md (this checkout's src/ only).
  if (!given) {
    const doc = path.join(root, 'docs', 'architecture.md');
    const table = readTable(fs.readFileSync(doc, 'utf8'));
    const rel = path.relative(process.cwd(), doc) || doc;
    if (listFolders) for (const [pair, k] of folderArrows(src, table)) console.log(`${pair} (${k})`);
    const { up, unplaced, errors } = checkFolders(src, table);
    for (const e of errors) console.error(`folders: ${rel}: ${e}`);
    for (const f of unplaced) console.error(`folders: ${f} belongs to no row of the table in ${rel}: add its folder or module there`);
    if (up.length) {
      console.error(`folders: ${up.length} import(s) that the table in ${rel} ("What each folder may import") does not allow:`);
      for (const u of up) console.error(`  ${u.file}:${u.line}: ${u.from} -> ${u.to} (${u.name})`);
    }
    if (errors.length || unplaced.length || up.length) failed = true;
    else console.log(`folders: ${table.units.length} rows of the table in ${rel}; every import of src/ is one it allows`);
  }
  if (failed) process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
