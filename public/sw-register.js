// Registers the offline service worker (generated after the build by
// scripts/build/gen-sw.mjs) and offers a reload when a new version is ready.
(function () {
  'use strict';
  if (!('serviceWorker' in navigator)) return;
  function offer(reg) {
    var banner = document.getElementById('update-banner');
    var button = document.getElementById('update-reload');
    if (!banner || !button || !reg.waiting) return;
    banner.hidden = false;
    button.onclick = function () {
      userAskedUpdate = true;
      if (reg.waiting) reg.waiting.postMessage({ type: 'SKIP_WAITING' });
    };
  }
  // Reload only when the person asked for the update: on a first visit the new
  // worker also takes control (clients.claim) and the page must keep its state.
  var userAskedUpdate = false;
  navigator.serviceWorker.addEventListener('controllerchange', function () {
    if (!userAskedUpdate) return;
    userAskedUpdate = false;
    window.location.reload();
  });
  // Register once the page has loaded and the model is ready (or failed): the new service
  // worker downloads the whole site for offline use, which must not slow the first start.
  // The page says so with the event below; 10 s after load it registers anyway.
  var loaded = false, settled = false, registered = false;
  function maybeRegister(force) {
    if (registered || !loaded || !(settled || force)) return;
    registered = true;
    register();
  }
  window.addEventListener('marrowscope-model-settled', function () { settled = true; maybeRegister(false); });
  window.addEventListener('load', function () {
    loaded = true;
    maybeRegister(false);
    setTimeout(function () { maybeRegister(true); }, 10000);
  });
  function register() {
    navigator.serviceWorker.register('./sw.js').then(function (reg) {
      if (reg.waiting && navigator.serviceWorker.controller) offer(reg);
      reg.addEventListener('updatefound', function () {
        var w = reg.installing;
        if (!w) return;
        w.addEventListener('statechange', function () {
          if (w.state === 'installed' && navigator.serviceWorker.controller) offer(reg);
        });
      });
      document.documentElement.setAttribute('data-sw', 'registered');
    }).catch(function (e) {
      console.warn('[marrowscope] warn offline: service worker not registered: ' + e);
    });
  }
})();
