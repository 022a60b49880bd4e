"""Every state machine of the project passes AWS's own ASL validator (`amazon-states-language-service`,
the language service behind Workflow Studio and the AWS Toolkit's editors, pinned in package.json),
as deployed: the definition with its placeholders resolved. The validator is checked on definitions
AWS ran (the conformance recordings) and on broken ones, so a silent validator cannot pass this."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conformance import runner
from workflows.definitions import catalog
from workflows.local.cloud import definition

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("validate_asl.js")


def validate(documents: list[dict[str, str]]) -> dict[str, list[dict[str, Any]]]:
    if shutil.which("node") is None or not (ROOT / "node_modules" / "amazon-states-language-service").is_dir():
        pytest.fail("AWS's ASL validator is not installed: run `make setup` (npm ci installs it from package-lock.json)")
    done = subprocess.run(["node", str(SCRIPT)], input=json.dumps(documents), capture_output=True, text=True, cwd=ROOT,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return {r["name"]: r["diagnostics"] for r in json.loads(done.stdout)}


def test_every_state_machine_of_the_project_is_valid_asl():
    documents = [{"name": sm.logical_id, "definition": definition(sm)} for sm in catalog.STATE_MACHINES]
    assert documents
    results = validate(documents)
    problems = {name: [f"{d['line']}:{d['character']} {d['severity']}: {d['message']}" for d in found]
                for name, found in results.items() if found}
    assert problems == {}


def test_the_validator_accepts_what_aws_ran_and_refuses_broken_definitions():
    succeeded = [case for case in runner.load_cases()
                 if runner.runnable(case) and case["executions"][0].get("expected", {}).get("status") == "SUCCEEDED"]
    ran = [{"name": f"aws-{i}", "definition": case["state_machines"][0]["definition"]} for i, case in enumerate(succeeded[:20])]
    broken = {
        "unknown-type": {"StartAt": "A", "States": {"A": {"Type": "Pas", "End": True}}},
        "missing-start": {"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "End": True}}},
        "no-end": {"StartAt": "A", "States": {"A": {"Type": "Pass"}}},
    }
    results = validate(ran + [{"name": n, "definition": json.dumps(d)} for n, d in broken.items()])
    errors = {name: [d for d in found if d["severity"] == "error"] for name, found in results.items()}
    assert {name: found for name, found in errors.items() if name.startswith("aws-") and found} == {}
    assert all(errors[name] for name in broken), {name: errors[name] for name in broken}
