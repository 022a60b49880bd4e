"""The Lambda asset: lambdas/ plus the pinned runtime dependencies for Python 3.13 on arm64,
bundled locally (no Docker). The session's synthesis skips bundling; this checks the bundling."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from infra import lambda_asset
from workflows.definitions.catalog import LAMBDAS_DIR


def test_runtime_pins_are_exact():
    lines = [line.split("#")[0].strip() for line in lambda_asset.RUNTIME_REQUIREMENTS.read_text().splitlines()]
    pins = [line for line in lines if line]
    assert pins, "requirements/runtime.txt is empty"
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[A-Za-z0-9_.+\-]+", p) for p in pins), pins
    names = {re.split(r"[\[=]", p)[0].lower().replace("_", "-") for p in pins}
    assert {"aws-lambda-powertools", "pydantic"} <= names


def test_pip_command_targets_lambda_python_313_on_arm64(tmp_path):
    cmd = lambda_asset.pip_command(str(tmp_path))
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    assert "--only-binary=:all:" in cmd
    assert cmd[cmd.index("--python-version") + 1] == "3.13"
    assert cmd[cmd.index("--implementation") + 1] == "cp"
    platforms = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--platform"]
    assert "manylinux2014_aarch64" in platforms and all(p.endswith("_aarch64") for p in platforms)
    assert cmd[cmd.index("--target") + 1] == str(tmp_path)
    assert cmd[cmd.index("-r") + 1] == str(lambda_asset.RUNTIME_REQUIREMENTS)
    assert cmd[cmd.index("-c") + 1] == str(lambda_asset.CONSTRAINTS)
    assert lambda_asset.RUNTIME.name == "python3.13"


def test_local_bundling_copies_the_sources_and_installs_the_pins(tmp_path, monkeypatch):
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(lambda_asset.subprocess, "run", run)
    assert lambda_asset.LocalBundling().try_bundle(str(tmp_path)) is True
    assert calls[-1] == lambda_asset.pip_command(str(tmp_path))
    sources = {p.relative_to(LAMBDAS_DIR) for p in LAMBDAS_DIR.rglob("*.py") if "__pycache__" not in p.parts}
    assert sources and all((tmp_path / p).exists() for p in sources)
    assert not list(tmp_path.rglob("__pycache__"))


def test_the_asset_gets_bytecode_only_from_the_runtimes_python_version(tmp_path, monkeypatch):
    assert lambda_asset.compiles_for_lambda((3, 13)) and not lambda_asset.compiles_for_lambda((3, 11))
    calls = []
    monkeypatch.setattr(lambda_asset.subprocess, "run",
                        lambda cmd, **kwargs: calls.append(cmd) or subprocess.CompletedProcess(cmd, 0, "", ""))
    monkeypatch.setattr(lambda_asset, "compiles_for_lambda", lambda: True)
    assert lambda_asset.LocalBundling().try_bundle(str(tmp_path)) is True
    assert calls[-2:] == [lambda_asset.pip_command(str(tmp_path)), lambda_asset.compile_command(str(tmp_path))]

    calls.clear()
    monkeypatch.setattr(lambda_asset, "compiles_for_lambda", lambda: False)
    lambda_asset.LocalBundling().try_bundle(str(tmp_path))
    assert calls[-1] == lambda_asset.pip_command(str(tmp_path))
    assert "compileall" in lambda_asset.docker_command()[-1] and "unchecked-hash" in lambda_asset.docker_command()[-1]


def test_the_compile_command_writes_bytecode_used_without_checking_the_source(tmp_path):
    """Lambda's zip may give the sources other file times: an unchecked-hash .pyc is used anyway."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("X = 1\n")
    assert subprocess.run(lambda_asset.compile_command(str(tmp_path)), capture_output=True).returncode == 0
    (pyc,) = (tmp_path / "pkg" / "__pycache__").glob("mod.*.pyc")
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, source not checked (PEP 552)


def test_local_bundling_fails_loudly_when_pip_fails(tmp_path, monkeypatch):
    def run(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 0 if "--version" in cmd else 1, "", "no matching distribution")

    monkeypatch.setattr(lambda_asset.subprocess, "run", run)
    with pytest.raises(RuntimeError, match="no matching distribution"):
        lambda_asset.LocalBundling().try_bundle(str(tmp_path))


def test_asset_hash_follows_sources_and_pins(tmp_path, monkeypatch):
    before = lambda_asset.source_hash()
    assert before == lambda_asset.source_hash()
    pins = tmp_path / "runtime.txt"
    pins.write_text(lambda_asset.RUNTIME_REQUIREMENTS.read_text() + "\nsomething==1.0\n")
    monkeypatch.setattr(lambda_asset, "RUNTIME_REQUIREMENTS", pins)
    assert lambda_asset.source_hash() != before


def test_real_bundling_yields_arm64_wheels_for_313(tmp_path):
    assert lambda_asset.LocalBundling().try_bundle(str(tmp_path)) is True
    assert (tmp_path / "fleet_domain").is_dir()
    (core,) = (tmp_path / "pydantic_core").glob("_pydantic_core.cpython-313-*.so")
    assert "aarch64" in core.name
    assert (tmp_path / "aws_lambda_powertools").is_dir()
