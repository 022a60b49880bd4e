"""What a handler loads at cold start: only what it uses, and no model schema until it validates.

Each check runs in a fresh interpreter (a Lambda sandbox's init), since this test process has
already imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from workflows.definitions import catalog

LAMBDAS = str(catalog.LAMBDAS_DIR)
HANDLER_MODULES = sorted({fn.handler.rsplit(".", 1)[0] for fn in catalog.FUNCTIONS})
#: Functions that compute and touch no AWS service: their cold start must not pay for boto3.
PURE = ("book_technician", "diagnose", "inspect_car", "order_parts", "plan_route", "road_test", "run_check",
        "validate_car")


def fresh(code: str, traced: bool = False) -> dict:
    """Run code in a new interpreter with lambdas/ on the path; it prints one JSON answer.
    traced: as in a Lambda sandbox with active tracing (Powertools' Tracer on)."""
    env = {**os.environ, "PYTHONPATH": LAMBDAS, "POWERTOOLS_TRACE_DISABLED": "true", "AWS_REGION": "us-east-1",
           "FLEET_BUS_NAME": "fleet-bus"}
    if traced:
        del env["POWERTOOLS_TRACE_DISABLED"]
        env.update({"LAMBDA_TASK_ROOT": LAMBDAS, "AWS_LAMBDA_FUNCTION_NAME": "fleet-test",
                    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR"})
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=LAMBDAS,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_pure_functions_are_known_handlers():
    assert set(PURE) <= set(HANDLER_MODULES)


@pytest.mark.parametrize("module", PURE)
def test_a_pure_function_loads_no_aws_sdk_client_or_repository(module):
    loaded = fresh(f"""
        import json, sys
        import {module}
        print(json.dumps(sorted(m for m in sys.modules if m == "boto3" or m.startswith(("boto3.", "fleet_domain.")))))
    """)
    assert "boto3" not in loaded
    assert not [m for m in loaded if m.startswith("fleet_domain.data") or m == "fleet_domain.platform.clients"], loaded


@pytest.mark.parametrize("module", ["validate_car", "run_check", "start_trip", "record_car_event"])
def test_with_active_tracing_the_sdk_is_patched_for_xray_only_where_aws_is_called(module):
    """The X-Ray botocore patch loads botocore's client machinery (~80 ms of a cold start): a pure
    function skips it, and every function that makes AWS clients gets it with its first client."""
    found = fresh(f"""
        import json, sys
        import {module}
        loaded = "botocore.client" in sys.modules
        if "fleet_domain.platform.clients" in sys.modules:  # a function that calls AWS: its first client
            sys.modules["fleet_domain.platform.clients"].client("dynamodb")
        patched = getattr(sys.modules.get("botocore.client"), "_xray_enabled", False)
        print(json.dumps({{"botocore.client at import": loaded, "patched": bool(patched)}}))
    """, traced=True)
    if module in PURE:
        assert found == {"botocore.client at import": False, "patched": False}
    else:
        assert found == {"botocore.client at import": True, "patched": True}


def test_the_cli_making_aws_clients_loads_no_powertools():
    """The CLI shares the domain package and its client factory, not the functions' Tracer."""
    found = fresh("""
        import json, sys
        from fleet_domain.platform import clients
        clients.client("dynamodb")
        print(json.dumps({"powertools": "aws_lambda_powertools" in sys.modules}))
    """, traced=True)
    assert found == {"powertools": False}


def test_importing_every_handler_builds_no_model_schema():
    """Every model is a DomainModel (deferred build): a handler pays only for the models it uses."""
    found = fresh(f"""
        import json, sys
        import pydantic
        for module in {HANDLER_MODULES!r}:
            __import__(module)
        from fleet_domain.models.base import DomainModel

        def models(cls):
            for sub in cls.__subclasses__():
                yield sub
                yield from models(sub)

        ours = [m for m in models(pydantic.BaseModel)
                if m.__module__.split(".")[0] in {HANDLER_MODULES!r} + ["fleet_domain"]]
        print(json.dumps({{
            "count": len(ours),
            "not_domain": [m.__name__ for m in ours if not issubclass(m, DomainModel) and m is not DomainModel],
            "built": [m.__name__ for m in ours if m.__pydantic_complete__],
        }}))
    """)
    assert found["count"] > 40
    assert found["not_domain"] == []
    assert found["built"] == []


def test_a_deferred_model_validates_right_when_threads_first_use_it_at_once():
    """The local cloud runs handlers on threads of one process: the first validations of a model can
    race its deferred build. Each must see the model's own validator (extra fields refused), never
    the empty one of DomainModel."""
    outcome = fresh("""
        import json, threading
        from pydantic import ValidationError
        from fleet_domain.models.maintenance import MaintenanceRequest

        start = threading.Barrier(16)
        results = []

        def first_use(i):
            start.wait()
            request = {"car_id": "car-1", "reason": "brakes squeal"}
            try:
                if i % 2:
                    MaintenanceRequest.model_validate({**request, "priority": "high"})
                    results.append("accepted extra")
                else:
                    results.append(MaintenanceRequest.model_validate(request).reason)
            except ValidationError as exc:
                results.append(exc.errors()[0]["type"])

        threads = [threading.Thread(target=first_use, args=(i,)) for i in range(16)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        print(json.dumps(sorted(results)))
    """)
    assert outcome == ["brakes squeal"] * 8 + ["extra_forbidden"] * 8


MAINTENANCE_STEPS = ("book_technician", "diagnose", "enter_maintenance", "mark_maintenance_failed", "order_parts",
                     "request_sign_off", "retire_car", "return_to_service", "road_test", "run_check")


@pytest.mark.parametrize("module", MAINTENANCE_STEPS)
def test_a_maintenance_step_loads_no_dispatch_rule_or_ride_model(module):
    loaded = fresh(f"""
        import json, sys
        import {module}
        print(json.dumps(sorted(m for m in sys.modules if m.startswith("fleet_domain."))))
    """)
    assert "fleet_domain.models.maintenance" in loaded
    assert "fleet_domain.rules.dispatch" not in loaded and "fleet_domain.models.ride" not in loaded, loaded


@pytest.mark.parametrize("initialization", ["on-demand", "provisioned-concurrency"])
def test_the_api_includes_its_routes_on_its_first_request_unless_initialised_ahead(initialization):
    """On demand, FleetApi's init is the resolver's: the route modules, the domain's models and
    Swagger UI come with the first request. Initialised ahead of requests, it loads them at init."""
    found = fresh(f"""
        import json, os, sys
        os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"] = {initialization!r}
        import api
        from fleet_api.app import app
        heavy = ["fleet_api.cars", "fleet_api.maintenance", "fleet_domain.models.car",
                 "aws_lambda_powertools.event_handler.openapi.swagger_ui"]
        at_init = sorted(m for m in heavy if m in sys.modules)
        api.include_routers()
        paths = app.get_openapi_schema(title="t", version="1").paths or {{}}
        print(json.dumps({{"at_init": at_init, "after": sorted(m for m in heavy if m in sys.modules),
                          "paths": len(paths)}}))
    """)
    assert found["at_init"] == ([] if initialization == "on-demand" else found["after"])
    assert len(found["after"]) == 4
    assert found["paths"] >= 10
