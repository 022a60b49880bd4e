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
    assert len(seams) == 16


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


def test_a_token_answered_before_the_heartbeat_wait_starts_is_not_lost(fleet):
    """StartTrip's Lambda stores the token, so a quick client can answer before the engine has
    set up its heartbeat wait. Stock moto then waits out HeartbeatSeconds; the adapter must not."""
    import time

    from fleet_domain import repositories, resume
    from fleet_domain.ride_repository import RideRepository

    assert fleet.run("register", {"vin": "5YJ3E1EA7KF317123", "model": "M", "year": 2024, "seats": 4,
                                  "location": {"lat": 48.1, "lon": 11.5}}).status == "SUCCEEDED"
    arn = fleet.start("dispatch", {"ride_id": "early-1", "pickup": {"lat": 48.1, "lon": 11.5},
                                   "dropoff": {"lat": 48.14, "lon": 11.58}, "passengers": 2})
    for _ in range(2000):  # answer the moment the token is visible: no grace period
        ride = RideRepository().get("early-1")
        if ride is not None and ride.waiting:
            break
        time.sleep(0.001)
    resume.complete_trip(fleet.sfn, repositories.dynamodb(), "early-1", odometer_km=9)
    result = fleet.cloud.wait(arn, timeout_s=20)
    assert result["status"] == "SUCCEEDED"
    assert fleet.cloud.clock.skipped < 600  # never waited out the 600 s heartbeat
