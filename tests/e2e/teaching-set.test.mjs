// Issue 15: the build's teaching set (scripts/data/teaching.sh, a trunk post-build hook). Without data
// folders it is exactly the committed default set; with a deployer's own folders (the TCIA
// layout for bone marrow, the original PBC layout for blood) it takes N images per class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './lib.mjs';

const COMMITTED = path.join(ROOT, 'public', 'samples', 'teaching');

function runTeaching(env) {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-teaching-'));
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'data', 'teaching.sh')], { env: { ...process.env, TRUNK_STAGING_DIR: staging, ...env }, encoding: 'utf8' });
  const dir = path.join(staging, 'teaching');
  const indexFile = path.join(dir, 'index.json');
  return { staging, dir, status: r.status, output: `${r.stdout}${r.stderr}`, index: fs.existsSync(indexFile) ? JSON.parse(fs.readFileSync(indexFile, 'utf8')) : null };
}

test('teaching.sh: the committed default set when there is no data folder', { timeout: 60_000 }, () => {
  const committed = JSON.parse(fs.readFileSync(path.join(COMMITTED, 'index.json'), 'utf8'));
  let bytes = 0;
  for (const e of committed) bytes += fs.statSync(path.join(COMMITTED, e.file)).size;
  assert.ok(bytes < 2 * 1024 * 1024, `the committed teaching set takes ${bytes} bytes (budget 2 MB)`);
  const attribution = fs.readFileSync(path.join(COMMITTED, 'ATTRIBUTION.md'), 'utf8');
  for (const e of committed) assert.ok(attribution.includes(e.file), `ATTRIBUTION.md does not name ${e.file}`);
  assert.ok(attribution.includes('10.7937/TCIA.AXH3-T579') && attribution.includes('10.17632/snkd93bnjr.1'));
  const nowhere = path.join(os.tmpdir(), 'marrowscope-no-such-folder');
  const t = runTeaching({ MARROWSCOPE_DATA: path.join(nowhere, 'mll'), MARROWSCOPE_PBC_DATA: path.join(nowhere, 'pbc') });
  try {
    assert.equal(t.status, 0, t.output);
    assert.deepEqual(t.index, committed, 'exactly the committed set');
    for (const e of committed) assert.deepEqual(fs.readFileSync(path.join(t.dir, e.file)), fs.readFileSync(path.join(COMMITTED, e.file)), e.file);
    assert.deepEqual([...new Set(t.index.map((e) => e.source))].sort(), ['blood', 'marrow']);
  } finally {
    fs.rmSync(t.staging, { recursive: true, force: true });
  }
});

test("teaching.sh: a deployer's own folders, N per class", { timeout: 60_000 }, () => {
  // A TCIA-layout marrow folder (bone_marrow_cell_dataset/<CLASS>/<sub>/*.jpg) and a PBC folder in
  // its original layout (<type>/<PREFIX>_<n>.jpg), made of committed images under new names.
  const src = JSON.parse(fs.readFileSync(path.join(COMMITTED, 'index.json'), 'utf8'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-own-'));
  const mll = path.join(tmp, 'mll', 'bone_marrow_cell_dataset');
  const pbc = path.join(tmp, 'pbc');
  const marrow = src.filter((e) => e.source === 'marrow');
  for (const code of ['BLA', 'EOS']) {
    const of = marrow.filter((e) => e.label === code);
    for (const [k, e] of of.entries()) {
      const dir = path.join(mll, code, k < 3 ? '0001-1000' : '1001-2000');
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(path.join(COMMITTED, e.file), path.join(dir, `${code}_${String(k).padStart(5, '0')}.jpg`));
    }
  }
  for (const [prefix, code] of [['BA', 'BAS'], ['PLATELET', 'PLT']]) {
    fs.mkdirSync(path.join(pbc, prefix.toLowerCase()), { recursive: true });
    for (const [k, e] of src.filter((x) => x.label === code).entries()) fs.copyFileSync(path.join(COMMITTED, e.file), path.join(pbc, prefix.toLowerCase(), `${prefix}_${1000 + k}.jpg`));
  }
  const t = runTeaching({ MARROWSCOPE_DATA: path.join(tmp, 'mll'), MARROWSCOPE_PBC_DATA: pbc, MARROWSCOPE_TEACHING_PER_CLASS: '4' });
  try {
    assert.equal(t.status, 0, t.output);
    const count = {};
    for (const e of t.index) count[`${e.source}:${e.label}`] = (count[`${e.source}:${e.label}`] || 0) + 1;
    assert.deepEqual(count, { 'marrow:BLA': 4, 'marrow:EOS': 4, 'blood:BAS': 4, 'blood:PLT': 4 }, t.output);
    for (const e of t.index) {
      assert.ok(fs.existsSync(path.join(t.dir, e.file)), e.file);
      assert.ok(e.file.startsWith(e.source === 'marrow' ? `mll-${e.label}-` : `pbc-${e.label}-`), e.file);
    }
    assert.match(fs.readFileSync(path.join(t.dir, 'ATTRIBUTION.md'), 'utf8'), /CC BY 4\.0/);
    assert.match(t.output, /teaching: 16 images/);
  } finally {
    fs.rmSync(t.staging, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
