// Where the worker's time goes while it starts and loads the model (issue 17, cold start): a V8
// CPU profile of every dedicated worker from its first instruction until the page shows
// "Model ready", summed by function (self time) and by crate.
//
//   node scripts/bench/profile-worker.mjs [--dist dist] [--interval-us 200] [--top 40] [--runs 1]
//                                   [--js-flags="..."] [--json FILE]
//
// Playwright cannot profile a dedicated worker, so this script starts Chromium itself with a
// DevTools port and speaks the protocol (auto-attach with the worker paused until its profiler
// runs). WebAssembly functions are named only where the module keeps its name section: a release
// build drops it (scripts/build/strip-names.mjs) and shows `wasm-function[N]`; for names, put the
// worker's wasm-bindgen output (in the cargo target directory's wasm-bindgen/release/) in place.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { readOptions } from '../lib/options.mjs';
import { createRequire } from 'node:module';
import { startServer, CHROMIUM_ARGS, ROOT } from '../../tests/e2e/lib.mjs';

const require = createRequire(import.meta.url);
// playwright-core's own WebSocket client (its package exports do not list the file).
const { ws: WebSocket } = require(path.join(path.dirname(require.resolve('playwright-core')), 'lib', 'utilsBundle.js'));

// A value that starts with a dash is given with `=`: --js-flags=--no-opt.
const USAGE = 'usage: node scripts/bench/profile-worker.mjs [--dist DIR] [--interval-us N] [--top N] [--runs N] [--js-flags=FLAGS] [--json FILE]';

function parseOptions(argv) {
  const v = readOptions(argv, {
    dist: { type: 'string' }, 'interval-us': { type: 'string', default: '200' }, top: { type: 'string', default: '40' },
    runs: { type: 'string', default: '1' }, 'js-flags': { type: 'string' }, json: { type: 'string' },
  }, USAGE);
  return {
    dist: v.dist === undefined ? path.join(ROOT, 'dist') : path.resolve(v.dist), interval: Number(v['interval-us']), top: Number(v.top),
    runs: Math.max(1, Number(v.runs)), jsFlags: v['js-flags'] ?? null, json: v.json ?? null,
  };
}

/** Chromium with a DevTools port; resolves to its browser WebSocket URL. */
function startChromium(jsFlags) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'marrowscope-prof-'));
  const args = [...CHROMIUM_ARGS, '--headless=new', '--remote-debugging-port=0', `--user-data-dir=${profile}`];
  if (jsFlags) args.push(`--js-flags=${jsFlags}`);
  args.push('about:blank');
  const child = spawn(process.env.CHROMIUM || '/usr/bin/chromium', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      const m = /DevTools listening on (ws:\S+)/.exec(err);
      if (m) resolve({ child, url: m[1], profile });
    });
    child.once('exit', (c) => reject(new Error(`chromium exited (${c}): ${err.slice(-500)}`)));
  });
}

/** A minimal DevTools client on one WebSocket, with flat sessions. */
async function connect(url) {
  const sock = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
  await new Promise((r, j) => { sock.once('open', r); sock.once('error', j); });
  let next = 1;
  const pending = new Map();
  const listeners = [];
  sock.on('message', (buf) => {
    const msg = JSON.parse(buf.toString());
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(`${msg.error.message} (${msg.error.code})`));
      else resolve(msg.result);
    } else if (msg.method) {
      for (const l of listeners) l(msg);
    }
  });
  return {
    send(method, params = {}, sessionId) {
      const id = next++;
      sock.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    on(fn) { listeners.push(fn); },
    close() { sock.close(); },
  };
}

/** Self time per function of one profile, in ms. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const d = (dt[i + 1] ?? dt[i] ?? 0) / 1000;
    hits.set(id, (hits.get(id) || 0) + d);
  }
  const out = new Map();
  for (const [id, ms] of hits) {
    const cf = byId.get(id).callFrame;
    const file = cf.url ? cf.url.split('/').pop() : '';
    const key = `${cf.functionName || '(anonymous)'}${file && !cf.functionName.startsWith('$') ? ` [${file}]` : ''}`;
    out.set(key, (out.get(key) || 0) + ms);
  }
  return out;
}

/** The crate (or runtime bucket) a function name belongs to. */
function crateOf(name) {
  if (/^\((program|idle|garbage collector|root)\)/.test(name)) return name.replace(/ \[.*$/, '');
  const rust = /^(?:<)?([a-z_][a-z0-9_]*)::/.exec(name);
  if (rust) return rust[1];
  if (/^(memcpy|memmove|memset|memcmp)/.test(name)) return 'mem*';
  if (/dlmalloc|__rust_(alloc|dealloc|realloc)|malloc|free/.test(name)) return 'allocator';
  if (/^wasm-function|^\$?func/.test(name)) return 'wasm (unnamed)';
  return 'other';
}

async function profileOnce(o, serverUrl) {
  const { child, url, profile } = await startChromium(o.jsFlags);
  const cdp = await connect(url);
  const workers = new Map(); // sessionId -> url
  try {
    const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId: page } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
    cdp.on(async (msg) => {
      if (msg.method !== 'Target.attachedToTarget') return;
      const s = msg.params.sessionId;
      const t = msg.params.targetInfo;
      try {
        if (t.type === 'worker') {
          workers.set(s, t.url);
          await cdp.send('Profiler.enable', {}, s);
          await cdp.send('Profiler.setSamplingInterval', { interval: o.interval }, s);
          await cdp.send('Profiler.start', {}, s);
        }
        await cdp.send('Runtime.runIfWaitingForDebugger', {}, s);
      } catch (e) {
        console.error(`attach ${t.type}: ${e.message}`);
      }
    });
    await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: true }, page);
    await cdp.send('Page.enable', {}, page);
    const t0 = Date.now();
    await cdp.send('Page.navigate', { url: serverUrl }, page);
    let readyAt = null;
    while (Date.now() - t0 < 120_000) {
      const r = await cdp.send('Runtime.evaluate', {
        expression: `(() => { const e = document.querySelector('[data-testid=model-status][data-state=ready]'); return e ? performance.now() : 0; })()`,
        returnByValue: true,
      }, page);
      if (r.result.value) { readyAt = r.result.value; break; }
      await new Promise((r2) => setTimeout(r2, 20));
    }
    if (readyAt === null) throw new Error('the model did not become ready in 120 s');
    const profiles = [];
    for (const [s, wurl] of workers) {
      const r = await cdp.send('Profiler.stop', {}, s).catch(() => null);
      if (r) profiles.push({ url: wurl, profile: r.profile });
    }
    return { readyAt, profiles };
  } finally {
    cdp.close();
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid, 'SIGKILL'); // the browser and its helper processes
    await exited;
    await new Promise((r) => setTimeout(r, 200));
    try {
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
    } catch (e) {
      console.error(`left ${profile}: ${e.message}`);
    }
  }
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  const server = await startServer({ dist: o.dist });
  const total = new Map();
  const crates = new Map();
  let sum = 0;
  const ready = [];
  const raw = [];
  try {
    for (let i = 0; i < o.runs; i++) {
      const r = await profileOnce(o, server.url);
      ready.push(r.readyAt);
      raw.push(r);
      for (const { profile } of r.profiles) {
        for (const [k, ms] of selfTimes(profile)) {
          total.set(k, (total.get(k) || 0) + ms / o.runs);
          const c = crateOf(k);
          crates.set(c, (crates.get(c) || 0) + ms / o.runs);
          sum += ms / o.runs;
        }
      }
      console.error(`run ${i + 1}/${o.runs}: model ready at ${Math.round(r.readyAt)} ms, ${r.profiles.length} worker profile(s)`);
    }
  } finally {
    await server.stop();
  }
  const busy = [...crates].filter(([c]) => c !== '(idle)').reduce((a, [, v]) => a + v, 0);
  console.log(`Workers' CPU profile until "Model ready" (${o.runs} run(s), sampling ${o.interval} µs${o.jsFlags ? `, --js-flags=${o.jsFlags}` : ''}): ` +
    `model ready at ${ready.map((x) => Math.round(x)).join(', ')} ms; ${Math.round(sum)} ms sampled, ${Math.round(busy)} ms not idle.`);
  console.log('\nBy crate (self time, ms):');
  for (const [c, ms] of [...crates].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${ms.toFixed(1).padStart(8)}  ${c}`);
  console.log(`\nTop ${o.top} functions (self time, ms):`);
  for (const [k, ms] of [...total].sort((a, b) => b[1] - a[1]).slice(0, o.top)) console.log(`${ms.toFixed(1).padStart(8)}  ${k.slice(0, 160)}`);
  if (o.json) fs.writeFileSync(o.json, JSON.stringify(raw));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
