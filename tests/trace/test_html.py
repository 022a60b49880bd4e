"""The graph page: it parses, holds every state of the machine nested as in the ASL, the path
classes are right, the event table is complete, and it is self-contained."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from workflows.definitions import asl
from workflows.trace import html
from workflows.trace.model import Graph

from .conftest import MARKUP
from .test_model import SCENARIOS

VOID = {"meta", "link", "br", "img", "input", "hr", "col", "area", "base", "embed", "source", "track", "wbr"}


class Page(HTMLParser):
    """Elements with data-node (with their data-node ancestors), scripts, links, event rows."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.nodes: dict[str, dict] = {}
        self.scripts: list[dict] = []
        self.links: list[dict] = []
        self.metas: list[dict] = []
        self.event_rows = 0
        self._script: dict | None = None
        self._in_events = False
        self.feed(text)
        self.close()
        assert not self.stack, f"unclosed elements: {self.stack[-5:]}"

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self._script = {**a, "text": ""}
        if tag == "link":
            self.links.append(a)
        if tag == "meta":
            self.metas.append(a)
        if tag == "table" and "events" in (a.get("class") or "").split():
            self._in_events = True
        if tag == "tr" and self._in_events and any(t == "tbody" for t, _ in self.stack):
            self.event_rows += 1
        node = a.get("data-node")
        if node is not None and not (tag == "tr" or self._in_events):
            ancestors = [n for _, n in self.stack if n]
            self.nodes[node] = {"tag": tag, "classes": (a.get("class") or "").split(), "ancestors": ancestors, **a}
        if tag not in VOID:
            self.stack.append((tag, node if tag != "tr" and not self._in_events else None))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        assert self.stack and self.stack[-1][0] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        if tag == "script" and self._script is not None:
            self.scripts.append(self._script)
            self._script = None
        if tag == "table":
            self._in_events = False

    def handle_data(self, data):
        if self._script is not None:
            self._script["text"] += data

    def data(self) -> dict:
        [blob] = [s for s in self.scripts if s.get("id") == "trace-data"]
        return json.loads(blob["text"])


@pytest.fixture(scope="module")
def pages(traced):
    return {s: html.render_page(traced.trace(s)) for s in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_state_is_in_the_page_nested_as_in_the_asl_with_its_path_class(traced, pages, scenario):
    trace = traced.trace(scenario)
    page = Page(pages[scenario])
    summaries = trace.summaries()
    for state in asl.parse(trace.definition).walk():
        node_id, path = state.id, state.path
        assert node_id in page.nodes, f"{node_id} missing from the page"
        el = page.nodes[node_id]
        assert el["data-type"] == state.type and f"type-{state.type.lower()}" in el["classes"]
        expected = summaries[node_id].classes
        status_classes = {"succeeded", "failed", "caught", "running", "aborted", "not-visited", "retried", "waited"}
        assert [c for c in el["classes"] if c in status_classes] == expected, node_id
        assert el["data-retries"] == str(summaries[node_id].retries)
        # Nested like the ASL: inside its Map, or its Parallel branch inside the Parallel.
        enclosing = ["/".join(path[:i]) for i in range(1, len(path))]
        assert el["ancestors"] == [e for e in enclosing if e in page.nodes], node_id
    assert page.event_rows == len(trace.events)


def test_the_path_classes_of_a_dlq_registration(pages):
    nodes = Page(pages["register_dlq"]).nodes
    assert {"caught", "retried"} <= set(nodes["InspectCar"]["classes"]) and nodes["InspectCar"]["data-retries"] == "3"
    assert "succeeded" in nodes["ValidateCar"]["classes"] and "retried" not in nodes["ValidateCar"]["classes"]
    assert "failed" in nodes["RegistrationFailed"]["classes"]
    assert "not-visited" in nodes["ActivateCar"]["classes"]
    assert nodes["InspectCar"]["title"] == "InspectCar: caught, 3 retries (TransientInspectionError)"


def test_parallel_and_map_are_groups(pages):
    nodes = Page(pages["maintenance_signed_off"]).nodes
    assert nodes["PrepareRepair"]["classes"][:2] == ["group", "type-parallel"]
    assert nodes["PrepareRepair/Branches[0]"]["classes"][:2] == ["group", "type-branch"]
    assert nodes["PrepareRepair/Branches[0]/OrderParts"]["ancestors"] == ["PrepareRepair", "PrepareRepair/Branches[0]"]
    assert nodes["RunChecks"]["classes"][:2] == ["group", "type-map"]
    run_check = nodes["RunChecks/ItemProcessor/RunCheck"]
    assert run_check["ancestors"] == ["RunChecks"] and {"succeeded", "retried"} <= set(run_check["classes"])
    assert "waited" in nodes["RequestSignOff"]["classes"]


def test_the_data_describes_the_graph_edges_and_each_visit(traced, pages):
    trace = traced.trace("register_dlq")
    data = Page(pages["register_dlq"]).data()
    graph = Graph.from_definition(trace.definition)
    assert {n["id"] for n in data["graph"]["nodes"]} == {n.id for n in graph.nodes}
    edges = {(e["source"], e["target"]): e for e in data["graph"]["edges"]}
    assert edges[("InspectCar", "InspectCarFailed")] | {"id": None} == {
        "id": None, "source": "InspectCar", "target": "InspectCarFailed", "kind": "catch", "label": "States.ALL", "taken": True}
    assert edges[("InspectionPassed", "RejectCar")]["kind"] == "default" and not edges[("InspectionPassed", "RejectCar")]["taken"]
    assert edges[(Graph.START, "ValidateCar")]["taken"] and edges[("RegistrationFailed", Graph.END)]["taken"]
    [inspect] = data["states"]["InspectCar"]["visits"]
    assert [a["error"] for a in inspect["attempts"]] == ["TransientInspectionError"] * 4
    assert inspect["status"] == "caught" and inspect["input"]["vin"] == "5YJ3E1EA7KF317002"
    assert data["focus"] is None and data["poll"] is None


def test_the_page_is_self_contained(pages):
    text = pages["maintenance_signed_off"]
    page = Page(text)
    assert not [s for s in page.scripts if s.get("src")]
    assert all(link.get("href", "").startswith("data:") for link in page.links)
    csp = [m["content"] for m in page.metas if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp == [html.STANDALONE_CSP] and "default-src 'none'" in csp[0]
    for needle in ("http://", "https://", "//cdn", "@import"):
        outside = text.replace("http://www.w3.org/2000/svg", "")
        assert needle not in outside.split('<script type="application/json"')[0], needle
    version, path = html.layout_library()
    assert any(m.get("content", "").endswith(f"elkjs {version}") for m in page.metas)
    assert Path(path).read_text()[:2000] in text  # the layout library, inlined from node_modules
    assert version == html.pinned_layout_version()


def test_markup_in_execution_data_stays_data(traced, pages):
    text = pages["register_markup"]
    page = Page(text)
    assert len(page.scripts) == 3  # the data, the layout library, the page's script: none injected
    assert MARKUP not in text
    data = page.data()
    assert data["states"]["ValidateCar"]["visits"][0]["input"]["model"] == MARKUP


def test_without_the_layout_library_the_error_says_how_to_get_it(traced, monkeypatch, tmp_path):
    monkeypatch.setenv("FLEET_NODE_MODULES", str(tmp_path))
    with pytest.raises(html.LayoutLibraryMissing, match="make setup"):
        html.render_page(traced.trace("register_happy"))


def test_write_traces_writes_a_page_per_execution_and_an_index(traced, tmp_path):
    written = html.write_traces(traced.sfn, tmp_path / "traces")
    fleet_runs = [a for s, a in traced.arns.items() if not s.startswith("nested")]
    assert len(written) == len(fleet_runs)  # the fleet's state machines only
    index = (tmp_path / "traces" / "index.html").read_text()
    for path in written:
        assert f'href="{path.name}"' in index
        Page(path.read_text())
