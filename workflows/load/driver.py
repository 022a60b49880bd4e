"""`fleet load`: drive a running `fleet up` over its REST API at a fixed arrival rate, follow every
execution it started to its end, and report throughput, latency and every outcome.

Arrivals are open-loop: request i is due at start + i / rate, whatever the answers before it did
(a slow API makes requests late, and the report says how late, instead of slowing the arrivals
down). Each request is one of the mix's workflows:

- register: POST /cars with a new car (a VIN unique to the run), near Berlin;
- dispatch: POST /rides with a new ride near Berlin; when its trip starts (the ride is ON_TRIP),
  the follower reports the trip's end (POST /rides/{id}/complete), as the car would;
- maintenance: POST /cars/{id}/maintenance for a car this run registered; when the job waits for
  its sign-off, the follower signs it off (POST /maintenance/{job_id}/sign-off), as a technician.

The follower polls GET /executions/{name} until each execution ends or the bounded wait is over.
A route the API does not have (404 "no route") is reported once and its workflow skipped.
Requests go to loopback only unless allow_remote is set (checked by the caller, workflows/cli/load.py).
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflows.load.stats import percentiles

WORKFLOWS = ("register", "dispatch", "maintenance")
DEFAULT_MIX = {"register": 0.6, "dispatch": 0.3, "maintenance": 0.1}
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
#: Errors that are the caller's (the execution failed on its input): they never go to the DLQ.
USER_ERRORS = {"CarValidationError", "RideValidationError", "MaintenanceRequestError", "CarNotFoundError"}
ROUTES = {"register": "POST /cars", "dispatch": "POST /rides", "maintenance": "POST /cars/{car_id}/maintenance"}

_VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # the VIN alphabet: no I, O or Q
BERLIN = (52.52, 13.405)


# --- plan --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadPlan:
    api_url: str
    rate: float  # requests per second
    duration_s: float
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    wait_s: float = 60.0  # how long to follow executions after the last request
    concurrency: int = 32  # requests in flight at most
    seed: int | None = None
    request_timeout_s: float = 30.0

    @property
    def total(self) -> int:
        return max(1, round(self.rate * self.duration_s))


def parse_mix(text: str) -> dict[str, float]:
    """`register=6,dispatch=3,maintenance=1` -> weights (any scale). ValueError says what is wrong."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, weight = part.partition("=")
        name = name.strip()
        if not sep or name not in WORKFLOWS:
            raise ValueError(f"--mix takes {'|'.join(WORKFLOWS)}=<weight>, comma-separated; got {part!r}")
        try:
            value = float(weight)
        except ValueError:
            raise ValueError(f"--mix weight of {name} is not a number: {weight.strip()!r}") from None
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"--mix weight of {name} must be 0 or more, got {weight.strip()}")
        mix[name] = value
    if not mix or sum(mix.values()) <= 0:
        raise ValueError("--mix needs at least one workflow with a weight above 0")
    return mix


# --- HTTP --------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (connection refused, reset, timed out)
    body: Any
    latency_s: float
    error: str | None = None  # the transport error, when status is 0

    @property
    def message(self) -> str:
        return str(self.body.get("message", "")) if isinstance(self.body, dict) else str(self.body or "")[:200]


class Api:
    def __init__(self, base_url: str, timeout_s: float):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def call(self, method: str, path: str, body: Any = None) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", "User-Agent": "fleet-load"})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except (OSError, ValueError) as exc:  # URLError, timeouts, resets
            return Answer(0, None, time.perf_counter() - started, error=_transport_error(exc))
        latency = time.perf_counter() - started
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode("utf-8", "replace")[:200]
        return Answer(status, parsed, latency)


def _transport_error(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return type(reason or exc).__name__ if not isinstance(reason, str) else reason


def is_missing_route(answer: Answer, workflow: str) -> bool:
    """A 404 that says the API has no such route (not that the car of a maintenance is unknown)."""
    return answer.status == 404 and (answer.message.startswith("no route") or workflow == "dispatch")


# --- requests ------------------------------------------------------------------------------------


@dataclass
class Sent:
    index: int
    workflow: str
    route: str
    due_at: float  # seconds since the run's start
    sent_at: float
    answer: Answer | None = None
    skipped: str | None = None  # why no request was sent (route missing, no car to maintain yet)

    @property
    def late_s(self) -> float:
        return max(0.0, self.sent_at - self.due_at)


@dataclass
class Tracked:
    """An execution this run started, followed to its end."""

    workflow: str
    execution_id: str  # the execution's name (GET /executions/{name})
    execution_arn: str
    sent_at: float  # perf_counter when its request was sent
    resource_id: str | None = None  # ride_id or job_id, for the human step
    step_done: bool = False  # the trip completed / the job signed off by the follower
    ended_at: float | None = None
    status: str = "RUNNING"
    outcome: str | None = None
    error: str | None = None
    duration_s: float | None = None  # server side: start_date -> stop_date
    next_poll: float = 0.0
    polls: int = 0


class Generator:
    """Requests of each workflow, unique to the run (so a second run starts new executions)."""

    def __init__(self, seed: int | None):
        self.random = random.Random(seed)
        self.run_id = "".join(self.random.choice(_VIN_ALPHABET) for _ in range(5))
        self.registered: list[str] = []  # car_ids this run registered (their executions succeeded)
        self.accepted: list[str] = []  # car_ids whose registration this run started
        self._lock = threading.Lock()
        self._n = Counter()

    def _next(self, workflow: str) -> int:
        with self._lock:
            self._n[workflow] += 1
            return self._n[workflow]

    def _near_berlin(self) -> dict[str, float]:
        return {"lat": round(BERLIN[0] + self.random.uniform(-0.05, 0.05), 6),
                "lon": round(BERLIN[1] + self.random.uniform(-0.08, 0.08), 6)}

    def vin(self, n: int) -> str:
        """`LD` + the run's id + n in the VIN alphabet: 17 characters, unique to the run."""
        digits = ""
        for _ in range(10):
            n, r = divmod(n, len(_VIN_ALPHABET))
            digits = _VIN_ALPHABET[r] + digits
        return f"LD{self.run_id}{digits}"

    def add_car(self, car_id: str, registered: bool = True) -> None:
        with self._lock:
            (self.registered if registered else self.accepted).append(car_id)

    def request(self, workflow: str) -> tuple[str, str, dict[str, Any] | None, str | None]:
        """(method, path, body, resource id) of the next request of `workflow`; path None when
        there is nothing to send yet (no car registered to send to maintenance)."""
        n = self._next(workflow)
        if workflow == "register":
            body = {"vin": self.vin(n), "model": "Robotaxi L", "year": 2024, "seats": 4,
                    "location": self._near_berlin(), "battery_pct": round(self.random.uniform(80, 100), 1),
                    "odometer_km": self.random.randint(0, 20_000)}
            return "POST", "/cars", body, f"car-{body['vin']}"
        if workflow == "dispatch":
            ride_id = f"load-{self.run_id}-{n}"
            body = {"ride_id": ride_id, "pickup": self._near_berlin(), "dropoff": self._near_berlin(),
                    "passengers": self.random.randint(1, 4)}
            return "POST", "/rides", body, ride_id
        with self._lock:
            # A car in the fleet (registered), else one whose registration is under way (its
            # maintenance is then refused: a domain outcome too).
            cars = self.registered or self.accepted
            car_id = self.random.choice(cars) if cars else None
        if car_id is None:
            return "POST", "", None, None
        return "POST", f"/cars/{car_id}/maintenance", {"reason": f"load test {self.run_id}-{n}"}, car_id


# --- the run -------------------------------------------------------------------------------------


class LoadRun:
    def __init__(self, plan: LoadPlan, api: Api | None = None, on_progress: Callable[[str, int], None] | None = None):
        self.plan = plan
        self.api = api or Api(plan.api_url, plan.request_timeout_s)
        self.generator = Generator(plan.seed)
        self.on_progress = on_progress or (lambda _event, _n: None)
        self.sent: list[Sent] = []
        self.tracked: list[Tracked] = []
        self.missing_routes: dict[str, Answer] = {}
        self.human_steps: Counter = Counter()
        self.dlq: set[str] | None = None
        self._lock = threading.Lock()
        self._sending_done = threading.Event()
        self.started_at = 0.0
        self.sending_s = 0.0
        self.following_s = 0.0

    # --- sending ---

    def schedule(self) -> list[str]:
        """The workflow of each arrival, in order: the mix's shares, spread evenly (deterministic)."""
        weights = {w: v for w, v in self.plan.mix.items() if v > 0}
        total = sum(weights.values())
        credit = dict.fromkeys(weights, 0.0)
        order = []
        for _ in range(self.plan.total):
            for w in credit:
                credit[w] += weights[w] / total
            pick = max(credit, key=lambda w: (credit[w], -WORKFLOWS.index(w)))
            credit[pick] -= 1
            order.append(pick)
        return order

    def run(self) -> LoadReport:
        self.started_at = time.perf_counter()
        follower = threading.Thread(target=self._follow, name="load-follower", daemon=True)
        follower.start()
        with ThreadPoolExecutor(max_workers=self.plan.concurrency, thread_name_prefix="load") as pool:
            for i, workflow in enumerate(self.schedule()):
                due = i / self.plan.rate
                delay = self.started_at + due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(self._send, i, workflow, due)
        self.sending_s = time.perf_counter() - self.started_at
        self._sending_done.set()
        follower.join()
        self.following_s = time.perf_counter() - self.started_at - self.sending_s
        self.dlq = self._dlq_arns()
        return LoadReport.of(self)

    def _send(self, index: int, workflow: str, due: float) -> None:
        now = time.perf_counter()
        sent = Sent(index, workflow, ROUTES[workflow], due, now - self.started_at)
        try:
            if workflow in self.missing_routes:
                sent.skipped = "route missing"
                return
            method, path, body, resource = self.generator.request(workflow)
            if not path:
                sent.skipped = "no car registered yet"
                return
            now = time.perf_counter()
            sent.sent_at = now - self.started_at
            answer = self.api.call(method, path, body)
            sent.answer = answer
            if is_missing_route(answer, workflow):
                with self._lock:
                    self.missing_routes.setdefault(workflow, answer)
                return
            if 200 <= answer.status < 300 and isinstance(answer.body, dict) and answer.body.get("execution_arn"):
                self._track(workflow, answer.body, resource, now)
        except Exception as exc:  # noqa: BLE001 - one bad request never stops the run
            sent.answer = Answer(0, None, 0.0, error=type(exc).__name__)
        finally:
            with self._lock:
                self.sent.append(sent)
            self.on_progress("sent", 1)

    def _track(self, workflow: str, body: dict[str, Any], resource: str | None, sent_at: float) -> None:
        arn = str(body["execution_arn"])
        link = ((body.get("links") or {}).get("execution") or "").rsplit("/", 1)[-1]
        resource_id = body.get("job_id") if workflow == "maintenance" else resource
        if workflow == "register":
            resource_id = str(body.get("car_id") or resource)
            self.generator.add_car(resource_id, registered=False)
        with self._lock:
            self.tracked.append(Tracked(workflow, link or arn.rsplit(":", 1)[-1], arn, sent_at,
                                        resource_id=str(resource_id) if resource_id else None))
        self.on_progress("started", 1)

    # --- following ---

    def _follow(self) -> None:
        deadline: float | None = None
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="load-follow") as pool:
            while True:
                now = time.perf_counter()
                with self._lock:
                    active = [t for t in self.tracked if t.ended_at is None]
                if self._sending_done.is_set():
                    deadline = deadline or now + self.plan.wait_s
                    if not active or now >= deadline:
                        return
                due = [t for t in active if t.next_poll <= now]
                list(pool.map(self._poll, due))
                time.sleep(0.02)

    def _poll(self, t: Tracked) -> None:
        t.polls += 1
        t.next_poll = time.perf_counter() + min(1.0, 0.05 * 2 ** min(t.polls, 5))
        answer = self.api.call("GET", f"/executions/{t.execution_id}")
        if answer.status != 200 or not isinstance(answer.body, dict):
            return
        view = answer.body
        t.status = str(view.get("status", "RUNNING"))
        if t.status in TERMINAL:
            t.ended_at = time.perf_counter()
            t.error = view.get("error")
            output = view.get("output")
            t.outcome = output.get("outcome") if isinstance(output, dict) else None
            t.duration_s = _duration(view.get("start_date"), view.get("stop_date"))
            if t.workflow == "register" and t.outcome == "CarRegistered" and t.resource_id:
                self.generator.add_car(t.resource_id)  # maintenance goes to cars that are in the fleet
            self.on_progress("ended", 1)
            return
        if not t.step_done and t.resource_id and t.workflow in ("dispatch", "maintenance"):
            self._human_step(t)

    def _human_step(self, t: Tracked) -> None:
        """The car reports the trip's end; the technician signs the job off."""
        if t.workflow == "dispatch":
            ride = self.api.call("GET", f"/rides/{t.resource_id}")
            if ride.status == 200 and isinstance(ride.body, dict) and ride.body.get("status") == "ON_TRIP":
                done = self.api.call("POST", f"/rides/{t.resource_id}/complete", {})
                t.step_done = done.status in (200, 409)
                self.human_steps[f"trip completed ({done.status})"] += 1
        elif t.workflow == "maintenance":
            job = self.api.call("GET", f"/maintenance/{t.resource_id}")
            if job.status == 200 and isinstance(job.body, dict) and job.body.get("status") == "AWAITING_SIGN_OFF":
                done = self.api.call("POST", f"/maintenance/{t.resource_id}/sign-off",
                                     {"technician": "Load Tester", "passed": True, "notes": "fleet load"})
                t.step_done = done.status in (200, 409)
                self.human_steps[f"signed off ({done.status})"] += 1

    def _dlq_arns(self) -> set[str] | None:
        """Every DLQ message's execution, page after page (GET /dlq is paginated)."""
        arns: set[str] = set()
        token: str | None = None
        while True:
            answer = self.api.call("GET", "/dlq?limit=100" + (f"&next_token={token}" if token else ""))
            if answer.status != 200 or not isinstance(answer.body, dict):
                return None
            arns |= {str(m.get("execution_arn")) for m in answer.body.get("messages", [])}
            token = answer.body.get("next_token")
            if not token:
                return arns


def _duration(start: Any, stop: Any) -> float | None:
    try:
        return (datetime.fromisoformat(str(stop)) - datetime.fromisoformat(str(start))).total_seconds()
    except (TypeError, ValueError):
        return None


# --- the report ----------------------------------------------------------------------------------


@dataclass
class LoadReport:
    plan: dict[str, Any]
    requests: dict[str, Any]
    latency_ms: dict[str, dict[str, float | None]]
    executions: dict[str, Any]
    end_to_end_ms: dict[str, dict[str, float | None]]
    outcomes: dict[str, dict[str, int]]
    missing_routes: dict[str, str]
    human_steps: dict[str, int]
    throughput: dict[str, float]

    @property
    def ok(self) -> bool:
        """Every request answered without a 5xx or a transport error, and every execution this run
        started ended, named (still running or lost is not ok; a domain outcome or a DLQ'd
        operational failure is: that is the system doing its job)."""
        answered = self.requests["server_errors"] == 0 and self.requests["transport_errors"] == 0
        settled = all(n == 0 for k, n in self.executions.items() if k in ("still_running", "failed_not_in_dlq"))
        return answered and settled

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.ok}

    @classmethod
    def of(cls, run: LoadRun) -> LoadReport:
        sent = sorted(run.sent, key=lambda s: s.index)
        answered = [s for s in sent if s.answer is not None]
        by_status = Counter(str(s.answer.status) if s.answer.status else f"no answer ({s.answer.error})"
                            for s in answered)
        requests = {
            "planned": run.plan.total,
            "sent": len(answered),
            "skipped": dict(Counter(f"{s.workflow}: {s.skipped}" for s in sent if s.skipped)),
            "by_status": dict(sorted(by_status.items())),
            "by_workflow": dict(Counter(s.workflow for s in answered)),
            "started_executions": len(run.tracked),
            "client_errors": sum(1 for s in answered if 400 <= s.answer.status < 500),
            "server_errors": sum(1 for s in answered if s.answer.status >= 500),
            "transport_errors": sum(1 for s in answered if s.answer.status == 0),
            "late_p99_ms": round((percentiles([s.late_s for s in sent])["p99"] or 0) * 1000, 1),
        }
        latency = {"all": _ms(percentiles([s.answer.latency_s for s in answered if s.answer.status]))}
        for w in WORKFLOWS:
            values = [s.answer.latency_s for s in answered if s.workflow == w and s.answer.status]
            if values:
                latency[w] = _ms(percentiles(values))
        outcomes: dict[str, Counter] = defaultdict(Counter)
        kinds = Counter()
        for t in run.tracked:
            kind, label = classify(t, run.dlq)
            kinds[kind] += 1
            outcomes[t.workflow][label] += 1
        ended = [t for t in run.tracked if t.ended_at is not None]
        e2e = {"client": _ms(percentiles([t.ended_at - t.sent_at for t in ended])),
               "server": _ms(percentiles([t.duration_s for t in ended if t.duration_s is not None]))}
        elapsed = run.sending_s + run.following_s
        return cls(
            plan={"api_url": run.plan.api_url, "rate": run.plan.rate, "duration_s": run.plan.duration_s,
                  "mix": run.plan.mix, "wait_s": run.plan.wait_s, "run_id": run.generator.run_id},
            requests=requests,
            latency_ms=latency,
            executions={"started": len(run.tracked), **{k: kinds.get(k, 0) for k in EXECUTION_KINDS}},
            end_to_end_ms=e2e,
            outcomes={w: dict(c) for w, c in outcomes.items()},
            missing_routes={w: f"{ROUTES[w]} answered {a.status}: {a.message or 'not found'}"
                            for w, a in run.missing_routes.items()},
            human_steps=dict(run.human_steps),
            throughput={"requests_per_s": round(len(answered) / run.sending_s, 2) if run.sending_s else 0.0,
                        "executions_ended_per_s": round(len(ended) / elapsed, 2) if elapsed else 0.0,
                        "sending_s": round(run.sending_s, 2), "following_s": round(run.following_s, 2)},
        )


EXECUTION_KINDS = ("succeeded", "domain_errors", "failed_in_dlq", "failed_not_in_dlq", "stopped", "still_running")


def classify(t: Tracked, dlq: set[str] | None) -> tuple[str, str]:
    """(kind, label) of an execution's end: a named outcome, a user error, an operational failure
    (DLQ'd or not), stopped, or still running after the wait."""
    if t.ended_at is None:
        return "still_running", "still running"
    if t.status == "SUCCEEDED":
        return "succeeded", t.outcome or "SUCCEEDED"
    if t.status == "ABORTED":
        return "stopped", "ABORTED"
    if t.error in USER_ERRORS:
        return "domain_errors", f"FAILED {t.error}"
    if dlq is not None and t.execution_arn in dlq:
        return "failed_in_dlq", f"FAILED {t.error or t.status} (DLQ)"
    return "failed_not_in_dlq", f"FAILED {t.error or t.status} (not in DLQ{'?' if dlq is None else ''})"


def _ms(values: dict[str, float | None]) -> dict[str, float | None]:
    return {k: None if v is None else round(v * 1000, 1) for k, v in values.items()}
