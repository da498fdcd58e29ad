// Taizhang's one script (served from the binary): type-ahead pickers for the reference fields of
// a record's form — persons, households, cadres and cases — showing name, village and masked
// number. Without it every field is a plain input that takes a name, 户编号, ID number or #编号.
(function () {
  'use strict';
  var m = location.pathname.match(/^\/ledgers\/([a-z0-9_]+)\/(new|\d+)$/);
  if (!m || !window.fetch) return;
  var form = document.getElementById('edit');
  if (!form) return;
  function get(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) { return r.ok ? r.json() : {}; });
  }
  function line(it) {
    return [it.name, it.village, it.number].filter(function (x) { return x; }).join(' · ');
  }
  function attach(input, kind) {
    input.setAttribute('autocomplete', 'off');
    var note = document.createElement('div');
    note.className = 'picker-note';
    var list = document.createElement('ul');
    list.className = 'picker';
    list.setAttribute('role', 'listbox');
    list.hidden = true;
    input.insertAdjacentElement('afterend', list);
    input.insertAdjacentElement('afterend', note);
    function show(items) {
      list.innerHTML = '';
      items.slice(0, 8).forEach(function (it) {
        var li = document.createElement('li');
        li.setAttribute('role', 'option');
        li.textContent = line(it);
        li.addEventListener('mousedown', function (e) { e.preventDefault(); choose(it); });
        li.addEventListener('click', function () { choose(it); });
        list.appendChild(li);
      });
      list.hidden = items.length === 0;
    }
    function choose(it) {
      input.value = it.value;
      note.textContent = line(it);
      list.hidden = true;
    }
    var timer = null, asked = '';
    input.addEventListener('input', function () {
      note.textContent = '';
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q || q.charAt(0) === '#') { show([]); return; }
      timer = setTimeout(function () {
        asked = q;
        get('/api/v1/search?kind=' + encodeURIComponent(kind) + '&q=' + encodeURIComponent(q)).then(function (j) {
          if (asked === q) show(j.items || []);
        });
      }, 200);
    });
    input.addEventListener('blur', function () { setTimeout(function () { list.hidden = true; }, 150); });
    // A stored reference shows as #14: name it beside the input.
    var id = input.value.match(/^#(\d+)$/);
    if (id) {
      get('/api/v1/search?kind=' + encodeURIComponent(kind) + '&id=' + id[1]).then(function (j) {
        if (j.items && j.items[0]) note.textContent = line(j.items[0]);
      });
    }
  }
  get('/api/v1/search?fields=' + encodeURIComponent(m[1])).then(function (j) {
    (j.fields || []).forEach(function (f) {
      var input = form.querySelector('input[name="' + f.key + '"]');
      if (input) attach(input, f.kind);
    });
  });
})();

// A dropped connection: a new record's form sent while the browser is offline is kept in this
// browser (localStorage) and sent when the connection returns — on the `online` event or the
// next page opened — with its state shown at the top of the page. A new-record form opened once
// can be opened again offline through the service worker (static/sw.js, HTTPS or localhost).
(function () {
  'use strict';
  var KEY = 'taizhang.queue';
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || '[]'); } catch (e) { return []; }
  }
  function save(q) {
    try { localStorage.setItem(KEY, JSON.stringify(q)); } catch (e) { /* storage full or refused */ }
  }
  var bar = null;
  function say(text, tone) {
    if (!bar) {
      bar = document.createElement('div');
      bar.id = 'offline-state';
      bar.setAttribute('role', 'status');
      var main = document.querySelector('main') || document.body;
      main.insertBefore(bar, main.firstChild);
    }
    bar.className = 'notice ' + (tone || '');
    bar.textContent = text;
    bar.hidden = !text;
  }
  function pending() {
    var q = load();
    if (q.length) say('有 ' + q.length + ' 条离线保存的记录待提交，联网后自动提交。', 'bad');
  }
  var sending = false;
  function flush() {
    var q = load();
    if (!q.length || sending || !navigator.onLine) return;
    sending = true;
    var item = q[0];
    fetch(item.action, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: item.body })
      .then(function (r) {
        var rest = load().slice(1);
        save(rest);
        sending = false;
        if (r.ok && r.redirected && !/\/new$/.test(new URL(r.url).pathname)) {
          say('离线保存的「' + item.title + '」已提交。' + (rest.length ? '还有 ' + rest.length + ' 条。' : ''), 'ok');
          flush();
        } else {
          // Refused (a field to correct, the session ended): open the form again with its values.
          say('离线保存的「' + item.title + '」未能提交，请重新填写后保存。', 'bad');
        }
      })
      .catch(function () { sending = false; pending(); });
  }
  var m = location.pathname.match(/^\/ledgers\/[a-z0-9_]+\/new$/);
  var form = m && document.getElementById('edit');
  if (form) {
    form.addEventListener('submit', function (e) {
      if (navigator.onLine) return;
      e.preventDefault();
      var q = load();
      var title = (document.querySelector('h1') || {}).textContent || '记录';
      q.push({ action: form.getAttribute('action'), body: new URLSearchParams(new FormData(form)).toString(), title: title.replace(/\s+/g, ' ').trim(), at: new Date().toISOString() });
      save(q);
      var b = form.querySelector('button[type=submit]');
      if (b) { b.disabled = true; b.textContent = '已离线保存'; }
      say('网络已断开：本条已保存在本机，联网后自动提交（共 ' + q.length + ' 条待提交）。', 'bad');
    });
  }
  window.addEventListener('online', flush);
  window.addEventListener('offline', function () { say('网络已断开。新增的记录可照常保存，联网后自动提交。', 'bad'); });
  pending();
  flush();
  // Opening a form again with no connection needs the service worker (static/sw.js), which
  // browsers run only over HTTPS or on this computer itself: over plain HTTP the form says so.
  if ('serviceWorker' in navigator && window.isSecureContext) {
    navigator.serviceWorker.register('/sw.js').catch(function () { /* refused: forms still work online */ });
  } else if (form) {
    var note = document.createElement('p');
    note.className = 'help';
    note.id = 'offline-http';
    note.textContent = '本页经 HTTP 打开：已打开的表单断网后仍可保存，联网后自动提交；但断网后不能重新打开本页。改用 HTTPS 访问后，打开过的表单断网也能打开。';
    form.appendChild(note);
  }
  // Signing out empties the forms this browser stored (records not yet sent stay queued).
  document.querySelectorAll('form[action="/logout"]').forEach(function (f) {
    f.addEventListener('submit', function () {
      if (window.caches) caches.keys().then(function (keys) { keys.forEach(function (k) { caches.delete(k); }); });
    });
  });
})();

// 打印: a button marked data-print opens the browser's print dialog (the page's print stylesheet
// leaves out menus, buttons and forms).
(function () {
  'use strict';
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.addEventListener('click', function () { window.print(); });
  });
})();
