"""JSONata's cost on the local engine: a register-like machine written twice, once in JSONPath
(Parameters, ResultPath, intrinsic functions, a Choice on paths) and once in JSONata (Assign,
Arguments, Output, a Choice on a Condition), doing the same work (shape the car, check it, write it
to DynamoDB, answer a summary). Run alternately on one local cloud (virtual clock), same process:

    python bench/jsonata_overhead.py --n 200 --out FILE

Writes the per-execution wall times of each (ms) as JSON to --out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT / "lambdas"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

from workflows.local.cloud import STATE_MACHINE_ROLE, LocalCloud  # noqa: E402

TABLE = "bench-jsonata-cars"


def jsonpath_machine() -> dict[str, Any]:
    return {"StartAt": "Shape", "States": {
        "Shape": {"Type": "Pass", "ResultPath": "$.car", "Next": "Check", "Parameters": {
            "vin.$": "$.vin", "make.$": "$.make", "model.$": "$.model", "year.$": "$.year", "owner.$": "$.owner.name"}},
        "Check": {"Type": "Choice", "Default": "Reject", "Choices": [{"And": [
            {"Variable": "$.car.year", "NumericGreaterThanEquals": 1990},
            {"Variable": "$.car.vin", "IsPresent": True}], "Next": "Save"}]},
        "Save": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "ResultPath": None, "Next": "Summarise",
                 "Parameters": {"TableName": TABLE, "Item": {
                     "vin": {"S.$": "$.car.vin"}, "make": {"S.$": "$.car.make"}, "owner": {"S.$": "$.car.owner"},
                     "year": {"N.$": "States.Format('{}', $.car.year)"}}}},
        "Summarise": {"Type": "Pass", "End": True, "Parameters": {
            "vin.$": "$.car.vin", "label.$": "States.Format('{} {} ({})', $.car.make, $.car.model, $.car.year)"}},
        "Reject": {"Type": "Fail", "Error": "TooOld", "Cause": "cars before 1990 are not registered"}}}


def jsonata_machine() -> dict[str, Any]:
    return {"QueryLanguage": "JSONata", "StartAt": "Shape", "States": {
        "Shape": {"Type": "Pass", "Next": "Check", "Assign": {"car": {
            "vin": "{% $states.input.vin %}", "make": "{% $states.input.make %}", "model": "{% $states.input.model %}",
            "year": "{% $states.input.year %}", "owner": "{% $states.input.owner.name %}"}}},
        "Check": {"Type": "Choice", "Default": "Reject", "Choices": [
            {"Condition": "{% $car.year >= 1990 and $exists($car.vin) %}", "Next": "Save"}]},
        "Save": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Output": "{% $states.input %}",
                 "Next": "Summarise", "Arguments": {"TableName": TABLE, "Item": {
                     "vin": {"S": "{% $car.vin %}"}, "make": {"S": "{% $car.make %}"}, "owner": {"S": "{% $car.owner %}"},
                     "year": {"N": "{% $string($car.year) %}"}}}},
        "Summarise": {"Type": "Pass", "End": True, "Output": {
            "vin": "{% $car.vin %}", "label": "{% $car.make & ' ' & $car.model & ' (' & $string($car.year) & ')' %}"}},
        "Reject": {"Type": "Fail", "Error": "TooOld", "Cause": "cars before 1990 are not registered"}}}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    times: dict[str, list[float]] = {"jsonpath_ms": [], "jsonata_ms": []}
    with LocalCloud(virtual_time=True) as cloud:
        sfn, ddb = cloud.client("stepfunctions"), cloud.client("dynamodb")
        ddb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "vin", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "vin", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        machines = {key: sfn.create_state_machine(name=f"bench-{key.split('_')[0]}", definition=json.dumps(make()),
                                                  roleArn=STATE_MACHINE_ROLE)["stateMachineArn"]
                    for key, make in (("jsonpath_ms", jsonpath_machine), ("jsonata_ms", jsonata_machine))}
        outputs: dict[str, Any] = {}
        for i in range(args.warmup + args.n):
            car = {"vin": f"1HGCM82633A{i:06d}", "make": "Honda", "model": "Accord", "year": 2003 + i % 20,
                   "owner": {"name": f"owner {i}"}}
            for key, arn in machines.items():  # alternately: both see the same load
                t = time.perf_counter()
                execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(car))["executionArn"]
                described = cloud.wait(execution)
                elapsed = (time.perf_counter() - t) * 1000
                if described["status"] != "SUCCEEDED":
                    raise RuntimeError(f"{key}: {described['status']} {described.get('error')}: {described.get('cause')}")
                outputs[key] = json.loads(described["output"])
                if i >= args.warmup:
                    times[key].append(elapsed)
        if outputs["jsonpath_ms"] != outputs["jsonata_ms"]:
            raise RuntimeError(f"the two machines disagree: {outputs}")
    Path(args.out).write_text(json.dumps({**times, "warmup": args.warmup}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
