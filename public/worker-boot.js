// Starts the first classification worker while the page's own code is still downloading
// (issue 17, cold start): its WebAssembly downloads and compiles in parallel with the page's.
// It also fetches the bundled model (model/manifest.json and the ONNX file it names, both
// preloaded by index.html) and hands a copy to that worker as soon as both are there
// (`preload`), so that the model's load starts as soon as the worker runs, not when the page's
// code, which the browser runs on the same thread as this, has mounted and hears the worker's
// `alive` (issue 35). The page adopts the
// worker when it starts (src/ui/workers.rs, `take_boot_worker`): it replays the messages the
// worker sent before then, takes the fetched model from `model` instead of fetching it again,
// and starts the other workers of the pool itself. The worker answers the page's own `load` of
// the same manifest with the preloaded model (src/web/worker/preload.rs). If the page starts first,
// this does nothing. trunk inlines this file into index.html (`rel="inline"`), so that it runs
// while the document is parsed instead of after one more request.
(function () {
  'use strict';
  if (typeof Worker === 'undefined' || window.__marrowscopeEngine) return;
  var simd = /[?&]simd=(baseline|relaxed)(&|$)/.exec(window.location.search);
  var url = './worker_loader.js' + (simd ? '?simd=' + simd[1] : '');
  var boot;
  try {
    var worker = new Worker(url);
    var messages = [];
    worker.onmessage = function (e) { messages.push(e.data); };
    worker.onerror = function () { messages.push({ kind: 'crashed', message: 'the worker stopped unexpectedly' }); };
    boot = window.__marrowscopeBoot = { worker: worker, url: url, messages: messages };
  } catch (e) {
    return; // The page starts its own, and fetches the model itself.
  }
  if (typeof fetch !== 'function') return;
  var ok = function (r) {
    if (!r.ok) throw new Error('HTTP ' + r.status + ' for ' + r.url);
    return r;
  };
  // Resolves to {manifest: text, model: ArrayBuffer}; the page reads it (or, on a rejection,
  // fetches the model itself and says what went wrong).
  boot.model = fetch('./model/manifest.json').then(ok).then(function (r) { return r.text(); }).then(function (text) {
    var file = JSON.parse(text).onnx_file;
    if (typeof file !== 'string' || !/^[\w.-]+$/.test(file)) throw new Error('the manifest names no model file');
    return fetch('./model/' + file).then(ok).then(function (r) { return r.arrayBuffer(); }).then(function (model) {
      // The worker keeps it until its WebAssembly has started (scripts/build/worker-loader.mjs).
      try {
        var copy = model.slice(0);
        worker.postMessage({ kind: 'preload', manifest: text, model: copy }, [copy]);
      } catch (e) {
        // The page's own `load` loads it.
      }
      return { manifest: text, model: model };
    });
  });
  // A rejection is read by the page; this keeps it from being reported as unhandled meanwhile.
  boot.model.catch(function () {});
})();
