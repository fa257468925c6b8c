/* Small SVG charts for the helpdesk statistics page (no external library: the console works offline). */
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var COLORS = { OPEN: '#007bff', IN_PROGRESS: '#17a2b8', WAITING_RESPONSE: '#ffc107', RESOLVED: '#28a745', CLOSED: '#6c757d' };
  var data = JSON.parse(document.getElementById('hd-stats-data').textContent);

  function el(name, attrs, text) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(width, height) { return el('svg', { viewBox: '0 0 ' + width + ' ' + height, role: 'img' }); }

  function empty(target) {
    target.innerHTML = '<p class="text-muted small">' + data.labels.none + '</p>';
  }

  function niceMax(value) {
    if (value <= 0) return 1;
    var power = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * power >= value) return steps[i] * power;
    return 10 * power;
  }

  /* Vertical bars per label; series stacked on each other. */
  function columns(target, labels, series) {
    var total = labels.map(function (_, i) { return series.reduce(function (s, ser) { return s + (ser.values[i] || 0); }, 0); });
    var max = niceMax(Math.max.apply(null, total.concat([0])));
    if (!labels.length || max === 1 && Math.max.apply(null, total) === 0) return empty(target);
    var W = 640, H = 240, L = 36, B = 28, T = 8;
    var chart = svg(W, H);
    var slot = (W - L) / labels.length, bar = Math.max(slot * 0.7, 1);
    [0, 0.5, 1].forEach(function (f) {
      var y = T + (H - T - B) * (1 - f);
      chart.appendChild(el('line', { x1: L, x2: W, y1: y, y2: y, class: 'hd-axis', 'stroke-dasharray': f ? '2,3' : '' }));
      chart.appendChild(el('text', { x: L - 4, y: y + 4, 'text-anchor': 'end' }, String(Math.round(max * f * 10) / 10)));
    });
    labels.forEach(function (label, i) {
      var x = L + i * slot + (slot - bar) / 2, base = H - B;
      series.forEach(function (ser) {
        var v = ser.values[i] || 0, h = (H - T - B) * v / max;
        if (!h) return;
        base -= h;
        var rect = el('rect', { x: x, y: base, width: bar, height: h, fill: ser.color });
        rect.appendChild(el('title', {}, label + ' · ' + ser.label + ': ' + v));
        chart.appendChild(rect);
      });
      var every = Math.ceil(labels.length / 10);
      if (i % every === 0) chart.appendChild(el('text', { x: x + bar / 2, y: H - 10, 'text-anchor': 'middle' }, label));
    });
    target.innerHTML = '';
    target.appendChild(chart);
    if (series.length > 1) {
      var legend = document.createElement('div');
      legend.className = 'hd-legend';
      series.forEach(function (ser) {
        var item = document.createElement('span');
        item.innerHTML = '<i style="background:' + ser.color + '"></i>';
        item.appendChild(document.createTextNode(ser.label));
        legend.appendChild(item);
      });
      target.appendChild(legend);
    }
  }

  /* Horizontal bars: one row per item, value written at the end. */
  function rows(target, items, color) {
    if (!items.length) return empty(target);
    var max = niceMax(Math.max.apply(null, items.map(function (i) { return i.value; })));
    var W = 640, row = 26, L = 170, H = items.length * row + 8;
    var chart = svg(W, H);
    items.forEach(function (item, n) {
      var y = 4 + n * row, w = (W - L - 70) * item.value / max;
      chart.appendChild(el('text', { x: L - 6, y: y + 16, 'text-anchor': 'end' }, item.label.slice(0, 28)));
      chart.appendChild(el('rect', { x: L, y: y + 4, width: Math.max(w, 1), height: row - 10, fill: item.color || color }));
      chart.appendChild(el('text', { x: L + w + 6, y: y + 16 }, item.text));
    });
    target.innerHTML = '';
    target.appendChild(chart);
  }

  var days = data.daily.map(function (d) { return d.date.slice(5); });
  columns(document.getElementById('hd-chart-daily'), days, data.statuses.map(function (s) {
    return { label: s.label, color: COLORS[s.key], values: data.daily.map(function (d) { return d.by_status[s.key]; }) };
  }));
  columns(document.getElementById('hd-chart-response'), days, [{
    label: '', color: '#6f42c1', values: data.daily.map(function (d) { return d.avg_response_hours || 0; })
  }]);
  rows(document.getElementById('hd-chart-helpers'), data.helpers.map(function (h) {
    var avg = h.avg_response_time === null ? '—' : h.avg_response_time + ' h';
    return { label: h.user ? h.user.first_name || '—' : '—', value: h.tickets_handled, text: h.tickets_handled + ' · ' + avg };
  }), '#17a2b8');
  rows(document.getElementById('hd-chart-categories'), data.categories.map(function (c) {
    return { label: c.name || data.labels.uncategorised, value: c.count, text: c.count + ' · ' + c.percentage + '%', color: c.color };
  }), '#007bff');
})();
