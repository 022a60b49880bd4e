"""`kill -9` of a `fleet up` under load, then a restart on the same ports at once: every write the
stack acknowledged before the kill is there after it (registrations started through the REST API,
their Idempotency-Key records, DynamoDB items and SQS messages sent to the AWS endpoint), and every
execution the kill interrupted has ended ABORTED, saying why."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.servers import Stack, fleet_up, free_port
from workflows.definitions import catalog
from workflows.local import local_aws
from workflows.local.cloud import RESTART_CAUSE

HISTORY = catalog.table("CarHistory").table_name


def _vin(worker: int, n: int) -> str:
    return f"CRASH{worker:02d}{n:010d}"  # 17 characters of the VIN alphabet


def _car(vin: str, seats: int = 4) -> dict[str, Any]:
    return {"vin": vin, "model": "Robotaxi S", "year": 2024, "seats": seats,
            "location": {"lat": 52.52, "lon": 13.405}, "battery_pct": 90}


def _post(stack: Stack, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(stack.api_url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


class Load:
    """Writers of three kinds until stopped; each keeps what the stack acknowledged."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.stop = threading.Event()
        self.registrations: list[tuple[str, str]] = []  # (vin, execution ARN), answered 202
        self.items: list[int] = []  # CarHistory versions put under car_id "crash-test"
        self.messages: list[str] = []  # SQS message ids
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._register, args=(w,)) for w in range(3)]
        self.threads += [threading.Thread(target=self._put_items), threading.Thread(target=self._send_messages)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _register(self, worker: int) -> None:
        n = 0
        while not self.stop.is_set():
            vin = _vin(worker, n)
            n += 1
            try:
                status, body = _post(self.stack, "/cars", _car(vin), {"Idempotency-Key": f"key-{vin}"})
            except OSError:
                continue  # the stack is gone: not acknowledged
            if status == 202:
                self.registrations.append((vin, body["execution_arn"]))
            else:
                self.failures.append(f"POST /cars {status} {body}")

    def _put_items(self) -> None:
        ddb = local_aws.client("dynamodb", self.stack.aws_endpoint)
        version = 0
        while not self.stop.is_set():
            version += 1
            try:
                ddb.put_item(TableName=HISTORY, Item={"car_id": {"S": "crash-test"}, "version": {"N": str(version)},
                                                      "note": {"S": "x" * 200}})
            except Exception:  # noqa: BLE001 - refused or cut off by the kill: not acknowledged
                continue
            self.items.append(version)

    def _send_messages(self) -> None:
        sqs = local_aws.client("sqs", self.stack.aws_endpoint)
        url = sqs.get_queue_url(QueueName=catalog.CAR_EVENT_FAILURES.queue_name)["QueueUrl"]
        while not self.stop.is_set():
            try:
                sent = sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": len(self.messages)}))
            except Exception:  # noqa: BLE001 - refused or cut off by the kill: not acknowledged
                continue
            self.messages.append(sent["MessageId"])


def _succeeded(sfn: Any, arn: str) -> bool:
    return bool(sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED")


def test_kill_9_during_load_loses_no_acknowledged_write(tmp_path: Path) -> None:
    ports = (free_port(), free_port())
    stack = fleet_up("--state-dir", str(tmp_path), ports=ports)
    try:
        with Load(stack) as load:
            deadline = time.monotonic() + 60
            sfn = local_aws.client("stepfunctions", stack.aws_endpoint)
            while min(len(load.registrations), len(load.items), len(load.messages)) < 10 or not _succeeded(
                    sfn, load.registrations[0][1]):
                assert time.monotonic() < deadline, f"the load made no progress: {load.failures[:3]}"
                time.sleep(0.1)
            stack.process.send_signal(signal.SIGKILL)
            stack.process.wait(timeout=30)
    finally:
        if stack.process.poll() is None:
            stack.process.kill()
    assert load.failures == []
    acknowledged = (list(load.registrations), list(load.items), list(load.messages))

    again = fleet_up("--state-dir", str(tmp_path), ports=ports)  # the same ports, at once
    try:
        registrations, items, messages = acknowledged
        sfn = local_aws.client("stepfunctions", again.aws_endpoint)
        ddb = local_aws.client("dynamodb", again.aws_endpoint)
        cars = catalog.table("Cars").table_name
        ended = {"SUCCEEDED": 0, "ABORTED": 0}
        for vin, arn in registrations:
            described = sfn.describe_execution(executionArn=arn)
            assert described["status"] in ended, described
            ended[described["status"]] += 1
            if described["status"] == "ABORTED":
                assert described["cause"] == RESTART_CAUSE
            else:
                car = ddb.get_item(TableName=cars, Key={"car_id": {"S": f"car-{vin}"}}, ConsistentRead=True)
                assert car["Item"]["status"]["S"] == "AVAILABLE", car
        # The Idempotency-Key records survived: a key used before the kill, with another body, is refused.
        vin, _ = registrations[0]
        status, body = _post(again, "/cars", _car(vin, seats=7), {"Idempotency-Key": f"key-{vin}"})
        assert status == 422 and "Idempotency-Key" in body["message"], (status, body)
        kept_versions = {int(i["version"]["N"]) for page in ddb.get_paginator("query").paginate(
            TableName=HISTORY, KeyConditionExpression="car_id = :c",
            ExpressionAttributeValues={":c": {"S": "crash-test"}}) for i in page["Items"]}
        assert set(items) <= kept_versions
        sqs = local_aws.client("sqs", again.aws_endpoint)
        url = sqs.get_queue_url(QueueName=catalog.CAR_EVENT_FAILURES.queue_name)["QueueUrl"]
        kept_messages: set[str] = set()
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages"):
            kept_messages.update(m["MessageId"] for m in batch)
        assert set(messages) <= kept_messages
        assert ended["SUCCEEDED"] > 0, ended  # the load ran long enough for some to finish
    finally:
        assert again.stop() == 0
