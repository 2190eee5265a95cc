/* report.js — charts of the memvigil report and live page, drawn by the page
 * itself as SVG from the JSON document embedded in it (docs/report.md).
 * No libraries, no network: everything here is plain DOM.
 *
 * MV.lineChart(el, spec) draws a time chart with min/max envelopes (the data
 * is downsampled to columns that keep both), horizontal lines (limit,
 * warning, critical), shaded bands (phases), event markers and a trend
 * line; hover shows exact values, drag selects a range to zoom, double-click
 * or the reset button zooms out. MV.histogram and MV.icicle draw operation
 * deltas and the flame graph (click a frame to zoom into it). MV.report(data)
 * lays out a whole report; the live page calls MV.lineChart with the same
 * spec built by MV.timelineSpec(data).
 */
(function () {
  'use strict';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var MV = window.MV = window.MV || {};
  MV.drawn = 0;

  function svg(tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function el(tag, cls, parent, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  // The same rounding as the C side's mv__human_bytes (one decimal below
  // 10, none above), so a figure reads the same on the page, in the event
  // messages and in the terminal.
  MV.fmtBytes = function (v) {
    if (v == null || isNaN(v)) return 'n/a';
    var a = Math.abs(v), u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'], i = 0;
    while (a >= 1024 && i < u.length - 1) { a /= 1024; i++; }
    return (v < 0 ? '-' : '') + (i === 0 ? a.toFixed(0) : a.toFixed(a < 10 ? 1 : 0)) + ' ' + u[i];
  };
  // Axis ticks need the finer steps a nice-number axis takes (1.25 GiB).
  MV.fmtAxisBytes = function (v) {
    if (v == null || isNaN(v)) return 'n/a';
    var a = Math.abs(v), u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'], i = 0;
    while (a >= 1024 && i < u.length - 1) { a /= 1024; i++; }
    return (v < 0 ? '-' : '') + (i === 0 ? a.toFixed(0) : a.toFixed(a < 10 ? 2 : a < 100 ? 1 : 0)) + ' ' + u[i];
  };
  // A growth rate (bytes per second in), per hour like mv__human_rate.
  MV.fmtRate = function (bps) {
    if (bps == null || !isFinite(bps)) return 'n/a';
    return MV.fmtBytes(bps * 3600) + '/h';
  };
  MV.fmtExact = function (v) {
    if (v == null || isNaN(v)) return 'n/a';
    return MV.fmtBytes(v) + ' (' + Math.round(v).toLocaleString('en-US') + ' B)';
  };
  MV.fmtDur = function (s) {
    if (s == null || isNaN(s)) return 'n/a';
    if (!isFinite(s)) return 'never';
    s = Math.max(0, s);
    // the C side's rules (mv__human_duration): rounded to whole seconds
    // first, a zero second unit left out ("6 h", not "6 h 0 min")
    var t = Math.round(s), two = function (a, ua, b, ub) {
      return b ? a + ' ' + ua + ' ' + b + ' ' + ub : a + ' ' + ua;
    };
    if (t < 60) return s < 10 && s !== t ? s.toFixed(1) + ' s' : t + ' s';
    if (t < 3600) return two(Math.floor(t / 60), 'min', t % 60, 's');
    if (t < 86400) return two(Math.floor(t / 3600), 'h', Math.floor((t % 3600) / 60), 'min');
    return two(Math.floor(t / 86400), 'd', Math.floor((t % 86400) / 3600), 'h');
  };
  // A time to the limit, as the C side says it (mv__human_eta): beyond
  // 14 days "more than 14 days", since a rate extrapolated further is not
  // a date to plan by.
  MV.ETA_SAY_MAX_S = 14 * 86400;
  MV.fmtEta = function (s) {
    if (s != null && isFinite(s) && s > MV.ETA_SAY_MAX_S) return 'more than 14 days';
    return MV.fmtDur(s);
  };
  MV.fmtTime = function (ms) {
    return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  };

  function lowerBound(a, x) {
    var lo = 0, hi = a.length;
    while (lo < hi) { var m = (lo + hi) >> 1; if (a[m] < x) lo = m + 1; else hi = m; }
    return lo;
  }
  function niceStep(range, n) {
    var raw = range / n, p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
  }
  function niceBytesStep(range, n) {
    var raw = range / n, u = 1;
    while (raw >= 1024 * u && u < Math.pow(1024, 4)) u *= 1024;
    return niceStep(raw * n / u, n) * u;
  }

  /* spec: {t0 (epoch ms), width?, height?, yFormat?, series: [{name, label,
   * color, t[], min[], max[], hidden?, dash?}], hlines: [{label, value,
   * color}], bands: [{t0, t1, label}] (ms from t0), markers: [{t, label,
   * color}], trend: {t0, v0, t1, v1} (ms from t0)} */
  MV.lineChart = function (host, spec) {
    host.textContent = '';
    host.classList.add('chart');
    var fmtY = spec.yFormat || MV.fmtAxisBytes, fmtYExact = spec.yExact || MV.fmtExact;
    var H = spec.height || 300, M = {l: 70, r: 14, t: 10, b: 26};
    var legend = el('div', 'legend', host);
    var box = el('div', null, host); box.style.position = 'relative';
    var tip = el('div', 'tip', box);
    var full = [Infinity, -Infinity];
    spec.series.forEach(function (s) {
      if (s.t.length) { full[0] = Math.min(full[0], s.t[0]); full[1] = Math.max(full[1], s.t[s.t.length - 1]); }
    });
    if (!isFinite(full[0])) { el('p', 'empty', host, 'no data'); return; }
    if (full[1] === full[0]) full[1] = full[0] + 1000;
    var view = full.slice();
    var zoomBtn;

    spec.series.concat(spec.hlines || []).forEach(function (s) {
      var sp = el('span', s.hidden ? 'off' : '', legend);
      var sw = el('i', null, sp); sw.style.background = s.color;
      sp.appendChild(document.createTextNode(s.label || s.name));
      sp.title = 'click to show or hide';
      sp.onclick = function () { s.hidden = !s.hidden; sp.className = s.hidden ? 'off' : ''; draw(); };
      s._legend = sp;
    });
    zoomBtn = el('button', 'reset', legend, 'reset zoom');
    zoomBtn.style.display = 'none';
    zoomBtn.onclick = function () { view = full.slice(); draw(); };

    var W, x, y, root;
    function draw() {
      W = spec.width || box.clientWidth || host.clientWidth || 900;
      var pw = W - M.l - M.r, ph = H - M.t - M.b;
      var lo = Infinity, hi = -Infinity;
      /* reference series (the limit) count for the scale only where they
       * are within 3x of the data, like the horizontal lines below */
      [false, true].forEach(function (ref) {
        var cap = ref ? 3 * hi : Infinity;
        spec.series.forEach(function (s) {
          if (s.hidden || !!s.ref !== ref) return;
          var i0 = Math.max(0, lowerBound(s.t, view[0]) - 1), i1 = Math.min(s.t.length, lowerBound(s.t, view[1]) + 1);
          for (var i = i0; i < i1; i++) {
            if (s.min[i] != null && s.min[i] <= cap) lo = Math.min(lo, s.min[i]);
            if (s.max[i] != null && s.max[i] <= cap) hi = Math.max(hi, s.max[i]);
          }
        });
      });
      if (!isFinite(hi)) { lo = 0; hi = 1; }
      var ymin = spec.yZero === false ? lo : Math.min(0, lo);
      var ymax = hi;
      /* horizontal lines within 3x of the data's top are drawn to scale;
       * further ones (a 24 GiB host limit over a 60 MiB process) are noted
       * in the legend as off scale, so the data keeps the height */
      (spec.hlines || []).forEach(function (h) {
        h.off = h.value > 3 * hi && hi > 0;
        if (!h.hidden && !h.off) ymax = Math.max(ymax, h.value);
        if (h._legend) h._legend.lastChild.textContent = (h.label || h.name) + ' ' + MV.fmtBytes(h.value) + (h.off ? ' (off scale)' : '');
      });
      if (ymax <= ymin) ymax = ymin + 1;
      ymax *= 1.05;
      x = function (t) { return M.l + (t - view[0]) / (view[1] - view[0]) * pw; };
      y = function (v) { return M.t + ph - (v - ymin) / (ymax - ymin) * ph; };
      box.querySelectorAll('svg').forEach(function (n) { n.remove(); });
      root = svg('svg', {viewBox: '0 0 ' + W + ' ' + H, height: H, 'class': 'mv-svg', 'data-series': ''}, null);
      box.insertBefore(root, tip);
      var clip = 'c' + Math.random().toString(36).slice(2);
      var defs = svg('defs', {}, root);
      svg('rect', {x: M.l, y: M.t, width: pw, height: ph}, svg('clipPath', {id: clip}, defs));
      /* grid + axes */
      var g = svg('g', {'class': 'grid axis'}, root);
      var ys = spec.yFormat ? niceStep(ymax - ymin, 5) : niceBytesStep(ymax - ymin, 5);
      for (var v = Math.ceil(ymin / ys) * ys; v <= ymax; v += ys) {
        svg('line', {x1: M.l, x2: W - M.r, y1: y(v), y2: y(v)}, g);
        svg('text', {x: M.l - 6, y: y(v) + 4, 'text-anchor': 'end'}, g).textContent = fmtY(v);
      }
      var span = view[1] - view[0], ts = niceStep(span / 1000, 6) * 1000;
      var units = [[1000, 's'], [60000, 'min'], [3600000, 'h'], [86400000, 'd']];
      var unit = units[0];
      units.forEach(function (u) { if (ts >= u[0]) unit = u; });
      for (var t = Math.ceil(view[0] / ts) * ts; t <= view[1]; t += ts) {
        svg('line', {x1: x(t), x2: x(t), y1: M.t, y2: H - M.b}, g);
        var lab = +(t / unit[0]).toFixed(2) + ' ' + unit[1];
        svg('text', {x: x(t), y: H - 8, 'text-anchor': 'middle'}, g).textContent = lab;
      }
      var plot = svg('g', {'clip-path': 'url(#' + clip + ')'}, root);
      (spec.bands || []).forEach(function (b) {
        var r = svg('rect', {x: x(b.t0), y: M.t, width: Math.max(1, x(b.t1) - x(b.t0)), height: ph,
                             fill: 'rgba(120,120,200,0.12)', 'class': 'band'}, plot);
        svg('title', {}, r).textContent = 'phase ' + b.label;
        svg('text', {x: x(b.t0) + 3, y: M.t + 12, 'class': 'lbl'}, plot).textContent = b.label;
      });
      (spec.hlines || []).forEach(function (h) {
        if (h.hidden || h.off) return;
        svg('line', {x1: M.l, x2: W - M.r, y1: y(h.value), y2: y(h.value), stroke: h.color,
                     'stroke-dasharray': h.dash || '6 4', 'stroke-width': 1.5, 'class': 'hline',
                     'data-name': h.name}, plot);
      });
      var drawn = [];
      spec.series.forEach(function (s) {
        if (s.hidden || !s.t.length) return;
        var i0 = Math.max(0, lowerBound(s.t, view[0]) - 1), i1 = Math.min(s.t.length, lowerBound(s.t, view[1]) + 1);
        var top = [], bot = [], line = [], env = false;
        for (var i = i0; i < i1; i++) {
          if (s.max[i] == null) continue;
          var X = x(s.t[i]).toFixed(1);
          top.push(X + ',' + y(s.max[i]).toFixed(1));
          bot.push(X + ',' + y(s.min[i]).toFixed(1));
          line.push(X + ',' + y(s.max[i]).toFixed(1));
          if (s.min[i] !== s.max[i]) env = true;
        }
        if (!line.length) return;
        if (env)   /* min..max envelope: spikes inside a column stay visible */
          svg('polygon', {points: top.concat(bot.reverse()).join(' '), fill: s.color, 'fill-opacity': 0.22,
                          stroke: 'none', 'class': 'envelope'}, plot);
        svg('polyline', {points: line.join(' '), fill: 'none', stroke: s.color, 'stroke-width': s.width || 1.6,
                         'stroke-dasharray': s.dash || 'none', 'class': 'series', 'data-name': s.name,
                         'data-points': line.length}, plot);
        drawn.push(s.name);
      });
      if (spec.trend && !spec.trend.hidden) {
        var tr = spec.trend;
        svg('line', {x1: x(tr.t0), y1: y(tr.v0), x2: x(tr.t1), y2: y(tr.v1), stroke: '#b3261e',
                     'stroke-width': 2, 'stroke-dasharray': '2 3', 'class': 'trend'}, plot);
        drawn.push('trend');
      }
      (spec.markers || []).forEach(function (m) {
        if (m.t < view[0] || m.t > view[1]) return;
        var mk = svg('g', {'class': 'marker'}, root);
        svg('line', {x1: x(m.t), x2: x(m.t), y1: M.t, y2: H - M.b, stroke: m.color, 'stroke-opacity': 0.5}, mk);
        svg('path', {d: 'M' + x(m.t) + ',' + (M.t) + 'l-5,-8h10z', fill: m.color}, mk);
        svg('title', {}, mk).textContent = MV.fmtTime(spec.t0 + m.t) + ' ' + m.label;
      });
      root.setAttribute('data-series', drawn.join(' '));
      var cursor = svg('line', {'class': 'cursor', y1: M.t, y2: H - M.b, x1: 0, x2: 0, visibility: 'hidden'}, root);
      var sel = svg('rect', {'class': 'sel', y: M.t, height: ph, x: 0, width: 0}, root);
      var over = svg('rect', {x: M.l, y: M.t, width: pw, height: ph, fill: 'transparent'}, root);
      var drag = null;
      function tAt(ev) {
        var r = root.getBoundingClientRect(), px = (ev.clientX - r.left) * W / r.width;
        return view[0] + (px - M.l) / pw * (view[1] - view[0]);
      }
      over.addEventListener('mousemove', function (ev) {
        var t = tAt(ev);
        if (drag != null) {
          sel.setAttribute('x', x(Math.min(drag, t))); sel.setAttribute('width', Math.abs(x(t) - x(drag)));
        }
        MV.hover(spec, t, cursor, tip, x, root, W);
      });
      over.addEventListener('mouseleave', function () { tip.style.display = 'none'; cursor.setAttribute('visibility', 'hidden'); });
      over.addEventListener('mousedown', function (ev) { drag = tAt(ev); ev.preventDefault(); });
      over.addEventListener('mouseup', function (ev) {
        if (drag == null) return;
        var t = tAt(ev), a = Math.min(drag, t), b = Math.max(drag, t);
        drag = null; sel.setAttribute('width', 0);
        if (x(b) - x(a) > 4) { view = [a, b]; draw(); }
      });
      over.addEventListener('dblclick', function () { view = full.slice(); draw(); });
      zoomBtn.style.display = (view[0] !== full[0] || view[1] !== full[1]) ? '' : 'none';
    }
    draw();
    MV.drawn++;
    host.setAttribute('data-drawn', '1');
    return {redraw: draw, zoom: function (a, b) { view = [a, b]; draw(); }};
  };

  /* Tooltip: the column nearest t of every visible series, exact values. */
  MV.hover = function (spec, t, cursor, tip, x, root, W) {
    var rows = [], tt = null;
    spec.series.forEach(function (s) {
      if (s.hidden || !s.t.length) return;
      var i = lowerBound(s.t, t);
      if (i > 0 && (i === s.t.length || t - s.t[i - 1] < s.t[i] - t)) i--;
      if (s.max[i] == null) return;
      if (tt == null) tt = s.t[i];
      var v = s.min[i] === s.max[i] ? (spec.yExact || MV.fmtExact)(s.max[i])
          : (spec.yFormat || MV.fmtBytes)(s.min[i]) + ' … ' + (spec.yFormat || MV.fmtBytes)(s.max[i]) + ' (min…max)';
      rows.push('<span class="sw" style="background:' + s.color + '"></span>' + esc(s.label || s.name) + ': <b>' + v + '</b>');
    });
    if (tt == null) return;
    var evs = (spec.markers || []).filter(function (m) { return Math.abs(x(m.t) - x(t)) < 4; });
    evs.forEach(function (m) { rows.push('⚑ ' + esc(m.label)); });
    cursor.setAttribute('x1', x(tt)); cursor.setAttribute('x2', x(tt)); cursor.setAttribute('visibility', 'visible');
    tip.innerHTML = '<b>' + MV.fmtTime(spec.t0 + tt) + '</b> (+' + MV.fmtDur(tt / 1000) + ')<br>' + rows.join('<br>');
    tip.style.display = 'block';
    var r = root.getBoundingClientRect(), px = x(tt) * r.width / W;
    tip.style.left = (px + 12 + tip.offsetWidth > r.width ? px - tip.offsetWidth - 12 : px + 12) + 'px';
    tip.style.top = '20px';
  };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  MV.esc = esc;

  var COLORS = {rss: '#1d2330', anon: '#d1495b', file: '#66a182', shmem: '#edae49', swap: '#8d5a97',
                private: '#b3261e', working_set: '#00798c', limit: '#000'};
  var LABELS = {rss: 'RSS', anon: 'anon', file: 'file', shmem: 'shmem', swap: 'swap',
                private: 'private (anon+swap)', working_set: 'working set', limit: 'effective limit'};
  var EVCOLORS = {oom_kill: '#b3261e', level_changed: '#b26a00', growth: '#d1495b', leak: '#b3261e',
                  leak_suspected: '#b26a00', oom_risk: '#b3261e', oom_risk_cleared: '#1b7f3b', target_exit: '#555', phase: '#6b6bd6'};

  /* The document's series are named after the sample's fields (the names
   * of every JSON output); the chart's own short names are these. */
  var FIELDS = {rss: 'rss_bytes', anon: 'rss_anon_bytes', file: 'rss_file_bytes', shmem: 'rss_shmem_bytes',
                swap: 'swap_bytes', private: 'private_bytes', working_set: 'working_set_bytes',
                limit: 'effective_limit_bytes'};

  /* The timeline spec from the report's JSON (also used by the live page). */
  MV.timelineSpec = function (d) {
    var ser = {}, spec = {t0: d.t0_ms, series: [], hlines: [], bands: [], markers: []};
    Object.keys(FIELDS).forEach(function (k) {
      if (d.timeline.series[FIELDS[k]]) ser[k] = d.timeline.series[FIELDS[k]];
    });
    ['rss', 'anon', 'file', 'shmem', 'swap', 'private', 'working_set'].forEach(function (k) {
      if (!ser[k]) return;
      spec.series.push({name: k, label: LABELS[k], color: COLORS[k], t: ser[k].t, min: ser[k].min, max: ser[k].max,
                        width: k === 'private' ? 2.2 : 1.4, hidden: k === 'rss' && !!ser.anon});
    });
    if (ser.limit) {
      var lim = ser.limit.max[ser.limit.max.length - 1], same = ser.limit.min.every(function (v) { return v === lim; }) &&
                ser.limit.max.every(function (v) { return v === lim; });
      if (same) {
        spec.hlines.push({name: 'limit', label: 'limit', value: lim, color: '#000', dash: '1 0'});
      } else {
        spec.series.push({name: 'limit', label: LABELS.limit, color: '#000', t: ser.limit.t, min: ser.limit.min,
                          max: ser.limit.max, dash: '4 3', ref: true});
      }
      if (d.warning_ratio) spec.hlines.push({name: 'warning', label: 'warning', value: lim * d.warning_ratio, color: '#b26a00'});
      if (d.critical_ratio) spec.hlines.push({name: 'critical', label: 'critical', value: lim * d.critical_ratio, color: '#b3261e'});
    }
    (d.phases || []).forEach(function (p) { spec.bands.push({t0: p.t0_ms - d.t0_ms, t1: p.t1_ms - d.t0_ms, label: p.name}); });
    (d.events || []).forEach(function (e) {
      if (e.event === 'started') return;
      spec.markers.push({t: e.timestamp_ms - d.t0_ms, label: e.event + ': ' + e.message, color: EVCOLORS[e.event] || '#777'});
    });
    if (d.timeline.trend) {
      var tr = d.timeline.trend;
      spec.trend = {t0: tr.t0_s * 1000, v0: tr.v0, t1: tr.t1_s * 1000, v1: tr.v1};
    }
    return spec;
  };

  var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

  MV.histogram = function (host, op) {
    host.textContent = '';
    host.classList.add('chart');
    var W = host.clientWidth || 500, H = 140, M = {l: 40, r: 10, t: 8, b: 30};
    var root = svg('svg', {viewBox: '0 0 ' + W + ' ' + H, height: H}, host);
    var tip = el('div', 'tip', host);
    var n = op.hist.length, mx = Math.max.apply(null, op.hist) || 1, bw = (W - M.l - M.r) / n;
    var g = svg('g', {'class': 'axis'}, root);
    svg('text', {x: M.l, y: H - 6}, g).textContent = MV.fmtBytes(op.hist_lo);
    svg('text', {x: W - M.r, y: H - 6, 'text-anchor': 'end'}, g).textContent = MV.fmtBytes(op.hist_hi);
    svg('text', {x: M.l - 4, y: M.t + 10, 'text-anchor': 'end'}, g).textContent = mx;
    op.hist.forEach(function (c, i) {
      var h = c / mx * (H - M.t - M.b);
      var lo = op.hist_lo + (op.hist_hi - op.hist_lo) * i / n, hi = op.hist_lo + (op.hist_hi - op.hist_lo) * (i + 1) / n;
      var r = svg('rect', {x: M.l + i * bw + 1, y: H - M.b - h, width: Math.max(1, bw - 2), height: h, fill: '#00798c',
                           'class': 'bar'}, root);
      r.addEventListener('mousemove', function (ev) {
        tip.innerHTML = c + ' calls between ' + MV.fmtBytes(lo) + ' and ' + MV.fmtBytes(hi);
        tip.style.display = 'block'; tip.style.left = (M.l + i * bw) + 'px'; tip.style.top = '0px';
      });
      r.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
    });
    MV.drawn++;
    host.setAttribute('data-drawn', '1');
  };

  /* Icicle: root on top, children below, widths proportional to bytes.
   * Click a frame to zoom into it; click the root row to zoom out. */
  MV.icicle = function (host, flame) {
    host.textContent = '';
    var root = {name: 'all', value: 0, children: {}};
    flame.stacks.forEach(function (s) {
      var node = root;
      root.value += s[1];
      s[0].split(';').forEach(function (f) {
        node = node.children[f] || (node.children[f] = {name: f, value: 0, children: {}, parent: node});
        node.value += s[1];
      });
    });
    if (!root.value) { el('p', 'empty', host, 'no live bytes in the last snapshot'); return; }
    var info = el('p', 'hint', host, 'Click a frame to zoom into it; click the top row to zoom out.');
    var box = el('div', 'flame', host);
    function depthOf(n) { var d = 0; (function walk(m, k) { d = Math.max(d, k); for (var c in m.children) walk(m.children[c], k + 1); })(n, 0); return d; }
    function hue(name) { var h = 0; for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0; return h; }
    function draw(focus) {
      box.textContent = '';
      var chain = [], p = focus;
      while (p) { chain.unshift(p); p = p.parent; }
      var rows = chain.length + depthOf(focus);
      box.style.height = (rows * 18 + 2) + 'px';
      chain.forEach(function (n, i) { cell(n, i, 0, 100, n === focus ? null : n); });
      (function walk(n, depth, left, width) {
        var x = left;
        Object.keys(n.children).map(function (k) { return n.children[k]; })
          .sort(function (a, b) { return b.value - a.value; }).forEach(function (c) {
            var w = width * c.value / n.value;
            if (w >= 0.15) { cell(c, depth, x, w, c); walk(c, depth + 1, x, w); }
            x += w;
          });
      })(focus, chain.length, 0, 100);
      info.textContent = (focus === root ? 'All live bytes: ' : 'Zoomed into ' + focus.name + ': ') +
        MV.fmtExact(focus.value) + ' (' + (focus.value / root.value * 100).toFixed(1) + '% of ' +
        MV.fmtBytes(root.value) + '). Click a frame to zoom; click the top row to zoom out.';
    }
    function cell(n, depth, left, width, target) {
      var d = el('div', null, box, n.name);
      d.style.top = (depth * 18) + 'px'; d.style.left = left + '%'; d.style.width = width + '%';
      var hh = hue(n.name);
      d.style.background = n === root ? '#d9dde5' : 'hsl(' + (10 + hh % 40) + ',' + (65 + hh % 20) + '%,' + (62 + hh % 14) + '%)';
      d.title = n.name + '\n' + MV.fmtExact(n.value) + ' (' + (n.value / root.value * 100).toFixed(1) + '%)';
      d.onclick = function () { draw(target || (n.parent || root)); };
      if (n === root) d.onclick = function () { draw(root); };
    }
    draw(root);
    MV.drawn++;
    host.setAttribute('data-drawn', '1');
  };

  MV.report = function (d) {
    var n = 0;
    var tl = document.getElementById('chart-timeline');
    if (tl) { MV.lineChart(tl, MV.timelineSpec(d)); n++; }
    var gh = document.getElementById('chart-gauges');
    if (gh && d.gauges.length) {
      MV.lineChart(gh, {t0: d.t0_ms, height: 240, series: d.gauges.map(function (g, i) {
        return {name: g.name, label: g.name, color: PALETTE[i % PALETTE.length], t: g.t, min: g.min, max: g.max};
      })});
      n++;
    }
    d.ops.forEach(function (op, i) {
      var h = document.getElementById('chart-op-' + i);
      if (h) { MV.histogram(h, op); n++; }
    });
    var ph = document.getElementById('chart-progress');
    if (ph && d.progress.length) {
      /* the document gives memory per unit in bytes per unit
       * (memory_per_unit_bytes); the chart shows it per SHOWN_UNITS units,
       * as the page's text does (CLI_SHOWN_UNITS, src/cli/report/report.h) */
      var SHOWN_UNITS = 1000;
      var perShown = function (v) { return v == null ? v : v * SHOWN_UNITS; };
      var markers = [];
      d.progress.forEach(function (p) {
        if (p.rising_at_ms != null) markers.push({t: p.rising_at_ms - d.t0_ms, label: 'memory per ' + p.unit + ' keeps rising', color: '#b3261e'});
      });
      MV.lineChart(ph, {t0: d.t0_ms, height: 220, markers: markers, series: d.progress.map(function (p, i) {
        return {name: p.unit, label: 'memory per ' + SHOWN_UNITS + ' ' + p.unit, color: PALETTE[i % PALETTE.length],
                t: p.t, min: p.min.map(perShown), max: p.max.map(perShown)};
      })});
      n++;
    }
    var fl = document.getElementById('flame');
    if (fl && d.heap && d.heap.flame && d.heap.flame.stacks.length) { MV.icicle(fl, d.heap.flame); n++; }
    document.documentElement.setAttribute('data-charts', String(MV.drawn));
    return n;
  };

  /* Errors are recorded on the root element too, so a headless check that
   * only sees the DOM can tell. */
  window.addEventListener('error', function (e) {
    var r = document.documentElement;
    r.setAttribute('data-errors', (r.getAttribute('data-errors') || '') + (e.message || 'error') + ';');
  });

  var data = document.getElementById('mv-data');
  if (data) {
    var go = function () { MV.report(JSON.parse(data.textContent)); };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', go); else go();
  }
})();
