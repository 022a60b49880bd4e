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
    return data.graph.nodes.filter(function (n) { return (n.parent || "root") === parentId; });
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
      edges: edgesByContainer[n.id] || []
    };
  }

  var root = {
    id: "root",
    layoutOptions: options({ "elk.padding": "[top=16,left=16,bottom=16,right=16]" }),
    children: childrenOf("root").map(elkNode),
    edges: edgesByContainer.root || []
  };

  var takenIds = {};
  var kindOf = {};
  data.graph.edges.forEach(function (e) { kindOf[e.id] = e.kind; if (e.taken) takenIds[e.id] = true; });

  function place(laid, ox, oy, svg) {
    (laid.children || []).forEach(function (c) {
      var el = elements[c.id];
      el.style.left = c.x + "px";
      el.style.top = c.y + "px";
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

  // A wide machine is scaled to the panel's width (not below half size); the button toggles 100%.
  var size = null, actualSize = false;
  var viewport = document.getElementById("graph-viewport");
  var zoom = document.getElementById("zoom");
  function fit() {
    if (!size) return;
    var available = viewport.parentNode.clientWidth - 2;
    var scale = actualSize ? 1 : Math.max(0.5, Math.min(1, available / size.width));
    graphEl.style.transform = scale < 1 ? "scale(" + scale + ")" : "";
    viewport.style.width = Math.ceil(size.width * scale) + "px";
    viewport.style.height = Math.ceil(size.height * scale) + "px";
    if (zoom) {
      zoom.hidden = scale === 1 && !actualSize;
      zoom.textContent = actualSize ? "fit to width" : "actual size";
    }
  }
  if (zoom) zoom.addEventListener("click", function () { actualSize = !actualSize; fit(); });

  function layout() {
    if (typeof ELK === "undefined") {
      graphEl.setAttribute("data-layout", "error");
      graphEl.insertAdjacentText("afterbegin", "The layout library is missing from this page.");
      return Promise.resolve();
    }
    return new ELK().layout(root).then(function (laid) {
      var svg = document.getElementById("edges");
      svg.setAttribute("width", laid.width);
      svg.setAttribute("height", laid.height);
      markers(svg);
      place(laid, 0, 0, svg);
      graphEl.style.width = laid.width + "px";
      graphEl.style.height = laid.height + "px";
      size = { width: laid.width, height: laid.height };
      fit();
      window.addEventListener("resize", fit);
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
        if (v.cause && v.cause !== v.message) block(box, "cause", pretty(v.cause));
      }
      block(box, "input", v.input);
      block(box, "output", v.output);
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
      if (elements[id] && elements[id].scrollIntoView) elements[id].scrollIntoView({ block: "center", behavior: "smooth" });
    });
  });

  function initialSelection() {
    var m = /state=([^&]+)/.exec(location.hash);
    if (m && nodesById[decodeURIComponent(m[1])]) return show(decodeURIComponent(m[1]));
    if (data.focus) show(data.focus);
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

  layout().then(function () { initialSelection(); poll(); });
})();
