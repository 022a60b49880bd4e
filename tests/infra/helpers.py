"""Reading a synthesized template: IAM grants, and dependency cycles."""

from __future__ import annotations

import json
import re
from typing import Any


def role_grants(synth, role_logical_id: str) -> set[tuple[str, str]]:
    """Every (action, resource) an IAM role's inline policies allow, resources as canonical JSON."""
    grants: set[tuple[str, str]] = set()
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} not in policy["Properties"]["Roles"]:
            continue
        for st in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert st["Effect"] == "Allow" and "NotAction" not in st and "NotResource" not in st and "Condition" not in st
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            grants |= {(a, canonical(r)) for a in actions for r in resources}
    return grants


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def dependency_cycles(template: dict[str, Any]) -> list[list[str]]:
    """Cycles among resources through Ref, Fn::GetAtt, Fn::Sub and DependsOn (CloudFormation
    refuses such a template with 'Circular dependency between resources')."""
    resources = template["Resources"]
    edges = {lid: _references(body, resources) - {lid} | _depends_on(body) for lid, body in resources.items()}
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for lid in sorted(resources):
        if lid not in state:
            visit(lid, [lid])
    return cycles


def _depends_on(body: dict[str, Any]) -> set[str]:
    deps = body.get("DependsOn", [])
    return {deps} if isinstance(deps, str) else set(deps)


def _references(node: Any, resources: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str) and value in resources:
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else value.split(".")[0]
                if target in resources:
                    found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)} & set(resources)
                if isinstance(value, list):
                    found |= _references(value[1], resources)
            else:
                found |= _references(value, resources)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item, resources)
    return found
