// The README's first command, `bash scripts/dev.sh`: its options and errors, and the site it
// serves. scripts/test.sh starts that command exactly as the README writes it and passes its
// address (E2E_URL) and output (E2E_DEV_LOG); the rest of the suite runs against it too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, E2E_URL, withApp, waitForModelReady, MODEL_TIMEOUT } from './lib.mjs';

function devSh(args, env = {}) {
  return spawnSync('bash', [path.join(ROOT, 'scripts', 'dev.sh'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('dev.sh: an unknown option prints the usage and exits 2', () => {
  const r = devSh(['--no-such-flag']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /unknown option '--no-such-flag'/);
  assert.match(r.stderr, /usage: .*bash scripts\/dev\.sh \[--dev\]/);
});

test('dev.sh --help prints the usage and exits 0', () => {
  const r = devSh(['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /usage: /);
});

test('dev.sh: a bad PORT is refused before building', () => {
  const r = devSh([], { PORT: 'eighty' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /PORT must be a number/);
});

test('dev.sh: a busy port gets a clear message, before any build', async () => {
  const blocker = net.createServer();
  await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address();
  try {
    const started = Date.now();
    const r = devSh([], { PORT: String(port) });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    assert.match(r.stderr, /PORT=8081 bash scripts\/dev\.sh/);
    assert.doesNotMatch(r.stdout + r.stderr, /\[setup\]|Compiling|built dist/, 'it must not start building');
    console.log(`busy port refused in ${Date.now() - started} ms`);
  } finally {
    blocker.close();
  }
});

test('the site served by the README\'s first command', { skip: !E2E_URL && 'run through scripts/test.sh, which starts `bash scripts/dev.sh` (E2E_URL unset)', timeout: MODEL_TIMEOUT + 60_000 }, async () => {
  const res = await fetch(E2E_URL);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /text\/html/);
  assert.match(await res.text(), /<title>Marrowscope/);
  const wasm = await fetch(new URL('worker_bg.wasm', E2E_URL));
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');

  // What it built: the release site unless the test run asked for a dev build.
  const log = fs.readFileSync(process.env.E2E_DEV_LOG, 'utf8');
  const built = /^built dist\/ in \d+ s \((release|dev)/m.exec(log);
  assert.ok(built, `no "built dist/" line in dev.sh's output:\n${log.slice(-2000)}`);
  const wanted = /--dev/.test(process.env.MARROWSCOPE_TEST_BUILD || '') ? 'dev' : 'release';
  assert.equal(built[1], wanted, 'dev.sh built another kind of site than the test run asked for');
  assert.match(log, new RegExp(`^Serving dist at ${E2E_URL.replace(/[.]/g, '\\.')}$`, 'm'));

  await withApp('readme-command', async (app) => {
    assert.equal(app.url, E2E_URL, 'the app must be opened on the README command\'s server');
    await waitForModelReady(app.page);
    await app.screenshot('ready');
  });
});
