"""The servers under `fleet up` stay bounded: idle and slow clients cost no thread, connections are
capped and closed when idle, and a stop drains: every request already received gets its answer,
the ports are free again at once."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import fleet_up
from workflows.local.http_server import HttpServer, ServerLimits
from workflows.local.server import Servers, url

CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4}


def slow_app(environ, start_response):
    """Answers after the time the query string asks for (seconds), so a test can keep it busy."""
    time.sleep(float(environ.get("QUERY_STRING") or 0))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


@pytest.fixture
def served() -> Iterator[tuple[HttpServer, Servers]]:
    server = HttpServer(slow_app, "127.0.0.1", 0, ServerLimits(threads=2, connections=8, idle_timeout_s=1))
    servers = Servers()
    servers.serve(server, "test-server")
    yield server, servers
    servers.shutdown()


def get(base: str, seconds: float = 0) -> bytes:
    with urllib.request.urlopen(f"{base}/?{seconds}", timeout=30) as response:
        return response.read()


def until(check, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_idle_connections_cost_no_thread_and_are_closed(served):
    server, _ = served
    threads_before = threading.active_count()
    idle = [socket.create_connection(server.server_address) for _ in range(6)]
    try:
        assert get(url(server)) == b"ok"  # served while six clients say nothing
        assert threading.active_count() == threads_before
        assert until(lambda: server.connections() == 0)  # each closed after its idle timeout
        for s in idle:
            s.settimeout(5)
            assert s.recv(1) == b""  # the server closed it
    finally:
        for s in idle:
            s.close()


def test_connections_past_the_limit_wait_for_a_free_one(served):
    server, _ = served
    held = [socket.create_connection(server.server_address) for _ in range(8)]
    answered: list[bytes] = []
    waiter = threading.Thread(target=lambda: answered.append(get(url(server))))
    waiter.start()
    try:
        time.sleep(0.3)
        assert not answered and server.connections() <= 8  # the ninth is not taken in
    finally:
        for s in held:
            s.close()
    waiter.join(30)
    assert answered == [b"ok"]


def test_a_drain_answers_requests_in_flight_and_frees_the_port_at_once(served):
    server, servers = served
    base = url(server)
    answers: list[bytes] = []
    in_flight = [threading.Thread(target=lambda: answers.append(get(base, 0.5))) for _ in range(3)]
    for t in in_flight:
        t.start()
    assert until(lambda: server.in_flight() == 3, 10)
    assert servers.drain(timeout_s=20)
    # The listening socket is closed: a new server takes the same port at once.
    again = HttpServer(slow_app, "127.0.0.1", server.server_address[1])
    again.shutdown()
    for t in in_flight:
        t.join(10)
    assert answers == [b"ok"] * 3
    with pytest.raises(OSError):
        get(base)


def test_sigterm_answers_the_request_in_flight_then_the_same_ports_serve_again(tmp_path: Path):
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"functions": {"InspectCar": [{"latency_s": 1.5}]}}))
    stack = fleet_up("--faults", str(faults))
    answer: dict = {}

    def register() -> None:
        request = urllib.request.Request(f"{stack.api_url}/cars?wait=20", data=json.dumps(CAR).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            answer.update(status=response.status, body=json.loads(response.read()))

    client = threading.Thread(target=register)
    client.start()
    time.sleep(0.7)  # the registration is waiting in InspectCar
    try:
        assert stack.stop() == 0
    finally:
        client.join(30)
    assert answer["status"] == 201 and answer["body"]["outcome"] == "CarRegistered", answer

    aws_port, api_port = (int(u.rsplit(":", 1)[1]) for u in (stack.aws_endpoint, stack.api_url))
    again = fleet_up(ports=(aws_port, api_port))
    try:
        with urllib.request.urlopen(f"{again.api_url}/health", timeout=30) as response:
            assert response.status == 200
    finally:
        assert again.stop() == 0
