// Starts the first classification worker while the page's own code is still downloading
// (issue 17, cold start): its WebAssembly downloads and compiles in parallel with the page's.
// The page adopts it when it starts (src/ui/workers.rs, `take_boot_worker`): it replays the
// messages the worker sent before then, and starts the other workers of the pool itself. If the
// page starts first, this does nothing.
(function () {
  'use strict';
  if (typeof Worker === 'undefined' || window.__marrowscopeEngine) return;
  var simd = /[?&]simd=(baseline|relaxed)(&|$)/.exec(window.location.search);
  var url = './worker_loader.js' + (simd ? '?simd=' + simd[1] : '');
  try {
    var worker = new Worker(url);
    var messages = [];
    worker.onmessage = function (e) { messages.push(e.data); };
    worker.onerror = function () { messages.push({ kind: 'crashed', message: 'the worker stopped unexpectedly' }); };
    window.__marrowscopeBoot = { worker: worker, url: url, messages: messages };
  } catch (e) {
    // The page starts its own.
  }
})();
