/* The console's views (workflows/console/app.py): the executions list (filters, outcome, live over
   server-sent events, start with an input editor), the fleet, the DLQ (redrive), the functions
   (invocations and logs), and an execution's actions (stop, answer its task token, start again).
   Every action is a same-origin POST carrying the console's token. Text is set as text, never as HTML. */
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("console-data").textContent);
  var base = boot.base;

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "cls") e.className = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function ms(v) {
    if (v === null || v === undefined) return "";
    if (v < 1000) return Math.round(v) + " ms";
    if (v < 60000) return (v / 1000).toFixed(v < 10000 ? 2 : 1) + " s";
    var m = Math.floor(v / 60000), s = Math.round((v % 60000) / 1000);
    return m < 60 ? m + " min " + s + " s" : Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  function when(iso) { return iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace("+00:00", " UTC") : ""; }
  function executionHref(arn) { return base + "/executions/" + encodeURIComponent(arn); }

  var message = el("div", { id: "console-message", role: "status", "aria-live": "polite" });
  function say(text, ok) { message.textContent = text; message.className = ok ? "ok" : "bad"; }

  function post(path, body) {
    return fetch(base + "/api/" + path, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", "X-Console-Token": boot.token },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return { message: r.status + " " + r.statusText }; }).then(function (b) {
        if (!r.ok) throw new Error(b.message || (r.status + " " + r.statusText));
        return b;
      });
    });
  }
  function getJson(path) {
    return fetch(base + "/api/" + path, { cache: "no-store" }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(t.trim() || r.statusText); });
      return r.json();
    });
  }

  /* A JSON editor: a textarea that says at once whether its text parses. */
  function jsonEditor(id, text) {
    var area = el("textarea", { id: id, cls: "json-editor", spellcheck: "false", rows: "10" });
    area.value = text;
    var note = el("div", { cls: "json-note" });
    function check() {
      try { JSON.parse(area.value); note.textContent = "valid JSON"; note.className = "json-note ok"; area.removeAttribute("aria-invalid"); return true; }
      catch (e) { note.textContent = e.message; note.className = "json-note bad"; area.setAttribute("aria-invalid", "true"); return false; }
    }
    area.addEventListener("input", check);
    check();
    return { area: area, note: note, valid: check };
  }

  /* Lambda's error payload ({errorType, errorMessage, stackTrace}) rendered: type, message, frames. */
  function renderCause(cause) {
    var parsed = null;
    try { parsed = JSON.parse(cause); } catch (e) { /* plain text */ }
    if (!parsed || typeof parsed !== "object" || !parsed.errorMessage) return el("pre", { cls: "cause", text: cause });
    var box = el("div", { cls: "lambda-error" }, [
      el("div", { cls: "lambda-error-head" }, [el("b", { text: parsed.errorType || "Error" }), ": " + parsed.errorMessage])]);
    var frames = parsed.stackTrace || parsed.trace;
    if (frames && frames.length) {
      var ol = el("ol", { cls: "stack" });
      frames.forEach(function (f) { ol.appendChild(el("li", {}, [el("code", { text: String(f).replace(/\s+$/, "") })])); });
      box.appendChild(el("details", { open: "" }, [el("summary", { text: "stack trace (" + frames.length + " frames)" }), ol]));
    }
    return box;
  }
  window.fleetConsoleRenderCause = renderCause;  // the execution page's details panel uses it too

  // --- executions --------------------------------------------------------------------------------

  function executionsView(root, data) {
    var state = { data: data, filters: { machine: "", status: "", name: "", since: "" } };
    var machineSel = el("select", { id: "filter-machine", "aria-label": "state machine" });
    var statusSel = el("select", { id: "filter-status", "aria-label": "status" });
    ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"].forEach(function (s) {
      statusSel.appendChild(el("option", { value: s, text: s || "any status" }));
    });
    var nameInput = el("input", { id: "filter-name", type: "search", placeholder: "name contains…", "aria-label": "name" });
    var sinceSel = el("select", { id: "filter-since", "aria-label": "started" });
    [["", "any time"], ["900", "last 15 min"], ["3600", "last hour"], ["86400", "last 24 h"]].forEach(function (o) {
      sinceSel.appendChild(el("option", { value: o[0], text: o[1] }));
    });
    var live = el("span", { id: "live", cls: "live", text: "connecting…" });
    var count = el("span", { id: "count", cls: "hint" });
    var startBtn = el("button", { id: "start-open", type: "button", text: "Start execution…" });
    var tbody = el("tbody");
    var table = el("table", { cls: "executions", id: "executions" }, [
      el("thead", {}, [el("tr", {}, ["execution", "state machine", "status", "outcome", "started", "duration"].map(function (h) { return el("th", { text: h }); }))]),
      tbody]);
    var startPanel = el("section", { id: "start-panel", cls: "panel", hidden: "" });
    root.textContent = "";
    root.appendChild(el("div", { cls: "filters" }, [machineSel, statusSel, nameInput, sinceSel, startBtn, count, live]));
    root.appendChild(message);
    root.appendChild(startPanel);
    root.appendChild(table);

    function fillMachines() {
      var chosen = machineSel.value;
      machineSel.textContent = "";
      machineSel.appendChild(el("option", { value: "", text: "any state machine" }));
      state.data.machines.forEach(function (m) { machineSel.appendChild(el("option", { value: m.name, text: m.name })); });
      machineSel.value = chosen;
    }
    function render() {
      var f = { machine: machineSel.value, status: statusSel.value, name: nameInput.value.trim().toLowerCase(), since: sinceSel.value };
      var cutoff = f.since ? Date.now() - Number(f.since) * 1000 : null;
      var shown = state.data.executions.filter(function (e) {
        return (!f.machine || e.stateMachine === f.machine) && (!f.status || e.status === f.status)
          && (!f.name || e.name.toLowerCase().indexOf(f.name) >= 0) && (!cutoff || (e.start && Date.parse(e.start) >= cutoff));
      });
      tbody.textContent = "";
      shown.forEach(function (e) {
        tbody.appendChild(el("tr", { cls: "execution " + e.status, "data-arn": e.arn }, [
          el("td", {}, [el("a", { href: executionHref(e.arn), text: e.name })]),
          el("td", { text: e.stateMachine }),
          el("td", {}, [el("span", { cls: "status-badge " + e.status, text: e.status })]),
          el("td", { cls: "outcome " + (e.status === "SUCCEEDED" ? "ok" : "bad"), text: e.outcome || "" }),
          el("td", { text: when(e.start) }),
          el("td", { cls: "num", text: e.status === "RUNNING" ? "running" : ms(e.durationMs) })]));
      });
      if (!shown.length) tbody.appendChild(el("tr", {}, [el("td", { colspan: "6", cls: "hint", text: "no executions match" })]));
      count.textContent = shown.length + " of " + state.data.executions.length;
    }
    // The filters live in the address (#machine=…&status=…&name=…&since=…): a filtered list can be shared.
    function saveFilters() {
      var p = new URLSearchParams();
      [["machine", machineSel], ["status", statusSel], ["name", nameInput], ["since", sinceSel]].forEach(function (f) {
        if (f[1].value) p.set(f[0], f[1].value);
      });
      if (history.replaceState) history.replaceState(null, "", p.toString() ? "#" + p.toString() : location.pathname);
    }
    function onFilter() { saveFilters(); render(); }
    [machineSel, statusSel, sinceSel].forEach(function (s) { s.addEventListener("change", onFilter); });
    nameInput.addEventListener("input", onFilter);
    fillMachines();
    function loadFilters() {
      var wanted = new URLSearchParams(location.hash.slice(1));
      machineSel.value = wanted.get("machine") || "";
      statusSel.value = wanted.get("status") || "";
      nameInput.value = wanted.get("name") || "";
      sinceSel.value = wanted.get("since") || "";
      render();
    }
    window.addEventListener("hashchange", loadFilters);
    loadFilters();

    startBtn.addEventListener("click", function () {
      startPanel.hidden = !startPanel.hidden;
      if (startPanel.hidden || startPanel.childNodes.length) return;
      var machine = el("select", { id: "start-machine", "aria-label": "state machine to start" });
      state.data.machines.forEach(function (m) { machine.appendChild(el("option", { value: m.arn, text: m.name })); });
      var name = el("input", { id: "start-name", placeholder: "name (optional)", maxlength: "80" });
      var editor = jsonEditor("start-input", "{\n  \n}");
      var go = el("button", { id: "start-go", type: "button", cls: "primary", text: "Start" });
      go.addEventListener("click", function () {
        if (!editor.valid()) { say("the input is not valid JSON: " + editor.note.textContent, false); return; }
        go.disabled = true;
        post("start", { stateMachineArn: machine.value, name: name.value || null, input: editor.area.value }).then(function (r) {
          say("started " + r.executionArn, true);
          message.appendChild(document.createTextNode(" "));
          message.appendChild(el("a", { href: executionHref(r.executionArn), text: "open" }));
        }, function (e) { say(e.message, false); }).then(function () { go.disabled = false; });
      });
      startPanel.appendChild(el("h2", { text: "Start an execution" }));
      startPanel.appendChild(el("div", { cls: "row" }, [machine, name]));
      startPanel.appendChild(editor.area);
      startPanel.appendChild(editor.note);
      startPanel.appendChild(go);
    });

    if (window.EventSource) {
      var source = new EventSource(base + "/api/stream");
      source.addEventListener("open", function () { live.textContent = "live"; live.className = "live on"; document.body.dataset.live = "on"; });
      source.addEventListener("error", function () { live.textContent = "reconnecting…"; live.className = "live"; });
      source.addEventListener("executions", function (ev) {
        state.data = JSON.parse(ev.data);
        fillMachines();
        render();
        document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
      });
    }
  }

  // --- fleet ---------------------------------------------------------------------------------------

  var STATUS_ORDER = ["AVAILABLE", "RESERVED", "ON_TRIP", "IN_MAINTENANCE", "REGISTERING", "REGISTRATION_FAILED", "OUT_OF_SERVICE", "RETIRED"];
  function fleetView(root) {
    root.textContent = "Loading the fleet…";
    getJson("fleet").then(function (data) {
      root.textContent = "";
      root.appendChild(el("h1", { text: "Fleet · " + data.total + " cars" }));
      var board = el("div", { cls: "board", id: "fleet" });
      var statuses = STATUS_ORDER.filter(function (s) { return data.byStatus[s]; })
        .concat(Object.keys(data.byStatus).filter(function (s) { return STATUS_ORDER.indexOf(s) < 0; }));
      statuses.forEach(function (status) {
        var cars = data.byStatus[status];
        var column = el("section", { cls: "column", "data-status": status }, [el("h2", { text: status + " (" + cars.length + ")" })]);
        cars.forEach(function (c) {
          var lines = [el("b", { text: c.car_id }), el("div", { cls: "hint", text: c.model + " · v" + c.version })];
          if (c.battery_pct !== null && c.battery_pct !== undefined) lines.push(el("div", { text: "battery " + c.battery_pct + "%" }));
          if (c.ride) lines.push(el("div", { cls: "holder", text: "ride " + c.ride.ride_id + (c.ride.status ? " · " + c.ride.status : "") }));
          if (c.job) lines.push(el("div", { cls: "holder", text: "job " + c.job.job_id + (c.job.status ? " · " + c.job.status : "") + (c.job.reason ? " · " + c.job.reason : "") }));
          column.appendChild(el("div", { cls: "car", "data-car": c.car_id }, lines));
        });
        board.appendChild(column);
      });
      if (!statuses.length) board.appendChild(el("p", { cls: "hint", text: "no cars yet: register one (POST /cars or fleet register)" }));
      root.appendChild(board);
      document.body.dataset.loaded = "fleet";
    }, function (e) { root.textContent = e.message; document.body.dataset.loaded = "error"; });
  }

  // --- DLQ -----------------------------------------------------------------------------------------

  function dlqView(root) {
    root.textContent = "Loading the failures…";
    getJson("dlq").then(function (data) {
      root.textContent = "";
      root.appendChild(el("h1", { text: "Failures · " + data.messages.length + " not yet redriven" }));
      var redrive = el("button", { id: "redrive", type: "button", cls: "primary", text: "Redrive selected", disabled: "" });
      var sweep = el("button", { id: "sweep", type: "button", text: "Sweep the queue",
        title: "delete the DLQ messages of redriven failures; record any message without its failure" });
      root.appendChild(el("div", { cls: "filters" }, [redrive, sweep]));
      root.appendChild(message);
      var list = el("div", { id: "dlq" });
      data.messages.forEach(function (m) {
        var box = el("input", { type: "checkbox", value: m.id, "aria-label": "select " + m.id });
        box.addEventListener("change", function () { redrive.disabled = !list.querySelector("input:checked"); });
        var card = el("article", { cls: "letter", "data-id": m.id }, [
          el("header", {}, [box, el("b", { text: m.workflow + " · " + (m.failed_state || "?") }), " ",
            el("span", { cls: "status-badge FAILED", text: m.error || "error" }), " ",
            el("a", { href: executionHref(m.execution_arn), text: m.execution_arn.split(":").pop() }),
            el("span", { cls: "hint", text: " · " + Math.round(m.age_s) + " s ago" + (m.status === "redriving" ? " · being redriven" : "") })])]);
        if (m.cause) card.appendChild(renderCause(m.cause));
        card.appendChild(el("details", {}, [el("summary", { text: "original input" }), el("pre", { text: JSON.stringify(m.input, null, 2) })]));
        list.appendChild(card);
      });
      if (!data.messages.length) list.appendChild(el("p", { cls: "hint", text: "no failure waits for a redrive" }));
      root.appendChild(list);
      redrive.addEventListener("click", function () {
        var ids = Array.prototype.map.call(list.querySelectorAll("input:checked"), function (b) { return b.value; });
        redrive.disabled = true;
        post("dlq/redrive", { ids: ids }).then(function (r) {
          say(r.results.map(function (x) { return x.id.slice(0, 8) + ": " + (x.error || (x.started ? "restarted " : "already restarted ") + (x.execution_arn || "").split(":").pop()); }).join("; ")
            + (r.remaining ? "; " + r.remaining + " left for another redrive" : ""), true);
          r.results.forEach(function (x) { if (!x.error && x.execution_arn) { var c = list.querySelector('[data-id="' + CSS.escape(x.id) + '"]'); if (c) c.remove(); } });
        }, function (e) { say(e.message, false); redrive.disabled = false; });
      });
      sweep.addEventListener("click", function () {
        sweep.disabled = true;
        post("dlq/sweep", {}).then(function (r) {
          say("sweep: " + r.deleted + " message(s) of redriven failures deleted, " + r.recorded + " recorded, " + r.kept + " kept", true);
        }, function (e) { say(e.message, false); }).then(function () { sweep.disabled = false; });
      });
      document.body.dataset.loaded = "dlq";
    }, function (e) { root.textContent = e.message; document.body.dataset.loaded = "error"; });
  }

  // --- functions -----------------------------------------------------------------------------------

  function functionsView(root) {
    root.textContent = "Loading the functions…";
    getJson("functions").then(function (data) {
      root.textContent = "";
      root.appendChild(el("h1", { text: "Functions" }));
      var list = el("div", { id: "functions" });
      data.functions.forEach(function (f) {
        var card = el("details", { cls: "function", "data-function": f.name, open: f.count ? "" : null }, [
          el("summary", {}, [el("b", { text: f.name }), el("span", { cls: "hint", text: " · " + f.count + " invocations" }),
            f.errors ? el("span", { cls: "status-badge FAILED", text: f.errors + " errors" }) : null])]);
        if (f.metrics) card.appendChild(metricsTable(f.metrics));
        if (f.invocations.length) {
          var tb = el("tbody");
          f.invocations.forEach(function (c) {
            tb.appendChild(el("tr", { cls: c.error ? "failed" : "ok" }, [
              el("td", { text: when(c.at) }),
              el("td", {}, [el("a", { href: executionHref(c.executionArn), text: c.execution })]),
              el("td", { text: c.state || "" }), el("td", { cls: "num", text: ms(c.durationMs) }), el("td", { text: c.error || "ok" })]));
          });
          card.appendChild(el("table", { cls: "invocations" }, [el("thead", {}, [el("tr", {}, ["at", "execution", "state", "duration", "result"].map(function (h) { return el("th", { text: h }); }))]), tb]));
        }
        if (f.logs === null) card.appendChild(el("p", { cls: "hint", text: "no log group /aws/lambda/" + f.name + " in this local cloud" }));
        else if (f.logs.length) card.appendChild(el("pre", { cls: "logs", text: f.logs.map(function (l) { return l.message.replace(/\s+$/, ""); }).join("\n") }));
        list.appendChild(card);
      });
      root.appendChild(list);
      document.body.dataset.loaded = "functions";
    }, function (e) { root.textContent = e.message; document.body.dataset.loaded = "error"; });
  }

  function fine(v) { return v === null || v === undefined ? "–" : v < 10 ? v.toFixed(2) + " ms" : ms(v); }

  // What Lambda reported of a function: its CloudWatch metrics and its REPORT lines' figures.
  function metricsTable(m) {
    var cells = [["invocations", m.invocations], ["errors", m.errors], ["throttles", m.throttles],
      ["duration p50", fine(m.durationP50Ms)], ["duration p99", fine(m.durationP99Ms)],
      ["peak concurrency", m.concurrentExecutions], ["cold starts", m.coldStarts],
      ["init p50", fine(m.initP50Ms)], ["billed", m.billedMs + " ms"]];
    return el("table", { cls: "function-metrics" }, [
      el("thead", {}, [el("tr", {}, cells.map(function (c) { return el("th", { text: c[0] }); }))]),
      el("tbody", {}, [el("tr", {}, cells.map(function (c) { return el("td", { cls: "num", "data-metric": c[0], text: String(c[1]) }); }))])]);
  }

  // --- an execution's actions ----------------------------------------------------------------------

  function executionActions(root, data) {
    var bar = el("div", { cls: "filters" });
    root.appendChild(bar);
    root.appendChild(message);
    var panel = el("div", { cls: "panel", id: "action-panel", hidden: "" });
    root.appendChild(panel);
    function open(title, build) {
      panel.textContent = "";
      panel.hidden = false;
      panel.appendChild(el("h2", { text: title }));
      build(panel);
    }
    function done(text) { return function () { say(text, true); setTimeout(function () { location.reload(); }, 600); }; }
    function failed(e) { say(e.message, false); }
    if (data.status === "RUNNING") {
      bar.appendChild(el("button", { id: "action-stop", type: "button", cls: "danger", text: "Stop", onclick: function () {
        open("Stop this execution", function (p) {
          var cause = el("input", { id: "stop-cause", placeholder: "cause", value: "stopped from the console" });
          p.appendChild(cause);
          p.appendChild(el("button", { id: "stop-go", type: "button", cls: "danger", text: "Stop execution", onclick: function () {
            post("stop", { executionArn: data.executionArn, cause: cause.value }).then(done("stopped"), failed);
          } }));
        });
      } }));
    }
    data.waits.forEach(function (w) {
      bar.appendChild(el("button", { type: "button", cls: "primary", "data-action": "success", "data-state": w.nodeId, text: w.state + ": send success…", onclick: function () {
        open("Send task success to " + w.state, function (p) {
          var editor = jsonEditor("task-output", "{}");
          p.appendChild(editor.area); p.appendChild(editor.note);
          p.appendChild(el("button", { id: "task-success-go", type: "button", cls: "primary", text: "Send success", onclick: function () {
            if (!editor.valid()) { failed(new Error("the output is not valid JSON")); return; }
            post("task", { executionArn: data.executionArn, state: w.nodeId, action: "success", output: editor.area.value }).then(done("task success sent"), failed);
          } }));
        });
      } }));
      bar.appendChild(el("button", { type: "button", "data-action": "failure", "data-state": w.nodeId, text: w.state + ": send failure…", onclick: function () {
        open("Send task failure to " + w.state, function (p) {
          var error = el("input", { id: "task-error", placeholder: "error", value: "FailedFromConsole" });
          var cause = el("input", { id: "task-cause", placeholder: "cause", value: "" });
          p.appendChild(el("div", { cls: "row" }, [error, cause]));
          p.appendChild(el("button", { id: "task-failure-go", type: "button", cls: "danger", text: "Send failure", onclick: function () {
            post("task", { executionArn: data.executionArn, state: w.nodeId, action: "failure", error: error.value, cause: cause.value }).then(done("task failure sent"), failed);
          } }));
        });
      } }));
      bar.appendChild(el("button", { type: "button", "data-action": "heartbeat", "data-state": w.nodeId, text: w.state + ": heartbeat", onclick: function () {
        post("task", { executionArn: data.executionArn, state: w.nodeId, action: "heartbeat" }).then(function () { say("heartbeat sent to " + w.state, true); }, failed);
      } }));
    });
    bar.appendChild(el("button", { id: "action-again", type: "button", text: "Start again with this input…", onclick: function () {
      open("Start a new execution of this state machine", function (p) {
        var editor = jsonEditor("again-input", data.input);
        p.appendChild(editor.area); p.appendChild(editor.note);
        p.appendChild(el("button", { id: "again-go", type: "button", cls: "primary", text: "Start", onclick: function () {
          if (!editor.valid()) { failed(new Error("the input is not valid JSON")); return; }
          post("start", { stateMachineArn: data.stateMachineArn, input: editor.area.value }).then(function (r) {
            say("started " + r.executionArn, true);
            location.href = executionHref(r.executionArn);
          }, failed);
        } }));
      });
    } }));
  }

  var view = document.getElementById("view");
  if (boot.view === "executions") executionsView(view, boot.data);
  else if (boot.view === "fleet") fleetView(view);
  else if (boot.view === "dlq") dlqView(view);
  else if (boot.view === "functions") functionsView(view);
  else if (boot.view === "execution") executionActions(document.getElementById("console-actions"), boot.data);
})();
