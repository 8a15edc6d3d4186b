// scripts/lint/check-imports.mjs: src/ has no pair or loop of modules that import each other, and the
// check does find one (a made-up crate with a pair, a loop of three through `super::`, and a
// folder's face re-exporting its children, which is not an import); every import of src/ is one
// that the table of docs/architecture.md allows, and the check does find one it does not (a
// made-up crate and table: an arrow up, through a name of the crate root too, with its line).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkFolders, checkImports, readTable } from '../../scripts/lint/check-imports.mjs';

function crate(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imports-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

test("the project's src/ has no modules that import each other", () => {
  const { loops, count } = checkImports(path.resolve('src'));
  assert.deepEqual(loops, [], `loops: ${JSON.stringify(loops)}`);
  assert.ok(count > 50, `only ${count} arrows were read: the parser is missing imports`);
});

test('a pair, a loop through super:: and inline paths are found; faces, tests and comments are not', () => {
  const dir = crate({
    'lib.rs': 'pub mod a;\npub mod b;\npub mod c;\n',
    'a.rs': 'use crate::b::{Thing, other::{X}};\n// use crate::c::Nothing;\n',
    'b.rs': 'pub struct Thing;\nfn f() { crate::a::g(); }\n',
    'c/mod.rs': 'pub mod d;\npub mod e;\npub use d::D;\npub fn h() {}\n',
    'c/d.rs': 'use super::e::E;\npub struct D;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n',
    'c/e.rs': 'pub struct E;\nconst S: &str = "crate::c::d::D";\nfn k() -> super::super::c::d::D { todo!() }\n',
  });
  const { loops, arrows } = checkImports(dir);
  assert.deepEqual(loops, [['src/a.rs', 'src/b.rs'], ['src/c/d.rs', 'src/c/e.rs']]);
  assert.ok(!arrows.get('src/a.rs').has('src/c/mod.rs'), 'a comment was read as an import');
  assert.ok(!arrows.get('src/c/mod.rs').has('src/c/d.rs'), "a folder's face was read as an import");
  assert.ok(!arrows.get('src/c/d.rs').has('src/c/mod.rs'), "`super::*` in mod tests is the file's own module");
});

test("every import of the project's src/ is one that docs/architecture.md's table allows", () => {
  const table = readTable(fs.readFileSync(path.resolve('docs/architecture.md'), 'utf8'));
  assert.deepEqual(table.errors, []);
  assert.ok(table.units.length > 10, `only ${table.units.length} rows were read`);
  const { up, unplaced, errors } = checkFolders(path.resolve('src'), table);
  assert.deepEqual(errors, []);
  assert.deepEqual(unplaced, []);
  assert.deepEqual(up, []);
});

test('an import the table does not allow is found, with its file and line; the table itself points down', () => {
  const doc = [
    '## What each folder may import',
    '',
    '| floor | folder / module | may import |',
    '| --- | --- | --- |',
    '| top | `ui/` | every row below except `web/worker.rs` |',
    '| | `web/worker.rs` | every row below |',
    '| | `web/` | `core.rs` |',
    '| ground | `core.rs`, `error.rs` | nothing |',
  ].join('\n');
  const dir = crate({
    'lib.rs': 'pub mod core;\npub mod error;\npub mod ui;\npub mod web;\npub use ui::Page;\n',
    'core.rs': '// use crate::ui::Page;\nfn f() {}\nfn g() -> crate::Page { todo!() }\n',
    'error.rs': 'pub struct E;\n',
    'ui/mod.rs': 'use crate::web::protocol::P;\nuse crate::web::worker::W;\npub struct Page;\n',
    'web/mod.rs': 'pub mod protocol;\npub mod worker;\n',
    'web/protocol.rs': 'use crate::core::f;\npub struct P;\n',
    'web/worker.rs': 'use super::protocol::P;\nuse crate::error::E;\npub struct W;\n',
  });
  const table = readTable(doc);
  assert.deepEqual(table.errors, []);
  const { up, unplaced, errors } = checkFolders(dir, table);
  assert.deepEqual(errors, []);
  assert.deepEqual(unplaced, []);
  assert.deepEqual(
    up.map((u) => `${u.file}:${u.line}: ${u.from} -> ${u.to}`),
    ['src/core.rs:3: core.rs -> ui/', 'src/ui/mod.rs:2: ui/ -> web/worker.rs'],
  );
  const upward = readTable(doc.replace('| ground | `core.rs`, `error.rs` | nothing |', '| ground | `core.rs`, `error.rs` | `web/` |'));
  assert.equal(upward.errors.length, 1, 'a row that names a row above it is an error of the table');
});
