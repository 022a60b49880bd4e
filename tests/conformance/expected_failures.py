"""The recorded cases the local engine does not answer as AWS does yet, by reason.

Written by `python -m tests.conformance.measure --write-expected` from a run of every case; each
group's reason says what differs. The suite marks these xfail(strict=True): when one starts passing
the suite fails until it is taken off this list.
"""

from __future__ import annotations

GROUPS: dict[str, list[str]] = {
    "aws-sdk:dynamodb answers ConsumedCapacity that AWS does not return unasked": [
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_dynamodb_put_update_get_item",
        "services/test_dynamodb_task_service.py::TestTaskServiceDynamoDB::test_base_integrations[DYNAMODB_PUT_UPDATE_GET_ITEM]",
    ],
    "DynamoDB's getItem names its request id header in lower case on AWS": [
        "services/test_dynamodb_task_service.py::TestTaskServiceDynamoDB::test_base_integrations[DYNAMODB_PUT_GET_ITEM]",
    ],
    "Lambda's error payload lacks requestId and AWS's format": [
        "express/test_express_sync.py::TestExpressSync::test_catch",
    ],
    "a queue URL that does not exist: AWS fails to reach the host, the local SQS answers its own error": [
        "error_handling/test_task_service_sqs.py::TestTaskServiceSqs::test_send_message_no_such_queue",
    ],
    "a variable a state assigns is already visible to its own OutputPath (on AWS from the next state)": [
        "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::test_state_assign_evaluation_order[BASE_EVALUATION_ORDER_PASS_STATE]",
    ],
    "an invalid ResultPath's cause is worded differently from AWS's": [
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_catch_states_runtime",
    ],
    "an invalid TimeoutSecondsPath: AWS's history differs (no ExecutionFailed recorded)": [
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_invalid_jsonpath[ST.INVALID_JSONPATH_IN_TIMEOUTSECONDSPATH]",
    ],
    "aws-sdk:secretsmanager: the secret is not created as on AWS": [
        "error_handling/test_aws_sdk.py::TestAwsSdk::test_invalid_secret_name",
    ],
    "aws-sdk:sfn integrations fail (KeyError) instead of AWS's error names": [
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_sfn_send_task_outcome_with_no_such_token[state_machine_template0]",
    ],
    "sqs:sendMessage without a MessageBody fails with a TypeError, not SQS's error": [
        "error_handling/test_task_service_sqs.py::TestTaskServiceSqs::test_send_message_empty_body",
    ],
    "the recorded Content-Length counts AWS's resource names; the suite names them per run": [
        "services/test_sfn_task_service.py::TestTaskServiceSfn::test_start_execution",
    ],
    "virtual clock: a function sleeping past a timeout returns before the timeout fires (passes on wall time)": [
        "timeouts/test_timeouts.py::TestTimeouts::test_global_timeout",
    ],
}

EXPECTED: dict[str, str] = {case: reason for reason, cases in GROUPS.items() for case in cases}


def reason(case_id: str) -> str | None:
    return EXPECTED.get(case_id)
