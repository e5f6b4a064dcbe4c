// Flame graph on a canvas: one draw call per visible frame, no DOM node per frame, so
// profiles with 100k+ frames stay responsive. Data: preorder rows
// [nameIndex, depth, total, self, base] (row 0 is the root, nameIndex -1).
(function () {
  "use strict";
  var dataEl = document.getElementById("flame-data");
  if (!dataEl) return;
  var D = JSON.parse(dataEl.textContent);
  var meta = JSON.parse(document.getElementById("flame-meta").textContent);
  var rows = D.rows, names = D.names, files = D.files, lines = D.lines;
  var n = rows.length;
  var RH = 18;
  var X = new Float64Array(n), W = new Float64Array(n), DEP = new Int32Array(n);
  var PARENT = new Int32Array(n), END = new Int32Array(n);
  var maxDepth = 0, stack = [];
  for (var i = 0; i < n; i++) {
    var d = rows[i][1];
    var w = Math.abs(rows[i][2]);
    if (D.diff) w = Math.max(w, Math.abs(rows[i][4]));
    while (stack.length > d) END[stack.pop()] = i;
    PARENT[i] = d > 0 ? stack[d - 1] : -1;
    W[i] = w; DEP[i] = d;
    stack.push(i);
    if (d > maxDepth) maxDepth = d;
  }
  while (stack.length) END[stack.pop()] = n;
  // A frame is at least as wide as its children (diffs mix two profiles' values).
  var kids = new Float64Array(n);
  for (i = n - 1; i >= 0; i--) {
    if (kids[i] > W[i]) W[i] = kids[i];
    if (PARENT[i] >= 0) kids[PARENT[i]] += W[i];
  }
  var cursor = [0];
  for (i = 0; i < n; i++) {
    var x = DEP[i] > 0 ? cursor[DEP[i]] : 0;
    X[i] = x;
    cursor[DEP[i]] = x + W[i];
    cursor[DEP[i] + 1] = x;
  }
  // Rows per depth, in x order (preorder keeps them sorted), for hit testing.
  var byDepth = [];
  for (i = 0; i < n; i++) (byDepth[DEP[i]] = byDepth[DEP[i]] || []).push(i);

  var canvas = document.getElementById("flame-canvas");
  var ctx = canvas.getContext("2d");
  var tip = document.getElementById("flame-tip");
  var status = document.getElementById("flame-status");
  var state = { zoom: 0, inverted: false, matches: null, drawn: 0, matchPct: 0, term: "" };

  function fmt(v) {
    var s = meta.suffix, div = meta.div;
    var t = (v / div).toFixed(2).replace(/\.00$/, "");
    return (t === "0" || t === "-0") ? "0" : t + s;
  }
  function pct(v, tot) { return tot ? (Math.abs(v / tot) * 100).toFixed(2) + "%" : "0%"; }
  function hash(s) { var h = 0; for (var k = 0; k < s.length; k++) h = (h * 31 + s.charCodeAt(k)) | 0; return h >>> 0; }
  var colorCache = {};
  function color(i) {
    var r = rows[i];
    if (state.matches && state.matches[i]) return "#c058d8";
    if (D.diff) {
      var delta = r[2] - r[4], ref = Math.max(Math.abs(r[2]), Math.abs(r[4])) || 1;
      var k = Math.min(1, Math.abs(delta) / ref);
      var c = Math.round(235 - 150 * k);
      if (delta > 0) return "rgb(255," + c + "," + c + ")";
      if (delta < 0) return "rgb(" + c + "," + c + ",255)";
      return "rgb(225,225,225)";
    }
    var nm = r[0] < 0 ? "" : names[r[0]];
    var col = colorCache[nm];
    if (!col) {
      var h = hash(nm);
      col = "hsl(" + (10 + h % 40) + "," + (70 + (h >> 8) % 25) + "%," + (58 + (h >> 16) % 12) + "%)";
      colorCache[nm] = col;
    }
    return col;
  }
  function label(i) { return rows[i][0] < 0 ? "root" : names[rows[i][0]]; }

  function resize() {
    var width = canvas.parentElement.clientWidth || 1000;
    var height = (maxDepth + 1) * RH;
    var ratio = window.devicePixelRatio || 1;
    canvas.width = width * ratio; canvas.height = height * ratio;
    canvas.style.width = width + "px"; canvas.style.height = height + "px";
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  }
  function yOf(d) { return state.inverted ? d * RH : (maxDepth - d) * RH; }

  function draw() {
    var width = parseFloat(canvas.style.width);
    ctx.clearRect(0, 0, width, (maxDepth + 1) * RH);
    var z = state.zoom, x0 = X[z], span = W[z] || 1, scale = width / span;
    var zd = DEP[z], drawn = 0;
    ctx.font = "12px ui-monospace,Menlo,Consolas,monospace";
    ctx.textBaseline = "middle";
    for (var i = 0; i < n; i++) {
      var d = DEP[i], x, w;
      if (d < zd) {
        // Ancestors of the zoomed frame span the full width; other shallow rows hide.
        if (!(i < z && END[i] > z)) continue;
        x = 0; w = width;
      } else {
        if (i < z || i >= END[z]) continue;
        w = W[i] * scale;
        if (w < 0.4) { continue; }
        x = (X[i] - x0) * scale;
      }
      var y = yOf(d);
      ctx.fillStyle = color(i);
      ctx.fillRect(x, y, Math.max(w - 0.5, 0.4), RH - 1);
      drawn++;
      if (w > 28) {
        ctx.fillStyle = "#1d2330";
        var text = label(i), room = Math.floor((w - 6) / 7.2);
        if (text.length > room) text = text.slice(0, Math.max(room - 1, 0)) + "…";
        ctx.fillText(text, x + 3, y + RH / 2);
      }
    }
    state.drawn = drawn;
    publish();
  }
  function publish() {
    var s = { drawn: state.drawn, zoom: label(state.zoom), zoomIndex: state.zoom, inverted: state.inverted,
      matchPct: state.matchPct, term: state.term, frames: n, ready: true };
    document.body.setAttribute("data-flame-state", JSON.stringify(s));
    status.textContent = (state.term ? "Matched: " + state.matchPct.toFixed(2) + "% · " : "") +
      (state.zoom ? "Zoomed: " + label(state.zoom) + " · " : "") + n + " frames";
  }

  function hit(px, py) {
    var width = parseFloat(canvas.style.width);
    var d = state.inverted ? Math.floor(py / RH) : maxDepth - Math.floor(py / RH);
    var list = byDepth[d];
    if (!list) return -1;
    var z = state.zoom;
    if (d < DEP[z]) {
      for (var k = 0; k < list.length; k++) if (list[k] < z && END[list[k]] > z) return list[k];
      return -1;
    }
    var v = X[z] + px * (W[z] || 1) / width;
    var lo = 0, hi = list.length - 1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1, r = list[mid];
      if (X[r] + W[r] <= v) lo = mid + 1; else if (X[r] > v) hi = mid - 1;
      else return (r >= z && r < END[z]) ? r : -1;
    }
    return -1;
  }
  function zoomTo(i) { state.zoom = (i >= 0 && i < n) ? i : 0; draw(); }
  function search(term) {
    state.term = term || "";
    if (!state.term) { state.matches = null; state.matchPct = 0; draw(); return 0; }
    var re;
    try { re = new RegExp(state.term); } catch (e) { re = null; }
    var m = new Uint8Array(n), covered = 0, until = -1;
    for (var i = 1; i < n; i++) {
      var nm = label(i);
      var ok = re ? re.test(nm) : nm.indexOf(state.term) >= 0;
      if (ok) {
        m[i] = 1;
        if (i >= until) { covered += W[i]; until = END[i]; }  // count a subtree once
      }
    }
    state.matches = m;
    state.matchPct = W[0] ? 100 * covered / W[0] : 0;
    draw();
    return state.matchPct;
  }

  canvas.addEventListener("click", function (ev) {
    var r = canvas.getBoundingClientRect();
    var i = hit(ev.clientX - r.left, ev.clientY - r.top);
    if (i >= 0) zoomTo(i === state.zoom ? PARENT[i] : i);
  });
  canvas.addEventListener("mousemove", function (ev) {
    var r = canvas.getBoundingClientRect();
    var i = hit(ev.clientX - r.left, ev.clientY - r.top);
    if (i < 0) { tip.style.display = "none"; return; }
    var row = rows[i], tot = rows[0][2];
    var where = row[0] >= 0 && files[row[0]] ? files[row[0]] + (lines[row[0]] ? ":" + lines[row[0]] : "") : "";
    var html = "<b></b><br>cum " + fmt(row[2]) + " (" + pct(row[2], tot) + ") · flat " + fmt(row[3]) +
      " (" + pct(row[3], tot) + ")";
    if (D.diff) html += "<br>base " + fmt(row[4]) + " · change " + fmt(row[2] - row[4]);
    tip.innerHTML = html + (where ? "<br><span class=mono></span>" : "");
    tip.querySelector("b").textContent = label(i);
    if (where) tip.querySelector(".mono").textContent = where;
    tip.style.display = "block";
    tip.style.left = Math.min(ev.pageX + 12, window.innerWidth - 420) + "px";
    tip.style.top = (ev.pageY + 14) + "px";
  });
  canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  document.getElementById("flame-search").addEventListener("input", function (ev) { search(ev.target.value); });
  document.getElementById("flame-reset").addEventListener("click", function () { zoomTo(0); });
  document.getElementById("flame-invert").addEventListener("change", function (ev) {
    state.inverted = ev.target.checked; draw();
  });
  window.addEventListener("resize", function () { resize(); draw(); });
  // For tests and scripting: the same actions the mouse performs.
  window.godiagFlame = { zoomTo: zoomTo, search: search, hit: hit, state: state,
    // First frame with this name inside the zoomed subtree (else anywhere).
    rowOf: function (name) {
      for (var i = state.zoom; i < END[state.zoom]; i++) if (label(i) === name) return i;
      for (i = 0; i < n; i++) if (label(i) === name) return i;
      return -1;
    },
    yOf: yOf, rowHeight: RH, depthOf: function (i) { return DEP[i]; },
    // Page coordinates of a frame's centre under the current zoom (null when hidden).
    boxOf: function (i) {
      var width = parseFloat(canvas.style.width), z = state.zoom, scale = width / (W[z] || 1);
      var x = DEP[i] < DEP[z] ? 0 : (X[i] - X[z]) * scale, w = DEP[i] < DEP[z] ? width : W[i] * scale;
      var r = canvas.getBoundingClientRect();
      return { x: r.left + x + w / 2, y: r.top + yOf(DEP[i]) + RH / 2, w: w };
    },
    pixel: function (x, y) {
      var r = canvas.getBoundingClientRect(), ratio = window.devicePixelRatio || 1;
      var p = ctx.getImageData((x - r.left) * ratio, (y - r.top) * ratio, 1, 1).data;
      return [p[0], p[1], p[2]];
    } };
  resize();
  draw();
})();
