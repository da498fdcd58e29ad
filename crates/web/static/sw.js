// Taizhang's service worker: lets a village cadre open again, with no connection, a new-record
// form (a visit's form from the 走访 button) already opened once on this phone, and keeps the
// stylesheet and script for it. Only those are stored: never a list, a record or a person's page.
// What is typed offline is kept and sent by app.js (the queue in localStorage). Signing out
// empties the store (app.js). Browsers run service workers only over HTTPS or on localhost.
'use strict';
var STORE = 'taizhang-forms-v1';
var FORM = /^\/ledgers\/[a-z0-9_]+\/new$/;
var ASSETS = ['/static/app.css', '/static/app.js'];

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(STORE).then(function (c) { return c.addAll(ASSETS); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== STORE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function offlinePage() {
  var html = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<title>网络已断开 - 台账</title><link rel="stylesheet" href="/static/app.css"></head><body><main class="offline">' +
    '<h1>网络已断开</h1><p>这个页面没有在本机打开过，断网时打不开。联网后再试；已打开过的新增表单（如走访表）断网时仍可打开和保存。</p></main></body></html>';
  return new Response(html, { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
}

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (ASSETS.indexOf(url.pathname) >= 0) {
    // The network first (a new version of the program), the stored copy when there is none.
    e.respondWith(fetch(req).then(function (r) {
      if (r.ok) { var copy = r.clone(); caches.open(STORE).then(function (c) { c.put(req, copy); }); }
      return r;
    }).catch(function () { return caches.match(req); }));
    return;
  }
  if (FORM.test(url.pathname)) {
    e.respondWith(fetch(req).then(function (r) {
      // Only a form really shown (not a sign-in page a redirect led to).
      if (r.ok && !r.redirected) { var copy = r.clone(); caches.open(STORE).then(function (c) { c.put(req, copy); }); }
      return r;
    }).catch(function () {
      return caches.match(req).then(function (hit) { return hit || offlinePage(); });
    }));
    return;
  }
  if (req.mode === 'navigate') {
    e.respondWith(fetch(req).catch(function () { return offlinePage(); }));
  }
});
