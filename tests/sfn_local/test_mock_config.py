"""Reading Step Functions Local's mock configuration format (workflows/definitions/mock_config.py)."""

from __future__ import annotations

import json

import pytest

from workflows.definitions import mock_config
from workflows.definitions.mock_config import MockConfig, MockConfigError

VALID = {
    "StateMachines": {"fleet-register-car": {"TestCases": {
        "RetryPath": {"InspectCar": "TwiceThenPassed"},
    }}},
    "MockedResponses": {
        "TwiceThenPassed": {
            "1-2": {"Throw": {"Error": "TransientInspectionError", "Cause": "link down"}},
            "0": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "busy"}},
            "3": {"Return": {"StatusCode": 200, "Payload": {"passed": True}}},
        },
    },
}


def test_attempt_ranges_are_read_in_order():
    case = MockConfig.from_dict(VALID).test_case("fleet-register-car", "RetryPath")
    answers = [case.response("InspectCar", attempt) for attempt in range(4)]
    assert [a.error for a in answers] == ["Lambda.ServiceException", "TransientInspectionError",
                                          "TransientInspectionError", None]
    assert answers[3].result == {"StatusCode": 200, "Payload": {"passed": True}} and not answers[3].throws
    with pytest.raises(MockConfigError, match="attempt 4"):
        case.response("InspectCar", 4)


@pytest.mark.parametrize("responses, message", [
    ({"R": {"0": {"Return": 1}, "2": {"Return": 2}}}, "expected 1, found 2"),
    ({"R": {"1": {"Return": 1}}}, "expected 0, found 1"),
    ({"R": {"0-1": {"Return": 1}, "1": {"Return": 2}}}, "expected 2, found 1"),
    ({"R": {"2-1": {"Return": 1}}}, "bad attempt range"),
    ({"R": {"first": {"Return": 1}}}, "not an attempt number"),
    ({"R": {"0": {"Return": 1, "Throw": {"Error": "E", "Cause": "C"}}}}, "exactly one of Return or Throw"),
    ({"R": {"0": {"Throw": {"Error": "E"}}}}, "needs Error and Cause"),
    ({"R": {}}, "must map attempts"),
])
def test_malformed_responses_are_refused_with_the_reason(responses, message):
    data = {"StateMachines": {}, "MockedResponses": responses}
    with pytest.raises(MockConfigError, match=message):
        MockConfig.from_dict(data)


def test_a_test_case_naming_an_undefined_response_is_refused():
    data = {**VALID, "StateMachines": {"m": {"TestCases": {"T": {"S": "Missing"}}}}}
    with pytest.raises(MockConfigError, match="'Missing', which MockedResponses does not define"):
        MockConfig.from_dict(data)


def test_unknown_top_level_keys_are_refused():
    with pytest.raises(MockConfigError, match="StateMachines and MockedResponses"):
        MockConfig.from_dict({**VALID, "Comment": "no"})


def test_an_unknown_test_case_names_the_known_ones():
    config = MockConfig.from_dict(VALID)
    with pytest.raises(MockConfigError, match=r"no test case 'Nope' .*\(known: RetryPath\)"):
        config.test_case("fleet-register-car", "Nope")
    with pytest.raises(MockConfigError, match="no test cases for state machine 'other'"):
        config.test_case("other", "RetryPath")


def test_the_file_comes_from_sfn_mock_config_as_for_step_functions_local(tmp_path, monkeypatch):
    path = tmp_path / "mocks.json"
    path.write_text(json.dumps(VALID))
    monkeypatch.setenv("SFN_MOCK_CONFIG", str(path))
    assert mock_config.default_path() == path
    assert MockConfig.load().test_cases("fleet-register-car") == ["RetryPath"]
    monkeypatch.delenv("SFN_MOCK_CONFIG")
    assert mock_config.default_path() == mock_config.DEFAULT_PATH


def test_unreadable_files_are_one_line_errors(tmp_path):
    with pytest.raises(MockConfigError, match="cannot read"):
        MockConfig.load(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(MockConfigError, match="not valid JSON"):
        MockConfig.load(broken)


def test_split_arn():
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:fleet-register-car"
    assert mock_config.split_arn(f"{arn}#HappyPath") == (arn, "HappyPath")
    assert mock_config.split_arn(arn) == (arn, None)


def test_the_local_cloud_reads_the_file_it_is_given(tmp_path):
    """LocalCloud(mock_config=...) and thus `fleet up` with SFN_MOCK_CONFIG: another file, other cases."""
    from workflows.local.cloud import LocalCloud

    path = tmp_path / "mocks.json"
    path.write_text(json.dumps({
        "StateMachines": {"fleet-register-car": {"TestCases": {"Refused": {"ValidateCar": "Invalid"}}}},
        "MockedResponses": {"Invalid": {"0": {"Throw": {
            "Error": "CarValidationError",
            "Cause": json.dumps({"errorType": "CarValidationError", "errorMessage": "seats: mocked"})}}}},
    }))
    with LocalCloud(virtual_time=True, mock_config=path) as cloud:
        sfn = cloud.client("stepfunctions")
        arn = sfn.start_execution(stateMachineArn=cloud.state_machine_arn("register") + "#Refused", name="r",
                                  input="{}")["executionArn"]
        desc = cloud.wait(arn)
    assert (desc["status"], desc["error"], desc["cause"]) == ("FAILED", "CarValidationError", "seats: mocked")
