"""The seams the local cloud opens in moto. An upgrade that moves one fails here, loudly."""

from __future__ import annotations

import threading

import moto

from workflows.local import moto_adapter
from workflows.local.clock import VirtualClock


def test_moto_is_the_version_the_adapter_was_written_for():
    assert moto.__version__ == moto_adapter.MOTO_VERSION


def test_every_seam_is_in_place(cloud):
    seams = moto_adapter.seams()
    assert seams == {name: True for name in seams}, seams
    assert len(seams) == 11


def test_engine_modules_still_ask_boto_client_for_their_clients(cloud):
    """The Lambda, DynamoDB, SQS, EventBridge and Step Functions integrations all get clients
    from the one factory the adapter replaces; if moto renames it, this finds none."""
    users = {m.__name__.rsplit(".", 1)[-1] for m in moto_adapter.engine_modules() if hasattr(m, "boto_client_for")}
    for integration in ("lambda_eval_utils", "state_task_service_dynamodb", "state_task_service_sqs",
                        "state_task_service_events", "state_task_service_sfn"):
        assert integration in users


def test_virtual_clock_sleep_jumps_and_timed_wait_ends_on_advance():
    clock = VirtualClock()
    t0 = clock.now()
    clock.sleep(3600)
    assert clock.now() - t0 >= 3600
    assert clock.skipped_by_this_thread() == 3600

    event = threading.Event()
    result = {}
    waiter = threading.Thread(target=lambda: result.setdefault("set", clock.wait(event, 600)))
    waiter.start()
    clock.advance(601)
    waiter.join(timeout=5)
    assert result == {"set": False}  # timed out, in virtual time

    event.set()
    assert clock.wait(event, 600) is True
