"""The recorded cases the local engine does not answer as AWS does yet, by reason.

Written by `python -m tests.conformance.measure --write-expected` from a run of every case; each
group's reason says what differs. The suite marks these xfail(strict=True): when one starts passing
the suite fails until it is taken off this list.
"""

from __future__ import annotations

GROUPS: dict[str, list[str]] = {
    "JSONata and variables: moto 5.2.5 ships no JSONata evaluator (States.Runtime: 'NoneType' object is not callable)": [
        "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::test_assign_in_choice_state[CORRECT]",
        "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::test_assign_in_choice_state[INCORRECT]",
        "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::test_reference_assign[BASE_REFERENCE_IN_INTRINSIC_FUNCTION]",
        "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::test_reference_in_map_state[MAP_STATE_REFERENCE_IN_ITEMS_PATH]",
        "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::test_reference_in_map_state[MAP_STATE_REFERENCE_IN_MAX_CONCURRENCY_PATH]",
        "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::test_reference_in_map_state[MAP_STATE_REFERENCE_IN_TOLERATED_FAILURE_PATH]",
        "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::test_state_assign_evaluation_order[BASE_EVALUATION_ORDER_PASS_STATE]",
        "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::test_undefined_reference[BASE_UNDEFINED_OUTPUT_MULTIPLE_STATES]",
        "evaluate_jsonata/test_base_evaluate_expressions.py::TestBaseEvaluateJsonata::test_base_jsonata_regular_expressions[BASE_FALSE]",
        "evaluate_jsonata/test_base_evaluate_expressions.py::TestBaseEvaluateJsonata::test_base_jsonata_regular_expressions[BASE_SINGLE_QUOTE]",
        "evaluate_jsonata/test_base_evaluate_expressions.py::TestBaseEvaluateJsonata::test_base_jsonata_regular_expressions[BASE_SINGLE_QUOTE_FALSE]",
        "evaluate_jsonata/test_base_evaluate_expressions.py::TestBaseEvaluateJsonata::test_base_map[MAX_CONCURRENCY]",
        "evaluate_jsonata/test_base_evaluate_expressions.py::TestBaseEvaluateJsonata::test_base_map[TOLERATED_FAILURE_PERCENTAGE]",
        "evaluate_jsonata/test_base_evaluate_expressions.py::TestBaseEvaluateJsonata::test_base_task[HEARTBEAT_SECONDS]",
        "evaluate_jsonata/test_base_evaluate_expressions.py::TestBaseEvaluateJsonata::test_base_task_from_input[HEARTBEAT_SECONDS]",
        "intrinsic_functions/test_array_jsonata.py::TestArrayJSONata::test_array_partition",
        "intrinsic_functions/test_json_manipulation_jsonata.py::TestJsonManipulationJSONata::test_parse",
        "intrinsic_functions/test_math_operations_jsonata.py::TestMathOperationsJSONata::test_math_random_seeded",
        "outputdecl/test_output.py::TestArgumentsBase::test_base_cases[BASE_DIRECT_EXPR]",
        "outputdecl/test_output.py::TestArgumentsBase::test_base_lambda[BASE_LAMBDA]",
        "outputdecl/test_output.py::TestArgumentsBase::test_base_output_any_non_dict[JSONATA_EXPR]",
        "outputdecl/test_output.py::TestArgumentsBase::test_base_output_any_non_dict[LIST_RICH]",
        "outputdecl/test_output.py::TestArgumentsBase::test_base_output_any_non_dict[STR_LIT]",
        "outputdecl/test_output.py::TestArgumentsBase::test_base_task_lambda[BASE_TASK_LAMBDA]",
        "outputdecl/test_output.py::TestArgumentsBase::test_output_in_choice[CONDITION_FALSE]",
        "outputdecl/test_output.py::TestArgumentsBase::test_output_in_choice[CONDITION_TRUE]",
        "query_language/test_mixed_query_language.py::TestMixedQueryLanguageFlow::test_lambda_task_resource_data_flow[TASK_LAMBDA_LEGACY_RESOURCE_JSONATA_TO_JSONPATH]",
        "query_language/test_mixed_query_language.py::TestMixedQueryLanguageFlow::test_lambda_task_resource_data_flow[TASK_LAMBDA_SDK_RESOURCE_JSONATA_TO_JSONPATH]",
        "query_language/test_mixed_query_language.py::TestMixedQueryLanguageFlow::test_variable_sampling[JSONATA_ASSIGN_JSONPATH_REF]",
        "query_language/test_mixed_query_language.py::TestMixedQueryLanguageFlow::test_variable_sampling[JSONPATH_ASSIGN_JSONATA_REF]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_choice_aws_docs_scenario[CHOICE_STATE_AWS_SCENARIO_JSONATA]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_choice_singleton_composite[CHOICE_STATE_SINGLETON_COMPOSITE_LITERAL_JSONATA]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_choice_unsorted_parameters_positive[CHOICE_STATE_UNSORTED_CHOICE_PARAMETERS_JSONATA]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_escape_sequence_parsing[ESCAPE_SEQUENCES_JSONATA_COMPARISON_OUTPUT]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_fail_cause_jsonata",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_eval_jsonata[empty]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_eval_jsonata[singleton]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_eval_jsonata_fail[boolean]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_eval_jsonata_fail[function]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_eval_jsonata_fail[number]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_eval_jsonata_variable_sampling_fail[object]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_eval_jsonata_variable_sampling_fail[string]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_input_array[singleton]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_input_types[boolean]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_input_types[number]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_input_types[object]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_variable_sampling[null]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_variable_sampling[number]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_items_variable_sampling[object]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_wait_timestamp_jsonata[INVALID_ISO]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_wait_timestamp_jsonata[INVALID_TIME]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_wait_timestamp_jsonata[NANOSECONDS]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_wait_timestamp_jsonata[NO_T]",
        "states_variables/test_error_output.py::TestStateVariablesTemplate::test_catch_error_variable_sampling[TASK_CATCH_ERROR_VARIABLE_SAMPLING_TO_JSONPATH]",
        "states_variables/test_error_output.py::TestStateVariablesTemplate::test_map_catch_error[MAP_CATCH_ERROR_OUTPUT_WITH_RETRY]",
        "states_variables/test_error_output.py::TestStateVariablesTemplate::test_map_catch_error[MAP_CATCH_ERROR_VARIABLE_SAMPLING]",
        "states_variables/test_error_output.py::TestStateVariablesTemplate::test_parallel_catch_error[PARALLEL_CATCH_ERROR_OUTPUT]",
        "states_variables/test_error_output.py::TestStateVariablesTemplate::test_task_catch_error_output[TASK_CATCH_ERROR_OUTPUT_TO_JSONPATH]",
    ],
    "service integration results lack SdkHttpMetadata and SdkResponseMetadata": [
        "query_language/test_mixed_query_language.py::TestMixedQueryLanguageFlow::test_lambda_task_resource_data_flow[TASK_LAMBDA_SDK_RESOURCE_JSONPATH_TO_JSONATA]",
        "services/test_dynamodb_task_service.py::TestTaskServiceDynamoDB::test_base_integrations[DYNAMODB_PUT_DELETE_ITEM]",
        "services/test_dynamodb_task_service.py::TestTaskServiceDynamoDB::test_base_integrations[DYNAMODB_PUT_GET_ITEM]",
        "services/test_dynamodb_task_service.py::TestTaskServiceDynamoDB::test_base_integrations[DYNAMODB_PUT_UPDATE_GET_ITEM]",
        "services/test_sqs_task_service.py::TestTaskServiceSqs::test_send_message",
        "services/test_sqs_task_service.py::TestTaskServiceSqs::test_send_message_attributes",
        "services/test_sqs_task_service.py::TestTaskServiceSqs::test_send_message_unsupported_parameters",
    ],
    "Lambda's error payload lacks requestId and AWS's format": [
        "error_handling/test_task_lambda.py::TestTaskLambda::test_no_such_function_catch",
        "error_handling/test_task_lambda.py::TestTaskLambda::test_raise_exception",
        "error_handling/test_task_lambda.py::TestTaskLambda::test_raise_exception_catch",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_retry_interval_features",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_retry_interval_features_jitter_none",
    ],
    "StartSyncExecution for EXPRESS machines is not implemented": [
        "express/test_express_sync.py::TestExpressSync::test_catch",
        "express/test_express_sync.py::TestExpressSync::test_query_runtime_memory",
    ],
    "a States.* error leaving a Map iteration or Parallel branch becomes States.Runtime": [
        "assign/test_assign_base.py::TestAssignBase::test_base_parallel_cases[BASE_SCOPE_PARALLEL]",
        "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::test_reference_assign[BASE_REFERENCE_IN_ITERATOR_OUTER_SCOPE]",
    ],
    "a result holding a timestamp (startExecution, aws-sdk) cannot be serialised": [
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_list_secrets",
        "services/test_sfn_task_service.py::TestTaskServiceSfn::test_start_execution",
    ],
    "a queue URL that does not exist: AWS fails to reach the host, the local SQS answers its own error": [
        "error_handling/test_task_service_sqs.py::TestTaskServiceSqs::test_send_message_no_such_queue",
    ],
    "an invalid ResultPath's cause is worded differently from AWS's": [
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_catch_states_runtime",
    ],
    "an invalid TimeoutSecondsPath: AWS's history differs (no ExecutionFailed recorded)": [
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_invalid_jsonpath[ST.INVALID_JSONPATH_IN_TIMEOUTSECONDSPATH]",
    ],
    "aws-sdk error names: the service prefix is not AWS's (S3.NoSuchBucketException)": [
        "error_handling/test_aws_sdk.py::TestAwsSdk::test_no_such_bucket",
    ],
    "aws-sdk:dynamodb answers ConsumedCapacity that AWS does not return unasked": [
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_dynamodb_put_update_get_item",
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
    "the state machine's own TimeoutSeconds is not enforced": [
        "timeouts/test_timeouts.py::TestTimeouts::test_global_timeout",
    ],
    "the task's TimeoutSeconds does not end a Lambda call that outlives it (Sandbox.Timedout)": [
        "timeouts/test_timeouts.py::TestTimeouts::test_fixed_timeout_service_lambda_with_path",
    ],
}

EXPECTED: dict[str, str] = {case: reason for reason, cases in GROUPS.items() for case in cases}


def reason(case_id: str) -> str | None:
    return EXPECTED.get(case_id)
