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
