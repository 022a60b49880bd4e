"""A string in `Assign` means what its JSON says: `"jsonString": "{\\"key\\":\\"value\\"}"` assigns
`{"key":"value"}`. moto keeps the JSON escapes of a string assigned in a JSONPath state (the
backslashes stay in the value), so `States.StringToJson($jsonString)` failed with a JSONDecodeError
and a quoted word read back with its backslashes. Other fields (Result, Parameters, JSONata
templates) already unescape; this reads Assign's strings the same way."""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.antlt4utils.antlr4utils import from_string_literal
from moto.stepfunctions.parser.asl.component.common.assign.assign_template_value_terminal import (
    AssignTemplateValueTerminalLit,
)
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

from workflows.local.adapter.seam import Seam


def _assigned_string(_preprocessor: Any, ctx: Any) -> AssignTemplateValueTerminalLit:
    return AssignTemplateValueTerminalLit(value=from_string_literal(ctx.string_literal()))


SEAM = Seam(__name__, "a string assigned in Assign is unescaped as JSON",
            corrects="moto 5.2.5 keeps the JSON escapes (backslashes) of a string literal in Assign")
SEAM.replace(Preprocessor, "visitAssign_template_value_terminal_string_literal", _assigned_string)
