#!/usr/bin/env node
// Dependency-free static file server for the built app (dist/).
//
//   node scripts/serve.mjs --dir dist --port 8080 --host 127.0.0.1 [--base /marrowscope/] [--log] [--coi]
//
// - Serves files of --dir under the --base path; anything outside the base is 404,
//   `/` redirects to the base, and the base itself serves index.html.
// - Adds a Content-Security-Policy header read from <dir>/csp.txt (one line) if present.
// - Sends FILE.br or FILE.gz (scripts/build/precompress.mjs) with Content-Encoding where the request's
//   Accept-Encoding allows it (brotli first), and FILE itself otherwise or when the copy is older
//   than FILE (changed after the build).
// - --port 0 picks a free port; the line `Serving <dir> at http://<host>:<port><base>` is
//   printed once the server listens (tests parse it).
// - --log prints one JSON line per request to stdout:
//     {"log":"request","method":"GET","url":"/x","status":200,"bodyBytes":0}
// - --coi adds Cross-Origin-Opener-Policy/Cross-Origin-Embedder-Policy (for SharedArrayBuffer).
// - Only GET and HEAD are answered (others: 405). Exits 0 on SIGTERM/SIGINT.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.pdf': 'application/pdf',
};

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dir: { type: 'string', default: 'dist' },
        port: { type: 'string', default: '8080' },
        host: { type: 'string', default: '127.0.0.1' },
        base: { type: 'string', default: '/' },
        log: { type: 'boolean', default: false },
        coi: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    usage(e.message);
  }
  if (values.help) usage(null);
  const opts = { ...values, port: Number(values.port) };
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
  let base = opts.base.trim();
  if (!base.startsWith('/')) base = '/' + base;
  if (!base.endsWith('/')) base += '/';
  opts.base = base;
  return opts;
}

function usage(err) {
  const text = 'usage: node scripts/serve.mjs --dir DIR [--port N] [--host H] [--base /path/] [--log] [--coi]';
  if (err) {
    console.error(`serve.mjs: ${err}\n${text}`);
    process.exit(2);
  }
  console.log(text);
  process.exit(0);
}

const opts = parseOptions(process.argv.slice(2));
const root = path.resolve(opts.dir);
if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
  console.error(`serve.mjs: ${opts.dir} is not a directory`);
  process.exit(2);
}

function readCsp() {
  try {
    const line = fs.readFileSync(path.join(root, 'csp.txt'), 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean)[0];
    return line || null;
  } catch {
    return null;
  }
}

function commonHeaders() {
  const h = {
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  };
  const csp = readCsp(); // re-read each time so a rebuild needs no restart
  if (csp) h['Content-Security-Policy'] = csp;
  if (opts.coi) {
    h['Cross-Origin-Opener-Policy'] = 'same-origin';
    h['Cross-Origin-Embedder-Policy'] = 'require-corp';
    h['Cross-Origin-Resource-Policy'] = 'same-origin';
  }
  return h;
}

function send(res, status, body, extra = {}) {
  const buf = Buffer.from(body ?? '', 'utf8');
  res.writeHead(status, {
    ...commonHeaders(),
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': buf.length,
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : buf);
}

// Map a URL path (already known to start with the base) to a file, or null.
function resolveFile(urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath.slice(opts.base.length));
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  const full = path.resolve(root, '.' + path.posix.sep + rel);
  if (full !== root && !full.startsWith(root + path.sep)) return null; // traversal
  let st;
  try {
    st = fs.statSync(full);
  } catch {
    return null;
  }
  if (st.isDirectory()) {
    const index = path.join(full, 'index.html');
    try {
      const ist = fs.statSync(index);
      if (ist.isFile()) return { file: index, stat: ist, dirNoSlash: !urlPath.endsWith('/') };
    } catch {
      /* fallthrough */
    }
    return null;
  }
  if (!st.isFile()) return null;
  return { file: full, stat: st };
}

// The .br or .gz copy of `file` to send for this Accept-Encoding header (brotli first), or null.
// A copy older than its file is stale (the file was changed after the build) and never sent.
function precompressed(file, accept, fileStat) {
  const accepted = new Map();
  for (const part of String(accept || '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (name) accepted.set(name, q ? Number(q.slice(2)) : 1);
  }
  for (const [encoding, suffix] of [['br', '.br'], ['gzip', '.gz']]) {
    if (!(accepted.get(encoding) > 0)) continue;
    try {
      const stat = fs.statSync(file + suffix);
      if (stat.isFile() && stat.mtimeMs >= fileStat.mtimeMs) return { encoding, file: file + suffix, stat };
    } catch {
      /* no copy */
    }
  }
  return null;
}

const server = http.createServer((req, res) => {
  let bodyBytes = 0;
  req.on('data', (chunk) => {
    bodyBytes += chunk.length;
  });
  // Log once both the request body has been read and the response has gone out.
  let pending = 2;
  let logged = false;
  const part = () => {
    if (--pending > 0 || logged || !opts.log) return;
    logged = true;
    console.log(JSON.stringify({ log: 'request', method: req.method, url: req.url, status: res.statusCode, bodyBytes }));
  };
  let reqDone = false;
  const reqPart = () => {
    if (!reqDone) {
      reqDone = true;
      part();
    }
  };
  req.once('end', reqPart);
  req.once('close', reqPart);
  let resDone = false;
  const resPart = () => {
    if (!resDone) {
      resDone = true;
      part();
    }
  };
  res.once('finish', resPart);
  res.once('close', resPart);
  // Drain any request body so that bodyBytes is counted even on errors.
  req.resume();

  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return send(res, 405, 'Method Not Allowed\n', { Allow: 'GET, HEAD' });
  }
  let url;
  try {
    url = new URL(req.url, 'http://localhost');
  } catch {
    return send(res, 400, 'Bad Request\n');
  }
  const p = url.pathname;
  if (opts.base !== '/') {
    if (p === '/' || p === opts.base.slice(0, -1)) {
      return send(res, 302, `Found: ${opts.base}\n`, { Location: opts.base + url.search });
    }
    if (!p.startsWith(opts.base)) return send(res, 404, 'Not Found\n');
  }
  const hit = resolveFile(p);
  if (!hit) return send(res, 404, 'Not Found\n');
  if (hit.dirNoSlash) {
    return send(res, 301, 'Moved\n', { Location: p + '/' + url.search });
  }
  const ext = path.extname(hit.file).toLowerCase();
  // A precompressed copy (scripts/build/precompress.mjs) where the browser accepts its encoding.
  const enc = precompressed(hit.file, req.headers['accept-encoding'], hit.stat);
  const headers = {
    ...commonHeaders(),
    'Content-Type': MIME[ext] || 'application/octet-stream',
    'Content-Length': enc ? enc.stat.size : hit.stat.size,
    'Last-Modified': hit.stat.mtime.toUTCString(),
  };
  if (fs.existsSync(`${hit.file}.br`) || fs.existsSync(`${hit.file}.gz`)) headers.Vary = 'Accept-Encoding';
  if (enc) headers['Content-Encoding'] = enc.encoding;
  if (path.basename(hit.file) === 'sw.js') headers['Service-Worker-Allowed'] = opts.base;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') return res.end();
  const stream = fs.createReadStream(enc ? enc.file : hit.file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
});

server.keepAliveTimeout = 5000;
server.on('error', (err) => {
  if (err.code === 'EADDRINUSE') {
    console.error(`serve.mjs: port ${opts.port} on ${opts.host} is already in use (another server is running there); stop it or choose another port (PORT=8081 bash scripts/dev.sh, or --port)`);
    process.exit(1);
  }
  console.error(`serve.mjs: ${err.message}`);
  process.exit(1);
});
server.listen(opts.port, opts.host, () => {
  const { port } = server.address();
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  console.log(`Serving ${opts.dir} at http://${host}:${port}${opts.base}`);
});

let closing = false;
function shutdown(sig) {
  if (closing) return;
  closing = true;
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
  if (opts.log) console.log(JSON.stringify({ log: 'shutdown', signal: sig }));
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
