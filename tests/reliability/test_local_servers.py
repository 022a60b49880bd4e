"""The servers of `fleet up` (the AWS-compatible endpoint and the REST API) stay on loopback
unless told otherwise, refuse oversized requests, answer malformed ones without echoing internals
(no stack trace, file path or Python exception repr), and keep serving afterwards."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterable, Iterator

import boto3
import pytest

from tests.reliability.hostile import internals_in
from tests.servers import Stack, fleet_up
from workflows.cli.entry import build_parser
from workflows.local.server import MAX_AWS_BODY_BYTES

AUTH = "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    up = fleet_up()
    yield up
    assert up.stop() == 0


def host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def raw(url: str, request: bytes, body_chunks: Iterable[bytes] = (), timeout: float = 30) -> tuple[int, bytes]:
    """Send bytes as they are (no client-side validation) and read the whole answer."""
    with socket.create_connection(host_port(url), timeout=timeout) as s:
        s.sendall(request)

        def send_body() -> None:
            try:
                for chunk in body_chunks:
                    s.sendall(chunk)
                s.shutdown(socket.SHUT_WR)  # all sent: the server's drain of what it did not read ends
            except OSError:
                pass  # the server answered before reading it all: that is the point

        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def aws_request(target: str, body: bytes, service: str = "states", content_type: str = "application/x-amz-json-1.0",
                extra: str = "") -> bytes:
    return (f"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: {target}\r\nContent-Type: {content_type}\r\n"
            f"Authorization: {AUTH.format(service=service)}\r\nContent-Length: {len(body)}\r\n{extra}"
            f"Connection: close\r\n\r\n").encode() + body


def sfn(stack: Stack):
    return boto3.client("stepfunctions", endpoint_url=stack.aws_endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


# --- loopback ----------------------------------------------------------------------------------


def test_fleet_up_listens_on_loopback_unless_told_otherwise(stack):
    assert build_parser().parse_args(["up"]).host == "127.0.0.1"
    assert f"AWS endpoint  {stack.aws_endpoint}" in stack.banner and stack.aws_endpoint.startswith("http://127.0.0.1:")
    assert f"REST API      {stack.api_url}" in stack.banner and stack.api_url.startswith("http://127.0.0.1:")
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this host has no non-loopback address to try")
    for url in (stack.aws_endpoint, stack.api_url):
        with pytest.raises(OSError):
            socket.create_connection((address, host_port(url)[1]), timeout=2).close()


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, the kernel picks the route's source
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


# --- oversized requests ---------------------------------------------------------------------------


def test_the_aws_endpoint_refuses_a_body_over_its_limit_unread(stack):
    status, body = raw(stack.aws_endpoint, aws_request("AWSStepFunctions.ListStateMachines", b"")
                       .replace(b"Content-Length: 0", f"Content-Length: {MAX_AWS_BODY_BYTES + 1}".encode()))
    assert status == 413 and not internals_in(body.decode("utf-8", "replace"))


def test_the_aws_endpoint_refuses_a_chunked_body_over_its_limit(stack):
    head = (f"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\n"
            f"Content-Type: application/x-amz-json-1.0\r\nAuthorization: {AUTH.format(service='states')}\r\n"
            f"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
    chunk = b"x" * (1024 * 1024)
    chunks = iter([f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"] * 17 + [b"0\r\n\r\n"])
    status, body = raw(stack.aws_endpoint, head, chunks)
    assert status == 413 and not internals_in(body.decode("utf-8", "replace"))


def test_the_api_refuses_a_body_over_api_gateways_10_mb_unread(stack):
    request = (f"POST /cars HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
               f"Content-Length: {10 * 1024 * 1024 + 1}\r\nConnection: close\r\n\r\n").encode()
    status, body = raw(stack.api_url, request)
    assert status == 413 and not internals_in(body.decode("utf-8", "replace"))


# --- malformed requests: clear errors, no internals ---------------------------------------------

AWS_MALFORMED = [
    ("AWSStepFunctions.StartExecution", b"{"),
    ("AWSStepFunctions.StartExecution", b"\xff\xfe\x00"),
    ("AWSStepFunctions.StartExecution", b"[]"),
    ("AWSStepFunctions.StartExecution", b"null"),
    ("AWSStepFunctions.StartExecution", b"{\"stateMachineArn\": " + b"9" * 5000 + b"}"),
    ("AWSStepFunctions.StartExecution", b"[" * 100_000),
    ("AWSStepFunctions.StartExecution", b"{\"stateMachineArn\": [], \"input\": {}}"),
    ("AWSStepFunctions.StartExecution", b"{\"stateMachineArn\": \"garbage\", \"input\": \"{\"}"),
    ("AWSStepFunctions.DescribeExecution", b"{\"executionArn\": 5}"),
    ("AWSStepFunctions.DescribeExecution", b"{\"executionArn\": \"\\ud800\"}"),
    ("AWSStepFunctions.GetExecutionHistory", b"{\"executionArn\": {\"a\": 1}, \"maxResults\": -1}"),
    ("AWSStepFunctions.SendTaskSuccess", b"{\"taskToken\": \"\\u0000\", \"output\": \"not json\"}"),
    ("AWSStepFunctions.NoSuchAction", b"{}"),
    ("DynamoDB_20120810.GetItem", b"{}"),
    ("DynamoDB_20120810.GetItem", b"{\"TableName\": \"fleet-cars\", \"Key\": {\"car_id\": 5}}"),
    ("DynamoDB_20120810.PutItem", b"{\"TableName\": \"fleet-cars\", \"Item\": {\"car_id\": {\"S\": \"\"}}}"),
    ("AmazonSQS.SendMessage", b"{\"QueueUrl\": 5, \"MessageBody\": null}"),
]


@pytest.mark.parametrize("target,body", AWS_MALFORMED, ids=lambda v: v[:40] if isinstance(v, str) else repr(v[:24]))
def test_the_aws_endpoint_answers_malformed_requests_without_internals(stack, target, body):
    service = {"AWSStepFunctions": "states", "DynamoDB_20120810": "dynamodb", "AmazonSQS": "sqs"}[target.split(".")[0]]
    status, answer = raw(stack.aws_endpoint, aws_request(target, body, service))
    assert 400 <= status < 600, status
    assert not internals_in(answer.decode("utf-8", "replace")), answer[:500]
    assert json.loads(answer).get("__type"), answer[:300]


HTTP_MALFORMED = [
    b"GARBAGE\r\n\r\n",
    b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    b"GET /cars HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"h" * 70_000 + b"\r\nConnection: close\r\n\r\n",
    b"POST /cars HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\nConnection: close\r\n\r\n",
    b"POST /cars HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\nConnection: close\r\n\r\n",
    b"POST /cars HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n\xff\xfe",
    b"GET /cars/%ED%A0%80 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    b"GET /cars/..%2F..%2Fetc%2Fpasswd HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    b"GET /executions/\x00 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    b"POST /rides HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    b"Connection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
]


@pytest.mark.parametrize("request_bytes", HTTP_MALFORMED, ids=lambda r: repr(r[:30]))
def test_both_servers_answer_malformed_http_without_internals(stack, request_bytes):
    for url in (stack.api_url, stack.aws_endpoint):
        try:
            status, answer = raw(url, request_bytes, timeout=10)
        except (IndexError, ValueError):
            continue  # the server closed the connection without an answer: nothing echoed
        assert status < 500 or url == stack.aws_endpoint, (url, status, answer[:300])
        assert not internals_in(answer.decode("utf-8", "replace")), (url, answer[:500])


def test_both_servers_still_serve_after_the_hostile_requests(stack):
    assert sfn(stack).list_state_machines()["stateMachines"]
    status, body = raw(stack.api_url, b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert stack.process.poll() is None


# --- who may talk to it: this machine, the console's pages ----------------------------------------


def request_with(url: str, method: str = "GET", path: str = "/health", headers: dict[str, str] | None = None,
                 body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    with socket.create_connection(host_port(url), timeout=30) as s:
        s.sendall(f"{head}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head_bytes, _, answer = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split(" ", 2)[1]), {k.lower(): v for k, v in fields.items()}, answer


def console_origin(stack: Stack) -> str:
    return stack.api_url  # the console is served by the REST API's server, at /console


def test_a_page_from_another_origin_gets_no_cors_and_no_answer(stack):
    for url in (stack.aws_endpoint, stack.api_url):
        status, headers, _ = request_with(url, "OPTIONS", "/", {
            "Host": host_port(url)[0], "Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-amz-target, content-type"})
        assert status == 403 and "access-control-allow-origin" not in headers, (url, status, headers)


def test_a_cross_origin_request_is_refused_before_it_runs(stack):
    # A form POST needs no preflight: SQS's query protocol would create (or purge) a queue.
    form = b"Action=CreateQueue&QueueName=made-by-a-web-page&Version=2012-11-05"
    status, headers, _ = request_with(stack.aws_endpoint, "POST", "/", {
        "Host": "127.0.0.1", "Origin": "http://evil.example", "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": AUTH.format(service="sqs")}, form)
    assert status == 403 and "access-control-allow-origin" not in headers
    sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    assert not any("made-by-a-web-page" in u for u in sqs.list_queues().get("QueueUrls", []))
    status, _, _ = request_with(stack.api_url, "POST", "/cars", {
        "Host": "127.0.0.1", "Origin": "null", "Content-Type": "text/plain"}, b"{}")
    assert status == 403


def test_the_consoles_origin_may_call_the_aws_endpoint(stack):
    origin = console_origin(stack)
    status, headers, _ = request_with(stack.aws_endpoint, "OPTIONS", "/", {
        "Host": "127.0.0.1", "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-amz-target, content-type, authorization"})
    assert status == 204 and headers["access-control-allow-origin"] == origin
    assert "x-amz-target" in headers["access-control-allow-headers"]
    status, headers, body = request_with(stack.aws_endpoint, "POST", "/", {
        "Host": "127.0.0.1", "Origin": origin, "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Content-Type": "application/x-amz-json-1.0", "Authorization": AUTH.format(service="dynamodb")}, b"{}")
    assert status == 200 and headers["access-control-allow-origin"] == origin and "fleet-cars" in body.decode()


def test_an_answer_without_origin_carries_no_cors_headers(stack):
    # moto's own server answers every origin with `*`: a page could read every table.
    status, headers, _ = request_with(stack.aws_endpoint, "POST", "/", {
        "Host": "127.0.0.1", "X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0",
        "Authorization": AUTH.format(service="dynamodb")}, b"{}")
    assert status == 200 and not any(k.startswith("access-control-") for k in headers)


def test_same_origin_pages_of_the_rest_api_are_served(stack):
    host = stack.api_url.removeprefix("http://")
    status, _, _ = request_with(stack.api_url, "GET", "/cars", {"Host": host, "Origin": stack.api_url})
    assert status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:4566", "localhost.evil.example", "[::1", "a b"])
def test_a_host_that_is_not_this_machine_is_refused(stack, host):
    # DNS rebinding: a page at evil.example, its name pointed at 127.0.0.1, names its own host.
    for url in (stack.aws_endpoint, stack.api_url):
        status, headers, body = request_with(url, "GET", "/health", {"Host": host})
        assert status in (400, 403), (url, host, status)
        assert not internals_in(body.decode("utf-8", "replace"))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST:8080", "[::1]:80", "console.localhost",
                                  "host.docker.internal"])
def test_this_machines_names_are_served(stack, host):
    status, _, _ = request_with(stack.api_url, "GET", "/health", {"Host": host})
    assert status == 200, host


def test_motos_own_api_is_not_reachable(stack):
    for path in ("/moto-api/reset", "/moto-api/data.json", "/moto-api/", "/latest/meta-data/iam/"):
        status, _, body = request_with(stack.aws_endpoint, "POST" if path.endswith("reset") else "GET", path,
                                       {"Host": "127.0.0.1"})
        assert status == 404, (path, status)
        assert json.loads(body)["__type"] == "UnknownOperationException"
    assert "fleet-register-car" in str(sfn(stack).list_state_machines())  # nothing was reset


def test_allowed_hosts_and_origins_are_options_of_fleet_up():
    from workflows.local.admission import Admission, origins_of

    args = build_parser().parse_args(["up", "--allow-host", "fleet.lan", "--cors-origin", "http://localhost:3000/"])
    assert args.allow_host == ["fleet.lan"] and args.cors_origin == ["http://localhost:3000"]
    admission = Admission.for_server("127.0.0.1", args.allow_host, [*origins_of("127.0.0.1", 8080), *args.cors_origin])
    assert admission.host_allowed("fleet.lan:4566") and not admission.host_allowed("other.lan")
    assert admission.origin_allowed("http://localhost:3000", "127.0.0.1:4566")
    assert admission.origin_allowed("http://localhost:8080", "127.0.0.1:4566")
    assert not admission.origin_allowed("http://localhost:8081", "127.0.0.1:4566")
    from workflows.cli.errors import UsageError

    with pytest.raises(UsageError, match="not an origin"):
        build_parser().parse_args(["up", "--cors-origin", "localhost:3000/path"])


def test_fleet_up_keeps_large_temporaries_out_of_the_heap_on_glibc():
    """`fleet up` sets glibc's malloc for a long run (workflows/cli/up.py says why): after a large
    block is freed, blocks of a few hundred KB are still their own mappings, given back when
    freed, not carved from the heap (glibc's default raises its threshold to the freed size).
    Elsewhere it does nothing and says so."""
    import platform
    import subprocess
    import sys

    probe = """if True:
        import ctypes
        from workflows.cli.up import steady_malloc
        class Info(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                      "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
        done = steady_malloc()
        if not done:
            raise SystemExit(print(done, "-"))
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = Info
        before = libc.mallinfo2().hblks
        big = bytearray(4 << 20)
        del big
        held = [bytearray(512 << 10) for _ in range(4)]
        print(done, libc.mallinfo2().hblks - before)"""
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert answer == (["True", "4"] if platform.libc_ver()[0] == "glibc" else ["False", "-"])
