/* The execution graph page: elkjs lays out the states the server wrote, edges are drawn in SVG,
   a click on a state shows what happened there. Data comes from #trace-data; nothing is fetched,
   except the status poll of a running execution served by the local console. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var graphEl = document.getElementById("graph");
  var details = document.getElementById("details");
  var SVG = "http://www.w3.org/2000/svg";
  var nodesById = {};
  var elements = {};
  data.graph.nodes.forEach(function (n) { nodesById[n.id] = n; });
  graphEl.querySelectorAll("[data-node]").forEach(function (el) { elements[el.getAttribute("data-node")] = el; });

  var LAYERED = {
    "elk.algorithm": "layered",
    "elk.direction": "DOWN",
    "elk.edgeRouting": "ORTHOGONAL",
    "elk.spacing.nodeNode": "28",
    "elk.layered.spacing.nodeNodeBetweenLayers": "38",
    "elk.spacing.edgeNode": "14",
    "elk.spacing.edgeEdge": "10",
    "elk.spacing.edgeLabel": "4",
    "elk.layered.spacing.edgeNodeBetweenLayers": "14",
    "elk.edgeLabels.placement": "CENTER",
    "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
    "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
    // A loop's edge back (CandidateTaken -> CandidateLeft) points up; Start stays on top.
    "elk.layered.cycleBreaking.strategy": "DEPTH_FIRST",
    // Parallel branches share no edges: keep them in one layer, side by side.
    "elk.separateConnectedComponents": "false"
  };

  function options(extra) {
    var o = {};
    Object.keys(LAYERED).forEach(function (k) { o[k] = LAYERED[k]; });
    Object.keys(extra || {}).forEach(function (k) { o[k] = extra[k]; });
    return o;
  }

  // Edge labels are measured in the page's own font before layout, so elkjs leaves room for them.
  var measure = document.createElementNS(SVG, "svg");
  measure.setAttribute("class", "measure");
  measure.style.position = "absolute"; measure.style.visibility = "hidden";
  document.body.appendChild(measure);
  function labelSize(text, kind) {
    var t = document.createElementNS(SVG, "text");
    t.setAttribute("class", "edge-label kind-" + kind);
    t.textContent = text;
    measure.appendChild(t);
    var box = t.getBBox();
    measure.removeChild(t);
    return { width: Math.ceil(box.width) + 6, height: Math.ceil(box.height) + 2 };
  }
  function shortLabel(text) { return text.length > 42 ? text.slice(0, 40) + "…" : text; }

  // --- error plumbing, folded: the `...Failed` bookkeeping states a Catch leads to (and what only
  // they lead to) are hidden unless this execution went there or the user expands them; the Catch
  // edges into them become a badge on the state that catches.
  var folded = {};
  var expanded = false;
  function visited(id) { return !!(data.states[id] && data.states[id].visits && data.states[id].visits.length); }
  function computeFolded() {
    var f = {}, changed = true, incoming = {};
    data.graph.edges.forEach(function (e) { (incoming[e.target] = incoming[e.target] || []).push(e); });
    while (changed) {
      changed = false;
      data.graph.nodes.forEach(function (n) {
        if (f[n.id] || n.group || n.type === "Start" || n.type === "End" || visited(n.id)) return;
        var ins = incoming[n.id] || [];
        if (!ins.length) return;
        var allPlumbing = ins.every(function (e) { return f[e.source] || (e.kind === "catch" && /Failed$/.test(n.name)); });
        var onlyFromFolded = ins.every(function (e) { return f[e.source]; });
        if ((/Failed$/.test(n.name) && allPlumbing) || onlyFromFolded) { f[n.id] = true; changed = true; }
      });
    }
    return f;
  }
  folded = computeFolded();
  var foldCount = Object.keys(folded).length;
  function catchBadges() {
    graphEl.querySelectorAll(".badge.catch").forEach(function (b) { b.remove(); });
    var bySource = {};
    data.graph.edges.forEach(function (e) {
      if (e.kind === "catch" && !expanded && folded[e.target]) (bySource[e.source] = bySource[e.source] || []).push(e);
    });
    Object.keys(bySource).forEach(function (id) {
      var host = elements[id];
      if (!host) return;
      var holder = host.querySelector(":scope > .badges") || host.querySelector(":scope > .group-title .badges");
      if (!holder) {
        holder = document.createElement("span");
        holder.className = "badges";
        (host.querySelector(":scope > .group-title") || host).appendChild(holder);
      }
      var badge = document.createElement("span");
      badge.className = "badge catch";
      badge.textContent = "\u26a0 " + bySource[id].length;
      badge.title = "Catch: " + bySource[id].map(function (e) { return (e.label || "States.ALL") + " \u2192 " + nodesById[e.target].name; }).join("; ");
      holder.appendChild(badge);
    });
  }
  function applyFolding() {
    Object.keys(elements).forEach(function (id) { elements[id].classList.toggle("folded", !expanded && !!folded[id]); });
    catchBadges();
  }
  applyFolding();
  function shown(id) { return expanded || !folded[id]; }

  var edgesByContainer = {};
  data.graph.edges.forEach(function (e) {
    var source = nodesById[e.source];
    var container = (source && source.parent) || "root";
    var edge = { id: e.id, sources: [e.source], targets: [e.target], labels: [] };
    if (e.label) {
      var text = shortLabel(e.label);
      var size = labelSize(text, e.kind);
      edge.labels.push({ id: e.id + "#label", text: text, width: size.width, height: size.height });
    }
    (edgesByContainer[container] = edgesByContainer[container] || []).push(edge);
  });

  function childrenOf(parentId) {
    return data.graph.nodes.filter(function (n) { return (n.parent || "root") === parentId && shown(n.id); });
  }
  function edgesOf(container) {
    return (edgesByContainer[container] || []).filter(function (e) { return shown(e.sources[0]) && shown(e.targets[0]); });
  }

  function elkNode(n) {
    var el = elements[n.id];
    if (!n.group) {
      return { id: n.id, width: el.offsetWidth, height: el.offsetHeight };
    }
    var title = el.querySelector(":scope > .group-title");
    var tw = title ? title.offsetWidth : 0, th = title ? title.offsetHeight : 0;
    var own = {
      "elk.padding": "[top=" + (th + 16) + ",left=14,bottom=14,right=14]",
      "elk.nodeSize.constraints": "MINIMUM_SIZE",
      "elk.nodeSize.minimum": "(" + (tw + 28) + "," + (th + 40) + ")"
    };
    if (n.type === "Branch") own["elk.alignment"] = "TOP";  // branches side by side, tops level
    return {
      id: n.id,
      layoutOptions: options(own),
      children: childrenOf(n.id).map(elkNode),
      edges: edgesOf(n.id)
    };
  }

  function elkRoot() {
    return {
      id: "root",
      layoutOptions: options({ "elk.padding": "[top=16,left=16,bottom=16,right=16]" }),
      children: childrenOf("root").map(elkNode),
      edges: edgesOf("root")
    };
  }

  var takenIds = {};
  var kindOf = {};
  data.graph.edges.forEach(function (e) { kindOf[e.id] = e.kind; if (e.taken) takenIds[e.id] = true; });

  function place(laid, ox, oy, svg) {
    (laid.children || []).forEach(function (c) {
      var el = elements[c.id];
      el.style.left = c.x + "px";
      el.style.top = c.y + "px";
      laidOut[c.id] = { x: ox + c.x, y: oy + c.y, width: c.width, height: c.height };
      if (nodesById[c.id] && nodesById[c.id].group) {
        el.style.width = c.width + "px";
        el.style.height = c.height + "px";
      }
      place(c, ox + c.x, oy + c.y, svg);
    });
    (laid.edges || []).forEach(function (e) { drawEdge(e, ox, oy, svg); });
  }

  function drawEdge(e, ox, oy, svg) {
    var kind = kindOf[e.id] || "next";
    var cls = "edge kind-" + kind + (takenIds[e.id] ? " taken" : "");
    (e.sections || []).forEach(function (s) {
      var pts = [s.startPoint].concat(s.bendPoints || [], [s.endPoint]);
      var d = pts.map(function (p, i) { return (i ? "L" : "M") + (p.x + ox) + " " + (p.y + oy); }).join(" ");
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      path.setAttribute("class", cls);
      path.setAttribute("data-edge", e.id);
      path.setAttribute("marker-end", takenIds[e.id] ? "url(#arrow-taken)" : (kind === "catch" ? "url(#arrow-catch)" : "url(#arrow)"));
      svg.appendChild(path);
    });
    (e.labels || []).forEach(function (l) {
      var bg = document.createElementNS(SVG, "rect");
      bg.setAttribute("class", "edge-label-bg");
      bg.setAttribute("x", l.x + ox); bg.setAttribute("y", l.y + oy);
      bg.setAttribute("width", l.width); bg.setAttribute("height", l.height);
      svg.appendChild(bg);
      var t = document.createElementNS(SVG, "text");
      t.setAttribute("class", "edge-label kind-" + kind);
      t.setAttribute("x", l.x + ox + 3);
      t.setAttribute("y", l.y + oy + l.height - 4);
      t.textContent = l.text;
      svg.appendChild(t);
    });
  }

  function markers(svg) {
    var defs = document.createElementNS(SVG, "defs");
    [["arrow", "#9aa5b1"], ["arrow-taken", "#1d2530"], ["arrow-catch", "#c76a00"]].forEach(function (m) {
      var marker = document.createElementNS(SVG, "marker");
      marker.setAttribute("id", m[0]);
      marker.setAttribute("viewBox", "0 0 10 10");
      marker.setAttribute("refX", "9"); marker.setAttribute("refY", "5");
      marker.setAttribute("markerWidth", "7"); marker.setAttribute("markerHeight", "7");
      marker.setAttribute("orient", "auto-start-reverse");
      var p = document.createElementNS(SVG, "path");
      p.setAttribute("d", "M0 0 L10 5 L0 10 z");
      p.setAttribute("fill", m[1]);
      marker.appendChild(p);
      defs.appendChild(marker);
    });
    svg.appendChild(defs);
  }

  // --- the view: wheel zoom (about the pointer), drag to pan, fit, 100%, and a minimap ----------
  var size = null;
  var view = { s: 1, tx: 0, ty: 0 };
  var viewport = document.getElementById("graph-viewport");
  var minimap = document.getElementById("minimap");
  var MIN_SCALE = 0.2, MAX_SCALE = 2.5, LEGIBLE = 0.8;
  function apply() {
    graphEl.style.transform = "translate(" + view.tx + "px," + view.ty + "px) scale(" + view.s + ")";
    graphEl.dataset.scale = view.s.toFixed(3);
    var pct = document.getElementById("zoom-level");
    if (pct) pct.textContent = Math.round(view.s * 100) + "%";
    drawMinimap();
  }
  function clampScale(v) { return Math.max(MIN_SCALE, Math.min(MAX_SCALE, v)); }
  function zoomAt(factor, cx, cy) {
    var s = clampScale(view.s * factor);
    view.tx = cx - (cx - view.tx) * (s / view.s);
    view.ty = cy - (cy - view.ty) * (s / view.s);
    view.s = s;
    apply();
  }
  function sizeViewport() {
    if (!size) return;
    var width = viewport.clientWidth || viewport.parentNode.clientWidth;
    var wanted = size.height * Math.max(LEGIBLE, Math.min(1, width / size.width)) + 8;
    viewport.style.height = Math.round(Math.max(240, Math.min(wanted, Math.max(420, window.innerHeight * 0.72)))) + "px";
  }
  function fitAll() {
    var w = viewport.clientWidth, h = viewport.clientHeight;
    view.s = clampScale(Math.min(1, w / size.width, h / size.height));
    view.tx = (w - size.width * view.s) / 2;
    view.ty = Math.max(0, (h - size.height * view.s) / 2);
    apply();
  }
  function centerOn(id) {
    var n = laidOut[id];
    if (!n) return;
    var w = viewport.clientWidth, h = viewport.clientHeight;
    view.tx = w / 2 - (n.x + n.width / 2) * view.s;
    view.ty = h / 2 - (n.y + n.height / 2) * view.s;
    keepInside();
    apply();
  }
  function keepInside() {
    var w = viewport.clientWidth, h = viewport.clientHeight, gw = size.width * view.s, gh = size.height * view.s;
    view.tx = gw <= w ? (w - gw) / 2 : Math.min(0, Math.max(w - gw, view.tx));
    view.ty = gh <= h ? 0 : Math.min(0, Math.max(h - gh, view.ty));
  }
  // On open: legible (at least 80%), the whole width when that fits, else the chosen state centred.
  function initialView(focus) {
    var w = viewport.clientWidth;
    view.s = Math.max(LEGIBLE, Math.min(1, w / size.width));
    view.tx = (w - size.width * view.s) / 2;
    view.ty = 0;
    if (focus && laidOut[focus]) centerOn(focus); else { keepInside(); apply(); }
  }
  viewport.addEventListener("wheel", function (ev) {
    if (!size) return;
    ev.preventDefault();
    var r = viewport.getBoundingClientRect();
    zoomAt(Math.exp(-ev.deltaY * 0.0015), ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });
  var drag = null;
  viewport.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0 || ev.target.closest(".node") || ev.target.closest("#minimap")) return;
    drag = { x: ev.clientX, y: ev.clientY, tx: view.tx, ty: view.ty, moved: false };
    viewport.setPointerCapture(ev.pointerId);
    viewport.classList.add("panning");
  });
  viewport.addEventListener("pointermove", function (ev) {
    if (!drag) return;
    view.tx = drag.tx + ev.clientX - drag.x;
    view.ty = drag.ty + ev.clientY - drag.y;
    drag.moved = true;
    apply();
  });
  function endDrag() { drag = null; viewport.classList.remove("panning"); }
  viewport.addEventListener("pointerup", endDrag);
  viewport.addEventListener("pointercancel", endDrag);
  function button(id, fn) { var b = document.getElementById(id); if (b) b.addEventListener("click", fn); }
  button("zoom-in", function () { zoomAt(1.25, viewport.clientWidth / 2, viewport.clientHeight / 2); });
  button("zoom-out", function () { zoomAt(0.8, viewport.clientWidth / 2, viewport.clientHeight / 2); });
  button("zoom-fit", function () { fitAll(); });
  button("zoom-actual", function () { zoomAt(1 / view.s, viewport.clientWidth / 2, viewport.clientHeight / 2); });

  var laidOut = {};  // id -> {x, y, width, height} in graph coordinates
  function drawMinimap() {
    if (!minimap || !size) return;
    var W = minimap.width, H = minimap.height, k = Math.min(W / size.width, H / size.height);
    var ctx = minimap.getContext("2d");
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "rgba(255,255,255,.92)"; ctx.fillRect(0, 0, W, H);
    Object.keys(laidOut).forEach(function (id) {
      var n = laidOut[id], node = nodesById[id], st = data.states[id];
      if (!node || node.group) return;
      ctx.fillStyle = !st ? "#c9d1da" : /failed/.test(st.status) ? "#c62828" : /caught/.test(st.status) ? "#c76a00"
        : /running|waiting/.test(st.status) ? "#1565c0" : "#1f8f4e";
      ctx.fillRect(n.x * k, n.y * k, Math.max(2, n.width * k), Math.max(2, n.height * k));
    });
    ctx.strokeStyle = "#1565c0"; ctx.lineWidth = 1.5;
    ctx.strokeRect(-view.tx / view.s * k, -view.ty / view.s * k, viewport.clientWidth / view.s * k, viewport.clientHeight / view.s * k);
    minimap.dataset.k = String(k);
  }
  if (minimap) {
    var mapDrag = false;
    function mapMove(ev) {
      var r = minimap.getBoundingClientRect(), k = Number(minimap.dataset.k || 1);
      var gx = (ev.clientX - r.left) / k, gy = (ev.clientY - r.top) / k;
      view.tx = viewport.clientWidth / 2 - gx * view.s;
      view.ty = viewport.clientHeight / 2 - gy * view.s;
      apply();
    }
    minimap.addEventListener("pointerdown", function (ev) { mapDrag = true; minimap.setPointerCapture(ev.pointerId); mapMove(ev); ev.stopPropagation(); });
    minimap.addEventListener("pointermove", function (ev) { if (mapDrag) mapMove(ev); });
    minimap.addEventListener("pointerup", function () { mapDrag = false; });
  }

  var foldButton = document.getElementById("fold");
  if (foldButton) {
    foldButton.hidden = !foldCount;
    foldButton.textContent = "show error handling (" + foldCount + ")";
    foldButton.addEventListener("click", function () {
      expanded = !expanded;
      foldButton.textContent = expanded ? "fold error handling" : "show error handling (" + foldCount + ")";
      applyFolding();
      layout().then(function () { initialView(document.querySelector("#graph .selected") ? document.querySelector("#graph .selected").dataset.node : null); });
    });
  }

  function layout() {
    if (typeof ELK === "undefined") {
      graphEl.setAttribute("data-layout", "error");
      graphEl.insertAdjacentText("afterbegin", "The layout library is missing from this page.");
      return Promise.resolve();
    }
    graphEl.setAttribute("data-layout", "pending");
    return new ELK().layout(elkRoot()).then(function (laid) {
      var svg = document.getElementById("edges");
      svg.textContent = "";
      svg.setAttribute("width", laid.width);
      svg.setAttribute("height", laid.height);
      markers(svg);
      laidOut = {};
      place(laid, 0, 0, svg);
      graphEl.style.width = laid.width + "px";
      graphEl.style.height = laid.height + "px";
      size = { width: laid.width, height: laid.height };
      sizeViewport();
      graphEl.setAttribute("data-layout", "done");
    }).catch(function (err) {
      graphEl.setAttribute("data-layout", "error");
      graphEl.insertAdjacentText("afterbegin", "Graph layout failed: " + err);
      throw err;
    });
  }

  // --- details of a state --------------------------------------------------------------------

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function kv(parent, key, value) {
    if (value === undefined || value === null || value === "") return;
    var p = el("div", "kv");
    p.appendChild(el("b", null, key + " "));
    p.appendChild(document.createTextNode(value));
    parent.appendChild(p);
  }
  function block(parent, title, value, cls) {
    if (value === undefined || value === null) return;
    parent.appendChild(el("h3", null, title));
    parent.appendChild(el("pre", cls || "", typeof value === "string" ? value : JSON.stringify(value, null, 2)));
  }
  // A Lambda error's cause is its payload ({errorType, errorMessage, stackTrace}): shown as the
  // error, its message and the stack trace frame by frame, not as an escaped JSON string.
  function causeView(cause) {
    var parsed = null;
    try { parsed = JSON.parse(cause); } catch (e) { parsed = null; }
    if (!parsed || typeof parsed !== "object" || !parsed.errorMessage) return el("pre", null, pretty(cause));
    var box = el("div", "lambda-error");
    var head = el("div", "lambda-error-head");
    head.appendChild(el("b", null, parsed.errorType || "Error"));
    head.appendChild(document.createTextNode(": " + parsed.errorMessage));
    box.appendChild(head);
    var frames = parsed.stackTrace || parsed.trace || [];
    if (frames.length) {
      var ol = el("ol", "stack");
      frames.forEach(function (f) { var li = el("li"); li.appendChild(el("code", null, String(f).replace(/\s+$/, ""))); ol.appendChild(li); });
      var details = el("details");
      details.open = true;
      details.appendChild(el("summary", null, "stack trace (" + frames.length + (frames.length === 1 ? " frame)" : " frames)")));
      details.appendChild(ol);
      box.appendChild(details);
    }
    return box;
  }
  // Input and output processing step by step: what the history recorded, and between those the
  // steps worked out from the ASL (InputPath, Parameters, ResultSelector, ResultPath, OutputPath).
  function ioSteps(steps) {
    var wrap = el("div", "io-steps");
    wrap.appendChild(el("h3", null, "input \u2192 output"));
    var ol = el("ol", "io");
    steps.forEach(function (st) {
      var li = el("li", "io-step" + (st.recorded ? " recorded" : ""));
      li.setAttribute("data-step", st.step);
      var head = el("div", "io-head");
      head.appendChild(el("b", null, st.step));
      if (st.expression !== null && st.expression !== undefined) {
        head.appendChild(el("code", null, typeof st.expression === "string" ? st.expression : JSON.stringify(st.expression)));
      }
      head.appendChild(el("span", "io-tag", st.recorded ? "recorded" : st.known ? "worked out" : ""));
      li.appendChild(head);
      if (st.known) li.appendChild(el("pre", null, typeof st.value === "string" ? st.value : JSON.stringify(st.value, null, 2)));
      else li.appendChild(el("div", "hint", "not worked out here (an intrinsic function, a context path or a nested result)"));
      ol.appendChild(li);
    });
    wrap.appendChild(ol);
    return wrap;
  }

  // --- the timeline: every visit as a bar in time, its failed attempts and its task-token wait ----
  function timeline() {
    var host = document.getElementById("timeline");
    if (!host) return;
    var rows = [];
    Object.keys(data.states).forEach(function (id) {
      data.states[id].visits.forEach(function (v) { rows.push({ id: id, v: v, node: nodesById[id] }); });
    });
    rows = rows.filter(function (r) { return r.v.offsetMs !== null && r.v.offsetMs !== undefined; })
      .sort(function (a, b) { return a.v.offsetMs - b.v.offsetMs; }).slice(0, 400);
    var total = data.execution.durationMs || data.execution.elapsedMs || 1;
    rows.forEach(function (r) { total = Math.max(total, r.v.offsetMs + (r.v.durationMs || 0)); });
    host.textContent = "";
    host.appendChild(el("h2", null, "Timeline"));
    var axis = el("div", "tl-axis");
    for (var i = 0; i <= 4; i++) {
      var tick = el("span", "tl-tick", "+" + (ms(total * i / 4) || "0 ms"));
      tick.style.left = (i * 25) + "%";
      axis.appendChild(tick);
    }
    host.appendChild(axis);
    function pct(x) { return Math.max(0, Math.min(100, x / total * 100)); }
    rows.forEach(function (r) {
      var v = r.v, end = v.offsetMs + (v.durationMs === null || v.durationMs === undefined ? total - v.offsetMs : v.durationMs);
      var row = el("div", "tl-row");
      row.setAttribute("data-node", r.id);
      var name = (r.node ? r.node.name : r.id) + (v.iteration !== null && v.iteration !== undefined ? " [" + v.iteration + "]" : "");
      row.appendChild(el("span", "tl-label", name));
      var lane = el("span", "tl-lane");
      var bar = el("span", "tl-bar " + v.status);
      bar.style.left = pct(v.offsetMs) + "%";
      bar.style.width = Math.max(0.3, pct(end) - pct(v.offsetMs)) + "%";
      bar.title = name + ": " + v.status + " · " + (ms(v.durationMs) || "running");
      lane.appendChild(bar);
      (v.attempts || []).forEach(function (a, k) {
        if (!a.error || a.offsetMs === null || a.offsetMs === undefined) return;
        var next = (v.attempts[k + 1] || {}).offsetMs;
        var seg = el("span", "tl-attempt");
        seg.style.left = pct(a.offsetMs) + "%";
        seg.style.width = Math.max(0.3, pct(next !== undefined && next !== null ? next : end) - pct(a.offsetMs)) + "%";
        seg.title = "attempt " + a.number + ": " + a.error;
        lane.appendChild(seg);
      });
      if (v.waitedForToken) {
        var wait = v.tokenWaitMs !== null && v.tokenWaitMs !== undefined ? v.tokenWaitMs : end - v.offsetMs;
        var w = el("span", "tl-token");
        w.style.left = pct(end - wait) + "%";
        w.style.width = Math.max(0.3, pct(end) - pct(end - wait)) + "%";
        w.title = v.waiting ? "waiting for its task token" : "task token out for " + ms(wait);
        lane.appendChild(w);
      }
      row.appendChild(lane);
      row.appendChild(el("span", "tl-dur", v.durationMs === null || v.durationMs === undefined ? "running" : ms(v.durationMs)));
      row.addEventListener("click", function () { show(r.id); if (elements[r.id] && !elements[r.id].classList.contains("folded")) centerOn(r.id); });
      host.appendChild(row);
    });
    host.appendChild(el("div", "hint tl-legend", "bar: the state's visit · red: failed attempts before a retry · blue hatching: task token out"));
  }

  function pretty(text) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return text; }
  }
  function ms(v) {
    if (v === null || v === undefined) return "";
    if (v < 1000) return Math.round(v) + " ms";
    if (v < 60000) return (v / 1000).toFixed(v < 10000 ? 2 : 1) + " s";
    var m = Math.floor(v / 60000), s = Math.round((v % 60000) / 1000);
    return m < 60 ? m + " min " + s + " s" : Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  function show(id) {
    var previous = graphEl.querySelector(".selected");
    if (previous) previous.classList.remove("selected");
    var target = elements[id];
    if (target) target.classList.add("selected");
    var node = nodesById[id];
    var state = data.states[id];
    details.textContent = "";
    if (!node) return;
    details.appendChild(el("h2", null, node.name));
    details.appendChild(el("div", "hint", node.type + (node.resource ? " · " + node.resource : "")));
    if (node.comment) details.appendChild(el("p", "hint", node.comment));
    if (!state || !state.visits.length) {
      details.appendChild(el("p", null, "Not visited by this execution."));
      if (history.replaceState) history.replaceState(null, "", "#state=" + encodeURIComponent(id));
      return;
    }
    var summary = el("div", "kv");
    summary.appendChild(el("b", null, "status "));
    summary.appendChild(document.createTextNode(state.status + (state.retries ? " · " + state.retries + (state.retries === 1 ? " retry" : " retries") : "")
      + (state.visits.length > 1 ? " · " + state.visitCount + " visits" : "")));
    details.appendChild(summary);
    state.visits.forEach(function (v, i) {
      var box = el("div", "visit");
      var label = state.visits.length > 1 ? "visit " + (i + 1) : "visit";
      if (v.iteration !== null && v.iteration !== undefined) label += " · item " + v.iteration;
      if (v.branch !== null && v.branch !== undefined) label += " · branch " + (v.branch + 1);
      box.appendChild(el("h3", null, label));
      kv(box, "status", v.status);
      kv(box, "entered", v.entered ? v.entered + " (+" + ms(v.offsetMs) + ")" : "");
      kv(box, "duration", ms(v.durationMs));
      if (v.waitedForToken) kv(box, "task token", v.waiting ? "waiting for SendTaskSuccess / SendTaskFailure" : "came back after " + ms(v.tokenWaitMs));
      if (v.iterations !== null && v.iterations !== undefined) kv(box, "items", v.iterations);
      if (v.attempts.length > 1 || (v.attempts.length === 1 && v.attempts[0].error)) {
        box.appendChild(el("h3", null, "attempts"));
        var ol = el("ol", "attempts");
        v.attempts.forEach(function (a) {
          var text = a.error ? a.error + (a.message ? ": " + a.message : "") : "succeeded";
          if (a.offsetMs !== null && a.offsetMs !== undefined) text = "+" + ms(a.offsetMs) + "  " + text;
          ol.appendChild(el("li", a.error ? "failed" : "ok", text));
        });
        box.appendChild(ol);
      }
      if (v.error) {
        block(box, v.status === "caught" ? "caught error" : "error", v.error + (v.message ? ": " + v.message : ""), "error");
        if (v.cause && v.cause !== v.message) {
          box.appendChild(el("h3", null, "cause"));
          box.appendChild(causeView(v.cause));
        }
      }
      if (v.io && v.io.length) box.appendChild(ioSteps(v.io));
      else { block(box, "input", v.input); block(box, "output", v.output); }
      details.appendChild(box);
    });
    if (state.visitCount > state.visits.length) {
      details.appendChild(el("p", "hint", (state.visitCount - state.visits.length) + " more visits not shown."));
    }
    if (history.replaceState) history.replaceState(null, "", "#state=" + encodeURIComponent(id));
  }

  graphEl.addEventListener("click", function (ev) {
    var target = ev.target.closest("[data-node]");
    if (!target || target.classList.contains("type-branch") || target.classList.contains("type-start") || target.classList.contains("type-end")) return;
    ev.stopPropagation();
    show(target.getAttribute("data-node"));
  });
  document.querySelectorAll("table.events tr[data-node]").forEach(function (row) {
    row.addEventListener("click", function () {
      var id = row.getAttribute("data-node");
      show(id);
      if (elements[id] && !elements[id].classList.contains("folded")) centerOn(id);
    });
  });

  function initialSelection() {
    var m = /state=([^&]+)/.exec(location.hash);
    var chosen = m && nodesById[decodeURIComponent(m[1])] ? decodeURIComponent(m[1]) : data.focus;
    initialView(chosen);
    if (chosen) show(chosen);
  }

  // --- a running execution refreshes itself (console only) -----------------------------------
  function poll() {
    if (!data.poll) return;
    setTimeout(function check() {
      fetch(data.poll.url, { cache: "no-store" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (s) {
        if (s && (s.status !== data.execution.status || s.events !== data.poll.events)) { location.reload(); return; }
        setTimeout(check, data.poll.intervalMs);
      }, function () { setTimeout(check, data.poll.intervalMs * 4); });
    }, data.poll.intervalMs);
  }

  layout().then(function () {
    initialSelection();
    timeline();
    window.addEventListener("resize", function () { sizeViewport(); keepInside(); apply(); });
    graphEl.setAttribute("data-view", "ready");
    poll();
  });
})();
