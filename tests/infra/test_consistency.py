"""One definition, two runtimes: the ASL files, the catalog, the CDK stack and the local cloud agree.

- every ${...} in every ASL file is substituted, by CDK (DefinitionSubstitutions) and locally;
- every function an ASL file names is in the catalog, and its handler module exists;
- each state machine's role grants what its Task states use and nothing beyond.
"""

from __future__ import annotations

import json

import pytest

from tests.infra.helpers import canonical, dependency_cycles, role_grants
from workflows.definitions import catalog, permissions
from workflows.definitions.catalog import PLACEHOLDER, STATEMACHINES_DIR, Ref

STATE_MACHINES = pytest.mark.parametrize("sm", catalog.STATE_MACHINES, ids=lambda sm: sm.logical_id)

# What a state machine role holds beyond its Task states, and why: Step Functions' log delivery
# (logging ALL) and X-Ray tracing. None of these APIs supports resource-level permissions.
OBSERVABILITY_ACTIONS = {
    "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
    "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
}


def test_every_asl_file_is_a_catalog_state_machine():
    files = {p.name for p in STATEMACHINES_DIR.glob("*.asl.json")}
    assert files == {sm.asl_file for sm in catalog.STATE_MACHINES}


@STATE_MACHINES
def test_every_placeholder_is_substituted_by_cdk(synth, sm):
    (machine,) = [r for r in synth.of_type("AWS::StepFunctions::StateMachine").values()
                  if r["Properties"]["StateMachineName"] == synth.stack.resources.state_machine_names[sm.logical_id]]
    props = machine["Properties"]
    assert props["DefinitionString"] == sm.definition(), "the ASL file is deployed unchanged"
    assert set(props["DefinitionSubstitutions"]) == sm.placeholders()
    for key, value in props["DefinitionSubstitutions"].items():
        assert value == synth.resolve(synth.stack.resources.resolve(catalog.SUBSTITUTIONS[key])), key


@STATE_MACHINES
def test_every_placeholder_is_substituted_locally(sm):
    from workflows.local.cloud import definition

    resolved = definition(sm)
    assert PLACEHOLDER.search(resolved) is None
    json.loads(resolved)


@STATE_MACHINES
def test_every_function_an_asl_file_names_is_in_the_catalog(sm):
    for expression in permissions.functions_named(sm.definition()):
        key, _ = permissions.split_placeholder(expression)
        assert key is not None, f"{sm.asl_file}: {expression!r} is a literal; use ${{<Function>FunctionArn}}"
        ref = catalog.SUBSTITUTIONS.get(key)
        assert ref is not None and ref.kind == "function", f"{sm.asl_file}: ${{{key}}} is not a catalog function"
        catalog.function(ref.logical_id)


@pytest.mark.parametrize("f", catalog.FUNCTIONS, ids=lambda f: f.logical_id)
def test_every_catalog_function_has_its_handler_module(f):
    module, _, attribute = f.handler.rpartition(".")
    path = catalog.LAMBDAS_DIR / (module.replace(".", "/") + ".py")
    assert path.exists(), f"{f.logical_id}: {path.relative_to(catalog.ROOT)} does not exist"
    assert f"def {attribute}" in path.read_text() or f"{attribute} =" in path.read_text()


def test_the_substitutions_name_catalog_resources(synth):
    for ref in catalog.SUBSTITUTIONS.values():
        synth.stack.resources.resolve(ref)  # raises for a Ref to nothing


@STATE_MACHINES
def test_state_machine_role_grants_exactly_what_its_tasks_use(synth, sm):
    """The template's grants equal workflows.definitions.permissions.permissions() of the ASL, plus log delivery and
    tracing on '*', and nothing else."""
    assert role_grants(synth, _role_id(synth, sm)) == expected_grants(synth, sm)


def test_register_role_in_catalog_terms(synth):
    """The register workflow's role, spelled out: the mapping itself checked against a known answer."""
    sm = catalog.state_machine("RegisterCar")
    by_arn = _catalog_arns(synth)
    grants = {(action, by_arn.get(resource, resource)) for action, resource in role_grants(synth, _role_id(synth, sm))}
    assert grants == {
        ("lambda:InvokeFunction", "function:ValidateCar"),
        ("lambda:InvokeFunction", "function:InspectCar"),
        ("dynamodb:PutItem", "table:Cars"),
        ("dynamodb:UpdateItem", "table:Cars"),
        ("dynamodb:PutItem", "table:Failures"),  # RecordFailure (a JSONata state)
        ("sqs:SendMessage", "queue:Dlq"),
        ("events:PutEvents", "bus:FleetBus"),
    } | {(a, '"*"') for a in OBSERVABILITY_ACTIONS}


@STATE_MACHINES
def test_every_granted_resource_is_a_catalog_resource_of_the_right_kind(synth, sm):
    by_arn = _catalog_arns(synth)
    kinds = {"lambda": "function", "dynamodb": "table", "sqs": "queue", "events": "bus", "states": "state_machine"}
    for action, resource in role_grants(synth, _role_id(synth, sm)):
        if action in OBSERVABILITY_ACTIONS:
            continue
        name = by_arn.get(resource)
        if name is None:  # an index, a function qualifier, executions, the .sync events rule
            continue
        assert name.split(":")[0] == kinds[action.split(":")[0]], (action, name)


def test_the_template_has_no_circular_dependency(synth):
    assert dependency_cycles(synth.template) == []


def test_function_roles_allow_their_catalog_grants_and_no_wildcard(synth):
    """Each role holds its function's catalog grants (tests/infra/test_least_privilege.py checks them
    against the calls the function makes), no resource wildcard but X-Ray's, no index wildcard."""
    resources = synth.stack.resources
    for f in catalog.FUNCTIONS:
        grants = role_grants(synth, synth.logical_id(resources.functions[f.logical_id].role))
        for g in f.grants:
            for action in g.actions:
                if g.resource.kind == "state_machine" and action in resources.EXECUTION_ACTIONS:
                    arn = resources.executions_arn(g.resource.logical_id)
                elif g.index is not None:
                    arn = f"{resources.arn(g.resource)}/index/{g.index}"
                else:
                    arn = resources.arn(g.resource)
                assert (action, canonical(synth.resolve(arn))) in grants, (f.logical_id, action, g.resource)
        wildcard = {a for a, r in grants if r == '"*"'}
        assert wildcard <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, (f.logical_id, wildcard)
        assert not any(r.endswith('/*"') or '/index/*' in r for _, r in grants), f"{f.logical_id}: index wildcard"
        grants_a_state_machine = any(g.resource.kind == "state_machine" for g in f.grants)
        assert grants_a_state_machine == any(a.startswith("states:") for a, _ in grants), f.logical_id


# --- helpers -------------------------------------------------------------------------------------


def expected_grants(synth, sm) -> set[tuple[str, str]]:
    resources = synth.stack.resources
    grants = {(p.action, canonical(synth.resolve(resources.target_arn(p.target))))
              for p in permissions.permissions(permissions.analyze(sm.definition()))}
    return grants | {(a, '"*"') for a in OBSERVABILITY_ACTIONS}


def _role_id(synth, sm) -> str:
    return synth.logical_id(synth.stack.state_machines.roles[sm.logical_id])


def _catalog_arns(synth) -> dict[str, str]:
    """Every catalog resource's ARN as the template spells it -> "kind:LogicalId"."""
    resources = synth.stack.resources
    refs = ([Ref("function", f.logical_id, "arn") for f in catalog.FUNCTIONS]
            + [Ref("table", t.logical_id, "arn") for t in catalog.TABLES]
            + [Ref("queue", q.logical_id, "arn") for q in catalog.QUEUES]
            + [Ref("bus", b.logical_id, "arn") for b in catalog.BUSES]
            + [Ref("state_machine", s.logical_id, "arn") for s in catalog.STATE_MACHINES])
    return {canonical(synth.resolve(resources.resolve(r))): f"{r.kind}:{r.logical_id}" for r in refs}
