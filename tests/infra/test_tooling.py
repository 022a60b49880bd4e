"""The tooling issue 5 asks for: cdk.json runs infra/app.py with the project's Python, the CDK CLI
is pinned exactly in package.json (and locked), the Python CDK libraries are pinned exactly."""

from __future__ import annotations

import json
import re
from importlib import metadata

import pytest

from infra.settings import Settings
from workflows.definitions.catalog import ROOT


def test_cdk_json_runs_the_app_with_the_project_python():
    cdk = json.loads((ROOT / "cdk.json").read_text())
    assert cdk["app"] == ".venv/bin/python infra/app.py"
    assert cdk["context"], "the feature flags of `cdk init` for this CDK version"


def test_the_cdk_cli_is_pinned_exactly_and_locked():
    package = json.loads((ROOT / "package.json").read_text())
    version = package["devDependencies"]["aws-cdk"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"aws-cdk {version!r} is not an exact version"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == version


def test_the_infra_requirements_are_exact_pins_and_installed():
    pins = dict(line.split("==") for line in (ROOT / "requirements" / "infra.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    assert set(pins) == {"aws-cdk-lib", "constructs", "cdk-nag", "cfn-lint"}
    for name, version in pins.items():
        assert metadata.version(name) == version, f"{name}: installed {metadata.version(name)}, pinned {version}"


@pytest.mark.parametrize("stage, stack", [("dev prod", "CarFleet"), ("dev", "1Fleet"), ("dev", "Car_Fleet")])
def test_settings_refuse_names_aws_would_refuse(stage, stack):
    with pytest.raises(ValueError):
        Settings(stage=stage, stack_name=stack)
