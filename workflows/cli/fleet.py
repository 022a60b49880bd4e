"""The car lifecycle from the command line, against a running stack (`fleet up`, or AWS):

    fleet trip complete <ride_id> [--odometer-km N] [--battery-pct N] [--wait]
    fleet trip heartbeat <ride_id>
    fleet maintenance sign-off <job_id> --passed|--failed [--notes TEXT] [--wait]
    fleet cars [--status S]
    fleet car <car_id | VIN>

An id may be given whole or by enough of its start to name one. Resuming goes through
fleet_domain.control.resume, the same code as the REST API. A ride or job that is not waiting (not
started, already resumed or over) is one line on stderr and exit 1; an unknown one exit 3; the
rest of the exit codes as everywhere in `fleet` (README.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from workflows.cli import render
from workflows.cli.errors import Exit, UsageError
from workflows.cli.inputs import seconds
from workflows.cli.lookup import choose, key_in_table
from workflows.cli.targeting import add_target_options, target_from


def register(sub: Any) -> None:
    trip = sub.add_parser("trip", help="a dispatched ride's trip: complete it, or send the car's heartbeat")
    trip_sub = trip.add_subparsers(dest="trip_command", required=True, parser_class=type(trip))
    done = trip_sub.add_parser("complete", help="report the end of a ride's trip (resumes its dispatch)")
    done.add_argument("ride_id", help="the ride's id, or the start of it")
    done.add_argument("--odometer-km", type=int, metavar="N", help="the car's odometer now (default: estimated)")
    done.add_argument("--battery-pct", type=float, metavar="N", help="the car's charge now (default: estimated)")
    done.add_argument("--wait", action="store_true", help="wait for the dispatch to finish and show it")
    done.set_defaults(handler=cmd_trip_complete)
    beat = trip_sub.add_parser("heartbeat", help="the car's 'still driving' (keeps the trip's heartbeat alive)")
    beat.add_argument("ride_id", help="the ride's id, or the start of it")
    beat.set_defaults(handler=cmd_trip_heartbeat)

    maintenance = sub.add_parser("maintenance", help="a maintenance job: the technician's sign-off")
    m_sub = maintenance.add_subparsers(dest="maintenance_command", required=True, parser_class=type(maintenance))
    sign = m_sub.add_parser("sign-off", help="sign a job off (resumes its maintenance)")
    sign.add_argument("job_id", help="the job's id, or the start of it")
    verdict = sign.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--passed", dest="passed", action="store_true", help="the car may go on to its road test")
    verdict.add_argument("--failed", dest="passed", action="store_false", help="the car is retired")
    sign.add_argument("--notes", default="", help="the technician's notes")
    sign.add_argument("--wait", action="store_true", help="wait for the maintenance to finish and show it")
    sign.set_defaults(handler=cmd_sign_off)

    cars = sub.add_parser("cars", help="the fleet: every car, or the cars in one status")
    cars.add_argument("--status", type=str.upper, help="|".join(_statuses()))
    cars.set_defaults(handler=cmd_cars)

    car = sub.add_parser("car", help="one car: its record, its ride or job, its status history")
    car.add_argument("car_id", help="the car's id, its VIN, or the start of either")
    car.set_defaults(handler=cmd_car)

    for p in (done, sign):
        p.add_argument("--timeout", type=seconds, default=60.0, help="with --wait: seconds to wait (default 60)")
    for p in (done, beat, sign, cars, car):
        add_target_options(p)
        render.add_output_option(p)


def _statuses() -> list[str]:
    from fleet_domain.models.car import CarStatus

    return [s.value for s in CarStatus]


# --- plumbing ------------------------------------------------------------------------------------


class Stack:
    """The target's clients and the fleet's table names there."""

    def __init__(self, args: argparse.Namespace):
        self.target = target_from(args)
        self.sfn = self.target.client("stepfunctions")
        self.dynamodb = self.target.client("dynamodb")
        self.table = self.target.table_name


def _guarded(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A ride or job that is not waiting is one line, exit 1; a value the domain refuses, exit 2."""

    def run(args: argparse.Namespace) -> int:
        from fleet_domain.control.resume import NotWaiting

        try:
            return fn(args)
        except NotWaiting as exc:
            print(f"fleet: {exc}", file=sys.stderr)
            return Exit.NOT_SUCCEEDED
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    return run


def _then(stack: Stack, args: argparse.Namespace, execution_arn: str | None, done: dict[str, Any]) -> int:
    """After a resume: what was sent, and with --wait the execution it resumed, followed to its end."""
    from workflows.cli.follow import follow, report, report_data

    followed = follow(stack.sfn, execution_arn, args.timeout) if args.wait and execution_arn else None
    if render.wants_json(args):
        render.print_json({**done, **({"execution": report_data(followed)} if followed else {})})
    elif followed:
        report(followed, args.timeout)
    return followed.exit_code if followed else Exit.OK


def _ride(stack: Stack, given: str) -> str:
    return key_in_table(stack.dynamodb, stack.table("Rides"), "ride_id", given, "ride", "fleet cars")


def _job(stack: Stack, given: str) -> str:
    return key_in_table(stack.dynamodb, stack.table("MaintenanceJobs"), "job_id", given, "maintenance job", "fleet car")


# --- trip ----------------------------------------------------------------------------------------


@_guarded
def cmd_trip_complete(args: argparse.Namespace) -> int:
    from fleet_domain.control import resume

    stack = Stack(args)
    ride_id = _ride(stack, args.ride_id)
    resumed = resume.complete_trip(stack.sfn, stack.dynamodb, ride_id, odometer_km=args.odometer_km,
                                   battery_pct=args.battery_pct, rides_table=stack.table("Rides"),
                                   cars_table=stack.table("Cars"))
    sent = {k: v for k, v in resumed.sent.items() if k != "reported_at"}
    if not render.wants_json(args):
        render.console.print(f"ride {ride_id}: trip completed ({render.fields(sent) or 'estimated from the route'}); "
                             f"dispatch {resumed.execution_arn}", markup=False)
    return _then(stack, args, resumed.execution_arn,
                 {"ride_id": ride_id, "execution_arn": resumed.execution_arn, "sent": sent})


@_guarded
def cmd_trip_heartbeat(args: argparse.Namespace) -> int:
    from fleet_domain.control import resume

    stack = Stack(args)
    ride_id = _ride(stack, args.ride_id)
    resume.heartbeat_trip(stack.sfn, stack.dynamodb, ride_id, rides_table=stack.table("Rides"))
    if render.wants_json(args):
        render.print_json({"ride_id": ride_id, "sent": "heartbeat"})
    else:
        render.console.print(f"ride {ride_id}: heartbeat sent", markup=False)
    return Exit.OK


# --- maintenance ---------------------------------------------------------------------------------


@_guarded
def cmd_sign_off(args: argparse.Namespace) -> int:
    from fleet_domain.control import resume

    stack = Stack(args)
    job_id = _job(stack, args.job_id)
    resumed = resume.sign_off(stack.sfn, stack.dynamodb, job_id, args.passed, args.notes,
                              jobs_table=stack.table("MaintenanceJobs"))
    if not render.wants_json(args):
        verdict = "passed (road test next)" if args.passed else "failed (the car will be retired)"
        render.console.print(f"job {job_id}: signed off, {verdict}; maintenance {resumed.execution_arn}", markup=False)
    return _then(stack, args, resumed.execution_arn,
                 {"job_id": job_id, "passed": args.passed, "execution_arn": resumed.execution_arn})


# --- cars ----------------------------------------------------------------------------------------


@_guarded
def cmd_cars(args: argparse.Namespace) -> int:
    from fleet_domain.data.cars import CarRepository

    if args.status and args.status not in _statuses():
        raise UsageError(f"--status must be one of {', '.join(_statuses())}, got {args.status!r}")
    stack = Stack(args)
    repo = CarRepository(stack.dynamodb, cars_table=stack.table("Cars"))
    cars = repo.list_by_status(args.status) if args.status else repo.all()
    if render.wants_json(args):
        render.print_json([c.model_dump(mode="json") for c in cars])
        return Exit.OK
    title = f"cars{' ' + args.status if args.status else ''} ({len(cars)})"
    render.table(title, ["car_id", "model", "seats", "status", "version", "battery %", "odometer km",
                         "km since service", "ride / job"], [
        (c.car_id, c.model, c.seats, render.status(c.status.value), c.version, f"{c.battery_pct:g}", c.odometer_km,
         c.km_since_service, c.ride_id or c.job_id or "")
        for c in cars
    ])
    return Exit.OK


@_guarded
def cmd_car(args: argparse.Namespace) -> int:
    from fleet_domain.data.cars import CarRepository
    from fleet_domain.data.jobs import MaintenanceJobRepository
    from fleet_domain.data.rides import RideRepository

    stack = Stack(args)
    cars = CarRepository(stack.dynamodb, cars_table=stack.table("Cars"))
    car = (cars.get(args.car_id) or cars.get(f"car-{args.car_id}")) if args.car_id else None
    if car is None:
        known = {c.car_id: c for c in cars.all() if args.car_id and (c.car_id.startswith(args.car_id)
                                                                      or c.vin.startswith(args.car_id))}
        car = known[choose(args.car_id, list(known), "car", "fleet cars")]
    ride = RideRepository(stack.dynamodb, rides_table=stack.table("Rides")).get(car.ride_id) if car.ride_id else None
    jobs = MaintenanceJobRepository(stack.dynamodb, jobs_table=stack.table("MaintenanceJobs")).for_car(car.car_id)
    history = _history(stack, car.car_id)
    if render.wants_json(args):
        render.print_json({"car": car.model_dump(mode="json"), "ride": ride.model_dump(mode="json") if ride else None,
                           "jobs": [j.model_dump(mode="json") for j in jobs],
                           "history": [h.model_dump(mode="json") for h in history]})
        return Exit.OK
    print_record(car.model_dump(mode="json"))
    if ride is not None:
        waiting = "  (waiting: `fleet trip complete " + ride.ride_id + "`)" if ride.waiting else ""
        render.console.print(f"ride       {ride.ride_id} {ride.status.value}{waiting}", markup=False)
    if jobs:
        render.table("maintenance jobs", ["job_id", "status", "reason", "opened", "closed"], [
            (j.job_id, j.status.value + ("  <- `fleet maintenance sign-off`" if j.waiting else ""), j.reason,
             j.opened_at, j.closed_at or "")
            for j in jobs
        ])
    render.table(f"history ({len(history)} of {car.version} versions)", ["version", "status", "from", "at", "reason"], [
        (h.version, h.status.value, h.previous_status.value if h.previous_status else "", h.at, h.reason or "")
        for h in history
    ])
    return Exit.OK


def _history(stack: Stack, car_id: str) -> list[Any]:
    from fleet_domain.data.car_history import CarHistoryRepository

    return list(CarHistoryRepository(stack.dynamodb, car_history_table=stack.table("CarHistory")).history(car_id))


def print_record(record: dict[str, Any]) -> None:
    order = ["car_id", "status", "version", "model", "year", "vin", "seats", "battery_pct", "odometer_km",
             "km_since_service", "location", "ride_id", "job_id", "last_ride_id", "last_job_id", "updated_at"]
    for key in order:
        if record.get(key) is not None:
            value = render.status(record[key]) if key == "status" else record[key]
            render.console.print(f"{key:16} {value}", markup=key == "status")
