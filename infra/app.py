#!/usr/bin/env python3
"""The CDK app: `npx cdk synth` from the repository root (cdk.json runs this file).

    npx cdk synth                               # stage dev, stack CarFleet
    npx cdk deploy -c stage=prod -c stack_name=CarFleetProd

Context: stage (dev | prod: removal policies, log retention, deletion protection), stack_name,
api_rate_limit, api_burst_limit, failed_executions_threshold, alarm_topic_arn.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `python infra/app.py` puts infra/ first on sys.path; imports are from the repository root.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "infra"]
sys.path.insert(0, str(ROOT))

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.settings import Settings  # noqa: E402
from infra.stack import FleetStack  # noqa: E402


def build(app: cdk.App) -> FleetStack:
    """The fleet stack on `app`, checked by cdk-nag's AwsSolutions pack (findings fail synth)."""
    settings = Settings.from_context(app.node)
    env = None
    if os.environ.get("CDK_DEFAULT_ACCOUNT") and os.environ.get("CDK_DEFAULT_REGION"):
        env = cdk.Environment(account=os.environ["CDK_DEFAULT_ACCOUNT"], region=os.environ["CDK_DEFAULT_REGION"])
    stack = FleetStack(app, settings.stack_name, settings=settings, env=env)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return stack


def main() -> None:
    app = cdk.App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
