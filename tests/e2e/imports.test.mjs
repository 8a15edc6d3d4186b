// scripts/lint/check-imports.mjs: src/ has no pair or loop of modules that import each other, and the
// check does find one (a made-up crate with a pair, a loop of three through `super::`, and a
// folder's face re-exporting its children, which is not an import).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkImports } from '../../scripts/lint/check-imports.mjs';

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
