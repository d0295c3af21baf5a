// artefact report: filterable, paginated lists of questions, descriptions and pairs.
// Data come from data/*.js (window.ARTEFACT_QUESTIONS, …); the filter state lives in the URL
// hash (#modality=CT&level=mild&page=2), so a view can be linked and the back button works.
(function () {
  'use strict';
  var PAGE = 40;
  var LEVELS = { none: 0, mild: 1, severe: 2 };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function thumb(img, alt) {
    return '<a href="images/' + esc(img[0]) + '.png"><img loading="lazy" src="thumbs/' +
      esc(img[0]) + '.png" width="' + img[1] + '" height="' + img[2] + '" alt="' + esc(alt) + '"></a>';
  }
  function tags(d, keys) {
    return keys.map(function (k) {
      return '<span class="tag tag-' + esc(k) + '">' + esc(d[k]) + '</span>';
    }).join(' ');
  }
  function renderQuestion(q) {
    var letters = ['A', 'B', 'C', 'D'];
    var opts = q.options.map(function (o, i) {
      if (!o) { return ''; }
      var cls = letters[i] === q.answer ? ' class="answer"' : '';
      return '<li' + cls + '><b>' + letters[i] + '.</b> ' + esc(o) + '</li>';
    }).join('');
    return '<article class="card" data-modality="' + esc(q.modality) + '" data-level="' + esc(q.level) +
      '" data-attribute="' + esc(q.attribute) + '" data-split="' + esc(q.split) + '">' +
      thumb(q.image, q.modality + ' ' + q.attribute + ' ' + q.level) +
      '<div class="body"><div class="meta">#' + q.index + ' ' +
      tags(q, ['split', 'modality', 'question_type', 'level', 'attribute']) + '</div>' +
      '<p class="q">' + esc(q.question) + '</p><ol class="opts">' + opts + '</ol>' +
      '<p class="ans">Answer: <b>' + esc(q.answer) + '</b></p></div></article>';
  }
  function renderDescription(d) {
    return '<article class="card" data-modality="' + esc(d.modality) + '" data-level="' + esc(d.level) +
      '" data-attribute="' + esc(d.attribute) + '" data-split="' + esc(d.split) + '">' +
      thumb(d.image, d.modality + ' ' + d.attribute + ' ' + d.level) +
      '<div class="body"><div class="meta">#' + d.index + ' ' +
      tags(d, ['split', 'modality', 'level', 'attribute', 'grade']) + '</div>' +
      '<p>' + esc(d.description) + '</p></div></article>';
  }
  function renderPair(p) {
    function side(img, label, lvl, attr, better) {
      return '<figure class="' + (better ? 'better' : '') + '">' + thumb(img, label + ' ' + attr + ' ' + lvl) +
        '<figcaption>' + label + ': ' + esc(attr) + ' · ' + esc(lvl) + (better ? ' · <b>better</b>' : '') +
        '</figcaption></figure>';
    }
    return '<article class="card pair" data-modality="' + esc(p.modality) + '" data-level="' + esc(p.level) +
      '" data-attribute="' + esc(p.attribute) + '" data-split="' + esc(p.split) + '">' +
      '<div class="meta">#' + p.index + ' ' + tags(p, ['split', 'modality', 'kind']) + '</div>' +
      '<div class="sides">' + side(p.a, 'A (first)', p.level_a, p.attribute_a, p.better === 'A') +
      side(p.b, 'B (second)', p.level_b, p.attribute_b, p.better === 'B') + '</div>' +
      '<p>' + esc(p.description) + '</p></article>';
  }

  var KINDS = {
    QUESTIONS: { noun: 'questions', filters: ['split', 'modality', 'attribute', 'level', 'question_type'], render: renderQuestion },
    DESCRIPTIONS: { noun: 'descriptions', filters: ['split', 'modality', 'attribute', 'level', 'grade'], render: renderDescription },
    PAIRS: { noun: 'pairs', filters: ['split', 'modality', 'kind', 'attribute', 'level'], render: renderPair }
  };
  var kind = null, data = null;
  Object.keys(KINDS).forEach(function (k) {
    if (!kind && window['ARTEFACT_' + k]) { kind = KINDS[k]; data = window['ARTEFACT_' + k]; }
  });
  if (!kind) { return; }

  function readState() {
    var st = {};
    var h = window.location.hash.replace(/^#/, '');
    h.split('&').forEach(function (kv) {
      if (!kv) { return; }
      var i = kv.indexOf('=');
      var k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
      st[k] = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1));
    });
    return st;
  }
  function writeState(st) {
    var parts = [];
    Object.keys(st).forEach(function (k) {
      if (st[k] !== '' && st[k] !== undefined) {
        parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(st[k]));
      }
    });
    var h = parts.join('&');
    if (window.location.hash.replace(/^#/, '') === h) { render(); } else { window.location.hash = h; }
  }
  function values(key) {
    var counts = {};
    data.forEach(function (d) { var v = String(d[key]); counts[v] = (counts[v] || 0) + 1; });
    return Object.keys(counts).sort(function (a, b) {
      if (key === 'level') { return LEVELS[a] - LEVELS[b]; }
      return a < b ? -1 : a > b ? 1 : 0;
    }).map(function (v) { return [v, counts[v]]; });
  }

  var filtersEl = document.getElementById('filters');
  filtersEl.innerHTML = kind.filters.map(function (key) {
    var opts = '<option value="">all</option>' + values(key).map(function (vc) {
      return '<option value="' + esc(vc[0]) + '">' + esc(vc[0]) + ' (' + vc[1] + ')</option>';
    }).join('');
    return '<label>' + esc(key.replace('_', ' ')) + ' <select id="f-' + key + '" data-key="' + key + '">' + opts + '</select></label>';
  }).join(' ') + ' <button id="reset" type="button">reset</button>';
  kind.filters.forEach(function (key) {
    document.getElementById('f-' + key).addEventListener('change', function () {
      var st = readState();
      st[key] = this.value;
      st.page = '';
      writeState(st);
    });
  });
  document.getElementById('reset').addEventListener('click', function () { writeState({}); });

  function pager(el, page, pages, st) {
    if (pages <= 1) { el.innerHTML = ''; return; }
    var html = '';
    for (var p = 1; p <= pages; p++) {
      if (p === 1 || p === pages || Math.abs(p - page) <= 3) {
        html += p === page ? '<b class="cur">' + p + '</b>' : '<a href="#" data-page="' + p + '">' + p + '</a>';
      } else if (Math.abs(p - page) === 4) {
        html += '<span>…</span>';
      }
    }
    el.innerHTML = html;
    Array.prototype.forEach.call(el.querySelectorAll('a[data-page]'), function (a) {
      a.addEventListener('click', function (e) {
        e.preventDefault();
        var s = readState();
        s.page = this.getAttribute('data-page');
        writeState(s);
        window.scrollTo(0, 0);
      });
    });
  }

  function render() {
    var t0 = window.performance ? window.performance.now() : 0;
    var st = readState();
    kind.filters.forEach(function (key) {
      var sel = document.getElementById('f-' + key);
      sel.value = st[key] || '';
      if (sel.value !== (st[key] || '')) { sel.value = ''; }
    });
    var shown = data.filter(function (d) {
      return kind.filters.every(function (key) {
        return !st[key] || String(d[key]) === st[key];
      });
    });
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    var page = Math.min(pages, Math.max(1, parseInt(st.page || '1', 10) || 1));
    var slice = shown.slice((page - 1) * PAGE, page * PAGE);
    document.getElementById('list').innerHTML = slice.map(kind.render).join('');
    var count = document.getElementById('count');
    count.setAttribute('data-shown', String(shown.length));
    count.setAttribute('data-total', String(data.length));
    count.setAttribute('data-page', String(page));
    count.textContent = shown.length + ' of ' + data.length + ' ' + kind.noun +
      (pages > 1 ? ' · page ' + page + ' of ' + pages : '');
    pager(document.getElementById('pager'), page, pages, st);
    pager(document.getElementById('pager2'), page, pages, st);
    if (window.performance) {
      count.setAttribute('data-render-ms', (window.performance.now() - t0).toFixed(1));
    }
  }
  window.addEventListener('hashchange', render);
  render();
})();
