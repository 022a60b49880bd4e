"""cfn-lint on the synthesized template: no errors, and warnings only from the allow-list below."""

from __future__ import annotations

import json

import pytest

cfnlint_api = pytest.importorskip("cfnlint.api")

REGIONS = ["us-east-1", "eu-west-1"]

# rule -> why it is accepted. Keep it short; every entry needs a reason a reviewer accepts.
ALLOWED_WARNINGS = {
    "W3005": "CDK adds an explicit DependsOn on a function's or state machine's role (and its default "
             "policy) so the resource is created only once its permissions exist; the DependsOn on the "
             "role duplicates the GetAtt CloudFormation already follows. Harmless and CDK-generated.",
}


@pytest.fixture(scope="module")
def matches(synth):
    config = cfnlint_api.ManualArgs(regions=REGIONS)
    return cfnlint_api.lint(json.dumps(synth.template), config=config)


def describe(match) -> str:
    return f"{match.rule.id} {match.message} ({'/'.join(str(p) for p in match.path)})"


def test_no_errors(matches):
    errors = [describe(m) for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def test_warnings_only_from_the_allow_list(matches):
    unexpected = [describe(m) for m in matches if m.rule.id.startswith("W") and m.rule.id not in ALLOWED_WARNINGS]
    assert unexpected == []


def test_every_allowed_warning_has_a_reason():
    assert all(len(reason) > 40 for reason in ALLOWED_WARNINGS.values())
