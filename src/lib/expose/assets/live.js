/* live.js — the exporter's live page (docs/live-page.md). Polls the relative
 * URL api/v1/samples?since=<newest t held> every sampling interval, keeps
 * the newest points (the server's capacity), and draws them with the
 * report's chart code (report.js: MV.timelineSpec + MV.lineChart), plus the
 * headline (level, leak verdict, growth, time to limit), the OOM-risk claim
 * beside it, and recent events.
 * Relative URLs only, so it works through a port-forward or a proxy that
 * adds a path prefix; nothing is loaded from anywhere else.
 *
 * Token: when the endpoint needs a bearer token, open the page as
 * ...?token=SECRET; the page sends it as "Authorization: Bearer" on its
 * fetches. Without it, the page says that the token is needed.
 */
(function () {
  'use strict';
  var MV = window.MV;
  var root = document.documentElement;
  // The columns of api/v1/samples, named after the sample's fields (the
  // names of every JSON output, and of the report's series that
  // MV.timelineSpec reads), and the series each column feeds: a cgroup
  // target has no process RSS, so its cgroup split stands in.
  var KEYS = ['rss_bytes', 'rss_anon_bytes', 'rss_file_bytes', 'rss_shmem_bytes', 'swap_bytes',
              'cg_anon_bytes', 'cg_file_bytes', 'cg_shmem_bytes', 'cg_swap_bytes',
              'working_set_bytes', 'private_bytes', 'effective_limit_bytes'];
  var SERIES = {rss_bytes: ['rss_bytes'], rss_anon_bytes: ['rss_anon_bytes', 'cg_anon_bytes'],
                rss_file_bytes: ['rss_file_bytes', 'cg_file_bytes'],
                rss_shmem_bytes: ['rss_shmem_bytes', 'cg_shmem_bytes'],
                swap_bytes: ['swap_bytes', 'cg_swap_bytes'], working_set_bytes: ['working_set_bytes'],
                private_bytes: ['private_bytes'], effective_limit_bytes: ['effective_limit_bytes']};
  var LEVELS = ['ok', 'warning', 'critical'];
  var LABELS = {leak: 'Leak', suspect: 'Suspected leak', no_leak: 'No leak',
                insufficient_data: 'Not enough data yet'};
  var cols = {timestamp_ms: [], level: []}, last = 0, cap = 720, polls = 0, redraws = 0, prevSpec = null, chart = null;
  KEYS.forEach(function (k) { cols[k] = []; });
  var token = new URLSearchParams(window.location.search).get('token');
  var host = document.getElementById('chart-timeline');
  var conn = document.getElementById('conn');

  function $(id) { return document.getElementById(id); }
  function zoomed() {
    var b = host.querySelector('button.reset');
    return !!(b && b.style.display !== 'none');
  }
  function append(s) {
    var n = s.timestamp_ms.length;
    for (var i = 0; i < n; i++) {
      cols.timestamp_ms.push(s.timestamp_ms[i]);
      cols.level.push(s.level[i]);
      KEYS.forEach(function (k) { cols[k].push(s[k] ? s[k][i] : null); });
    }
    var extra = cols.timestamp_ms.length - cap;
    if (extra > 0) Object.keys(cols).forEach(function (k) { cols[k].splice(0, extra); });
    if (n) last = cols.timestamp_ms[cols.timestamp_ms.length - 1];
  }
  function reportDoc(doc) {
    var t0 = cols.timestamp_ms[0], ser = {};
    var rel = cols.timestamp_ms.map(function (t) { return t - t0; });
    Object.keys(SERIES).forEach(function (name) {
      SERIES[name].some(function (k) {
        if (!cols[k].some(function (v) { return v != null; })) return false;
        ser[name] = {t: rel, min: cols[k], max: cols[k]};
        return true;
      });
    });
    return {t0_ms: t0, timeline: {series: ser}, warning_ratio: doc.warning_ratio,
            critical_ratio: doc.critical_ratio, phases: [], events: doc.events};
  }
  function draw(doc) {
    if (!cols.timestamp_ms.length) return;
    if (chart && zoomed()) { $('conn').setAttribute('data-paused', '1'); return; }
    var spec = MV.timelineSpec(reportDoc(doc));
    if (prevSpec) {   /* keep what the user hid in the legend */
      var was = {};
      prevSpec.series.concat(prevSpec.hlines).forEach(function (s) { was[s.name] = s.hidden; });
      spec.series.concat(spec.hlines).forEach(function (s) { if (s.name in was) s.hidden = was[s.name]; });
    }
    chart = MV.lineChart(host, spec);
    prevSpec = spec;
    redraws++;
    root.setAttribute('data-charts', '1');
    root.setAttribute('data-redraws', String(redraws));
  }
  function fig(dl, label, value) {
    var d = document.createElement('div'), dt = document.createElement('dt'), dd = document.createElement('dd');
    dt.textContent = label; dd.textContent = value;
    d.appendChild(dt); d.appendChild(dd); dl.appendChild(d);
  }
  function headline(doc) {
    var v = doc.leak ? doc.leak.verdict : 'insufficient_data', i = cols.timestamp_ms.length - 1;
    var h = $('verdict');
    h.className = 'verdict v-' + v;
    h.setAttribute('data-verdict', v);
    h.setAttribute('data-level', doc.level);
    $('verdict-label').textContent = (LABELS[v] || v) + ' \u2014 level ' + doc.level + (doc.target_alive ? '' : ' (target gone)');
    $('evidence').textContent = doc.leak && doc.leak.evidence ? doc.leak.evidence : '';
    var dl = $('figures');
    dl.textContent = '';
    if (i >= 0) {
      fig(dl, 'private (anon+swap)', MV.fmtBytes(cols.private_bytes[i]));
      fig(dl, 'RSS', MV.fmtBytes(cols.rss_bytes[i]));
      fig(dl, 'working set', MV.fmtBytes(cols.working_set_bytes[i]));
      fig(dl, 'effective limit', MV.fmtBytes(cols.effective_limit_bytes[i]));
    }
    // Now, and over which span: the events below keep the figures of
    // their own moment, so the two may differ and each says when it is from.
    var span = doc.growth_window_seconds == null ? '' : ' (last ' + MV.fmtDur(doc.growth_window_seconds) + ')';
    fig(dl, 'growth now' + span, MV.fmtRate(doc.growth_bytes_per_second));
    fig(dl, 'time to limit at that rate', doc.growing === false ? 'never (not growing)' : MV.fmtEta(doc.time_to_limit_seconds));
    if (doc.leak && doc.leak.confidence != null) fig(dl, 'confidence', Math.round(doc.leak.confidence * 100) + '%');
    fig(dl, 'samples shown', String(cols.timestamp_ms.length));
    // the urgency claim, apart from the verdict (the cause)
    var r = doc.oom_risk, rh = $('oom-risk');
    var on = !!(r && r.active);
    rh.className = 'verdict risk ' + (r ? (on ? 'r-active' : 'r-none') : '');
    rh.setAttribute('data-oom-risk', r ? String(on) : 'unknown');
    $('oom-risk-label').textContent = !r ? 'OOM risk: no detector'
      : on ? 'OOM RISK \u2014 out of memory in about ' + MV.fmtEta(r.time_to_limit_seconds) + ' at the current rate'
      : 'No OOM risk';
    $('oom-risk-evidence').textContent = r && r.evidence ? r.evidence : '';
  }
  function events(doc) {
    var tb = $('events');
    while (tb.rows.length > 1) tb.deleteRow(1);
    doc.events.slice().reverse().forEach(function (e) {
      var r = tb.insertRow(-1);
      r.className = 'lvl-' + e.level;
      [MV.fmtTime(e.timestamp_ms), e.event, e.level, e.message].forEach(function (x) { r.insertCell(-1).textContent = x; });
    });
  }
  function schedule(ms) { window.setTimeout(poll, ms); }
  function poll() {
    var headers = {Accept: 'application/json'};
    if (token) headers.Authorization = 'Bearer ' + token;
    fetch('api/v1/samples?since=' + last, {headers: headers, cache: 'no-store', credentials: 'same-origin'})
      .then(function (r) {
        if (r.status === 401) {
          throw new Error(token ? 'the token was refused' : 'this endpoint needs a bearer token: open this page as ?token=SECRET');
        }
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (doc) {
        polls++;
        cap = doc.capacity || cap;
        append(doc.samples);
        headline(doc);
        events(doc);
        draw(doc);
        root.setAttribute('data-points', String(cols.timestamp_ms.length));
        root.setAttribute('data-polls', String(polls));
        conn.textContent = 'live \u2014 ' + cols.timestamp_ms.length + ' samples, every ' + MV.fmtDur(doc.interval_ms / 1000) +
          '; last ' + (last ? MV.fmtTime(last) : 'n/a') + (zoomed() ? ' (zoomed: updates paused)' : '');
        conn.className = 'sub';
        schedule(Math.max(1000, Math.min(doc.interval_ms || 10000, 60000)));
      })
      .catch(function (e) {
        conn.textContent = 'not updating: ' + e.message + ' (retrying)';
        conn.className = 'sub stale';
        root.setAttribute('data-stale', '1');
        schedule(5000);
      });
  }
  poll();
})();
