"""Every `fleet` command driven with hostile arguments (hypothesis, seeded): whatever comes in, the
answer is an exit code from the documented table (never 70, a fault of fleet's own), no stack
trace anywhere, and an error is exactly one line on stderr with nothing on stdout.

The commands are found in the parser itself, so a new command or option is driven too. The target
is a closed loopback port (or AWS without credentials), so nothing is changed anywhere. The
commands that run something of their own get only arguments that cannot start it: `up` and
`lambda-endpoint` a port that is taken or out of range, `demo` a faults file it must refuse,
`cost` an execution to price, `load` an API that is not there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.test_targets import commands
from tests.servers import free_port
from workflows.cli.entry import build_parser, main
from workflows.cli.errors import MEANINGS, Exit

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = dict(commands(build_parser()))
CLOSED = f"http://127.0.0.1:{free_port()}"

HOSTILE = ["", " ", "-", "--", "-1", "0", "1e999", "nan", "inf", "-inf", "99999999999999999999", "\x00", "\u202e",
           "\udcff", "\U0001F697", "../../../etc/passwd", "@/dev/zero", "@/no/such/file", "@/", "@", "/dev/full",
           "arn:", "arn:aws:states:us-east-1:123456789012:execution:fleet-register-car:x",
           "arn:aws:states:eu-west-9:1:execution:a:b", "arn:aws:states:::", "http://[::1", "ftp://127.0.0.1/",
           "https://127.0.0.1:1", "http://127.0.0.1:99999", "http://user@127.0.0.1:1", "{}", "[]", "null",
           '{"vin": 1}', "{" * 2000, "%s%n%x", "'; DROP TABLE cars; --", "a" * 5000, "car-", "r-", "*", "?", "job-",
           "$.x", "{% $x %}", "\n", "\r\n", "\t", "true", "-0", "0x10", "1_000"]
TEXT = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40),
                 st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12))

FAULT_FILES = [b"[]", b"{\"functions\": 1}", b"{\"seed\": \"x\"}", b"{\"functions\": {\"Nope\": [{\"error\": \"E\"}]}}",
               b"\xff\xfe", b"{", b"[" * 5000, b"{\"tables\": {\"Cars\": [{}]}}", b"{\"functions\": {\"InspectCar\": [{}]}}",
               b"{\"functions\": {\"InspectCar\": [{\"error\": \"E\", \"rate\": 2}]}}", b"\x00", b"null",
               b"{\"functions\": {\"InspectCar\": [{\"error\": \"E\", \"extra\": 1}]}}"]
# What `up` and `lambda-endpoint` may not bind: out of range, not a number, or a port held here.
BAD_PORTS = ["-1", "65536", "70000", "x", "", "1.5", "nan", "99999999999999999999"]
HOSTS = ["127.0.0.1", "localhost", "::1", "0.0.0.0", "", "no.such.host.invalid", "999.1.1.1", "\x00", "[::1]",
         "a" * 300, "192.0.2.1", "::zz"]
DOCUMENTED = {int(code) for code in MEANINGS}


@pytest.fixture(scope="module")
def taken_port() -> Iterator[str]:
    """A port held on every address, so a bind to it fails whatever the host."""
    held = []
    for family, address in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(family)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            s.bind((address, held[0].getsockname()[1] if held else 0))
        except OSError:
            s.close()
            continue
        s.listen(1)
        held.append(s)
    yield str(held[0].getsockname()[1])
    for s in held:
        s.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """Hostile files to name: faults files to refuse, a directory, an unwritable place."""
    base = tmp_path_factory.mktemp("hostile")
    paths = {}
    for i, content in enumerate(FAULT_FILES):
        path = base / f"faults-{i}.json"
        path.write_bytes(content)
        paths[f"faults-{i}"] = str(path)
    paths["dir"] = str(base)
    return paths


def options_of(parser: argparse.ArgumentParser) -> tuple[list[argparse.Action], list[argparse.Action]]:
    positionals = [a for a in parser._actions if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]
    optionals = [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]
    return positionals, optionals


NUMBERS = st.one_of(st.sampled_from(["0", "-1", "1e999", "nan", "-0", "1.5", "99999999999999999999", "65536", "86401"]),
                    st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True).map(str))


@st.composite
def value_for(draw, action: argparse.Action) -> str:
    """Mostly values of the right shape (a valid choice, a number) so the command goes past its
    parser; sometimes anything."""
    if action.choices and draw(st.integers(0, 4)):
        return str(draw(st.sampled_from(list(action.choices))))
    if action.type is not None and action.type is not str and draw(st.integers(0, 3)):
        return draw(NUMBERS)
    return draw(TEXT)


@st.composite
def argv_for(draw, path: tuple[str, ...], taken: str, files: dict[str, str]) -> list[str]:
    parser = COMMANDS[path]
    positionals, optionals = options_of(parser)
    argv = list(path)
    for action in positionals:
        count = 1 if action.nargs in (None, 1) else draw(st.integers(0, 3))
        argv += [draw(value_for(action)) for _ in range(count)]
    for action in draw(st.lists(st.sampled_from(optionals), max_size=4, unique_by=id)) if optionals else []:
        flag = action.option_strings[-1]
        argv += [flag] if action.nargs == 0 else [flag, draw(value_for(action))]
    if not draw(st.integers(0, 4)):  # now and then a stray token anywhere
        argv.insert(draw(st.integers(len(path), len(argv))), draw(TEXT))
    return confine(path, argv, draw, taken, files)


def confine(path: tuple[str, ...], argv: list[str], draw, taken: str, files: dict[str, str]) -> list[str]:
    """Keep the commands that start something of their own from starting it."""
    faults = draw(st.sampled_from([v for k, v in files.items() if k.startswith("faults")] + [files["dir"], "/dev/zero",
                                                                                            "/no/such/faults.json"]))
    argv = [a for a in argv if a not in ("--ephemeral", "--allow-remote")]
    if path[0] in ("up", "lambda-endpoint"):
        argv = _set(argv, "--faults", faults) if draw(st.booleans()) else argv
        ports = ["--aws-port", "--api-port"] if path[0] == "up" else ["--port"]
        for flag in ports:
            argv = _set(argv, flag, draw(st.sampled_from([taken, *BAD_PORTS])))
        argv = _set(argv, "--host", draw(st.sampled_from(HOSTS)))
    elif path[0] == "demo":
        argv = _set(argv, "--faults", faults)
    elif path[0] == "cost":
        argv = _set(argv, "--execution", draw(st.sampled_from([h for h in HOSTILE if h and not h.startswith("-")])))
    elif path[0] == "load":
        argv = _set(argv, "--api-url", draw(st.sampled_from([CLOSED, "ftp://x", "http://[::1", "http://127.0.0.1:0"])))
    elif path[0] == "lab":  # a valid run is the whole experiment (tests/workflows/test_concurrency_lab.py)
        argv = _set(argv, "--calls", draw(st.sampled_from(["0", "121", "-1", "1e3", "x", ""])))
    return argv


def _set(argv: list[str], flag: str, value: str) -> list[str]:
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == flag:
            skip = True
            continue
        out.append(a)
    return out + [flag, value]


@pytest.fixture
def quiet_environment(monkeypatch):
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    for key, value in {"FLEET_ENDPOINT_URL": CLOSED, "SFN_LOCAL_ENDPOINT": CLOSED, "FLEET_READY_WAIT_S": "0",
                       "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                       "AWS_SHARED_CREDENTIALS_FILE": os.devnull}.items():
        monkeypatch.setenv(key, value)


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    saved = dict(os.environ)
    try:
        code = main(argv)
    except SystemExit as exc:  # --help: argparse prints it and exits 0
        code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.environ.clear()
        os.environ.update(saved)
    out, err = capsys.readouterr()
    return code, out, err


def check(argv: list[str], code: int, out: str, err: str) -> None:
    shown = f"fleet {' '.join(map(repr, argv))} -> {code}\nstdout: {out[:500]!r}\nstderr: {err[:500]!r}"
    assert code in DOCUMENTED and code != Exit.INTERNAL, shown
    assert "Traceback" not in out + err and not re.search(r'File "[^"]+\.py", line \d+', out + err), shown
    if code in (Exit.USAGE, Exit.NOT_FOUND, Exit.UNAVAILABLE):
        assert out == "" and err.startswith("fleet: ") and err.count("\n") == 1, shown


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_command_answers_hostile_arguments_with_a_documented_code_and_one_line(
        path, taken_port, files, quiet_environment, capsys):
    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(argv_for(path, taken_port, files))
    def drive(argv: list[str]) -> None:
        check(argv, *run(capsys, argv))

    drive()


@pytest.mark.parametrize("argv", [
    ["cars", "--endpoint-url", "https://127.0.0.1:1"],
    ["cars", "--endpoint-url", "ftp://127.0.0.1:4566"],
    ["run", "register", "--input", "@/dev/zero"],
    ["up", "--aws-port", "70000"],
    ["up", "--faults", "{array}"],
    ["demo", "--faults", "{array}"],
    ["lambda-endpoint", "--faults", "{array}"],
    ["run", "register", "--input", "{}", "--name", "has space"],
    ["trace", "x", "--target", "aws"],
], ids=repr)
def test_the_reported_tracebacks_are_one_line(argv, tmp_path, quiet_environment, capsys):
    array = tmp_path / "array.json"
    array.write_text("[]")
    argv = [str(array) if a == "{array}" else a for a in argv]
    code, out, err = run(capsys, argv)
    check(argv, code, out, err)
    assert code in (Exit.USAGE, Exit.UNAVAILABLE)


def test_a_closed_pipe_is_exit_141_without_a_word():
    """`fleet ... | head` where head has gone: nothing on stderr."""
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "workflows", "sfn-local", "test-cases", "--output", "json"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before a byte is written
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == Exit.BROKEN_PIPE and err == b""


def test_the_readme_table_is_the_exit_codes():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("### Exit codes"):]
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", table, flags=re.M))
    assert {int(k): v for k, v in rows.items()} == {int(c): m for c, m in MEANINGS.items()}


def test_json_output_is_one_document(quiet_environment, capsys):
    code, out, err = run(capsys, ["sfn-local", "test-cases", "--output", "json"])
    assert code == 0 and err == ""
    assert {row["workflow"] for row in json.loads(out)["test_cases"]} == {"register", "dispatch", "maintenance"}
