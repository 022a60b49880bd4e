"""Synthesize the CDK app once per session (bundling skipped: the asset's hash and the bundling
command are tested on their own) and hand the tests its template, stack and cdk-nag report."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

pytest.importorskip("aws_cdk", reason="requirements/infra.txt is not installed")

import aws_cdk as cdk

from workflows.definitions.catalog import ROOT

CDK_CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]


@dataclass
class Synth:
    app: cdk.App
    stack: Any  # infra.stack.FleetStack
    outdir: Path
    template: dict[str, Any]
    error: str | None = None  # synthesis stopped by a validation plugin (cdk-nag)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}

    def logical_id(self, construct: Any) -> str:
        """The logical id of an L2 construct's CloudFormation resource."""
        node = getattr(construct, "node", construct)
        return self.stack.get_logical_id(node.default_child)

    def resolve(self, token: Any) -> Any:
        return self.stack.resolve(token)

    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "validation-report.json").read_text())


def synthesize(outdir: Path, context: dict[str, Any] | None = None, nag: bool = True) -> Synth:
    from infra.app import build
    from infra.settings import Settings
    from infra.stack import FleetStack

    app = cdk.App(outdir=str(outdir), context={**CDK_CONTEXT, "aws:cdk:bundling-stacks": [], **(context or {})})
    if nag:
        stack = build(app)
    else:
        settings = Settings.from_context(app.node)
        stack = FleetStack(app, settings.stack_name, settings=settings)
    error = None
    try:
        app.synth()
    except RuntimeError as exc:  # a validation plugin failed; the template is written before it runs
        if "Validation" not in str(exc):
            raise
        error = str(exc)
    template = json.loads((outdir / f"{stack.artifact_id}.template.json").read_text())
    return Synth(app=app, stack=stack, outdir=outdir, template=template, error=error)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The app as `npx cdk synth` builds it (cdk.json context, cdk-nag AwsSolutions on)."""
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def synthesizer(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Synth]:
    def make(context: dict[str, Any] | None = None, nag: bool = False) -> Synth:
        return synthesize(tmp_path_factory.mktemp("cdk.out"), context, nag)

    return make
