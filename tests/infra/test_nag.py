"""cdk-nag AwsSolutions: no unacknowledged finding (errors and warnings alike), each acknowledgment
with its reason, and none broader than the finding it answers."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def report(synth):
    assert synth.error is None, f"synthesis stopped by a validation plugin: {synth.error}"
    (plugin,) = [p for p in synth.validation_report()["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    return plugin


def test_the_pack_ran_and_passed(report):
    assert report["conclusion"] == "success"


def test_no_unacknowledged_findings(report):
    findings = [f"{v['severity']} {v['ruleName']} at {c['constructPath']}"
                for v in report["violations"] for c in v["violatingConstructs"]]
    assert findings == []


def test_every_acknowledgment_has_a_reason_and_names_the_exact_finding(report):
    assert report["suppressedViolations"], "expected acknowledged findings (see infra/nag.py)"
    for v in report["suppressedViolations"]:
        assert len(v["reason"]) >= 60, v["acknowledgedId"]
        assert v["acknowledgedId"] == f"AwsSolutions::{v['ruleName']}", "acknowledge the exact finding"


def test_no_wildcard_is_acknowledged_beyond_tracing_logging_and_executions(report):
    wildcards = {v["ruleName"] for v in report["suppressedViolations"] if v["ruleName"].startswith("AwsSolutions-IAM5")}
    for rule in wildcards:
        resource = rule.split("Resource::", 1)[-1].rstrip("]")
        assert resource == "*" or (":execution:" in resource and resource.endswith(":*")), rule
