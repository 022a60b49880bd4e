"""Alarms and one dashboard, generic over the catalog:
- per state machine: ExecutionsFailed, ExecutionsTimedOut, ExecutionThrottled;
- per function: Errors, Throttles, and p90 Duration at 80% of the function's timeout;
- per queue (the DLQ and the consumers' failure queue): one visible message, and its oldest
  message older than a quarter of the queue's retention (unattended: it expires at the retention);
- the API: 5XX responses.
Every alarm (and the API canary's) notifies the stack's SNS topic, to which the `AlarmEmail`
deployment parameter subscribes an address; `alarm_topic_arn` adds an existing topic.
"""

from __future__ import annotations

from aws_cdk import CfnCondition, CfnParameter, Duration, Fn, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.components.api import Api
from infra.resources import CatalogResources
from infra.settings import Settings
from workflows.definitions import catalog

FIVE_MINUTES = Duration.minutes(5)
ONE_MINUTE = Duration.minutes(1)
DURATION_ALARM_FRACTION = 0.8  # p90 Duration alarms at this share of the timeout
GTE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
# A failure message unattended for this share of its queue's retention alarms (14 days -> 3.5 days).
AGE_ALARM_FRACTION = 0.25
ALARM_EMAIL_PARAMETER = "AlarmEmail"


class Observability(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, resources: CatalogResources,
                 api: Api):
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._settings = settings

        for sm in catalog.STATE_MACHINES:
            machine = resources.state_machines[sm.logical_id]
            self._alarm(f"{sm.logical_id}ExecutionsFailed",
                        machine.metric_failed(period=FIVE_MINUTES, statistic="Sum"),
                        settings.failed_executions_threshold,
                        f"{sm.workflow}: {settings.failed_executions_threshold}+ failed executions in 5 minutes")
            self._alarm(f"{sm.logical_id}ExecutionsTimedOut",
                        machine.metric_timed_out(period=FIVE_MINUTES, statistic="Sum"), 1,
                        f"{sm.workflow}: an execution timed out")
            self._alarm(f"{sm.logical_id}ExecutionThrottled",
                        machine.metric_throttled(period=FIVE_MINUTES, statistic="Sum"), 1,
                        f"{sm.workflow}: Step Functions throttled executions")

        for f in catalog.FUNCTIONS:
            fn = resources.functions[f.logical_id]
            self._alarm(f"{f.logical_id}Errors", fn.metric_errors(period=FIVE_MINUTES, statistic="Sum"), 1,
                        f"{f.logical_id}: invocation errors")
            self._alarm(f"{f.logical_id}Throttles", fn.metric_throttles(period=FIVE_MINUTES, statistic="Sum"), 1,
                        f"{f.logical_id}: throttled invocations")
            limit_ms = round(f.timeout_s * 1000 * DURATION_ALARM_FRACTION)
            self._alarm(f"{f.logical_id}DurationP90", fn.metric_duration(period=FIVE_MINUTES, statistic="p90"),
                        limit_ms,
                        f"{f.logical_id}: p90 duration above {DURATION_ALARM_FRACTION:.0%} of its {f.timeout_s}s timeout",
                        evaluation_periods=3, datapoints_to_alarm=2)

        for q in catalog.QUEUES:
            queue = resources.queues[q.logical_id]
            self._alarm(f"{q.logical_id}Depth",
                        queue.metric_approximate_number_of_messages_visible(period=ONE_MINUTE, statistic="Maximum"), 1,
                        f"{q.queue_name}: a message is waiting for an operator")
            max_age_s = round(q.retention_days * 86400 * AGE_ALARM_FRACTION)
            self._alarm(f"{q.logical_id}OldestMessageAge",
                        queue.metric_approximate_age_of_oldest_message(period=FIVE_MINUTES, statistic="Maximum"),
                        max_age_s,
                        f"{q.queue_name}: a message waited {max_age_s // 3600} h for an operator; "
                        f"it expires after {q.retention_days} days")

        self._alarm("Api5XX", api.rest_api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"), 1,
                    "API: 5XX responses")

        self.topic = self._topic()
        topics: list[sns.ITopic] = [self.topic]
        if settings.alarm_topic_arn:
            topics.append(sns.Topic.from_topic_arn(self, "AlarmTopic", settings.alarm_topic_arn))
        for alarm in [*self.alarms.values(), api.canary_alarm]:
            for topic in topics:
                alarm.add_alarm_action(actions.SnsAction(topic))

        self.dashboard = self._dashboard(resources, api)

    def _topic(self) -> sns.Topic:
        """The stack's alarm topic; the `AlarmEmail` parameter (empty: none) subscribes an address."""
        topic = sns.Topic(self, "Alarms", display_name=f"{self._settings.stack_name} alarms", enforce_ssl=True)
        email = CfnParameter(Stack.of(self), ALARM_EMAIL_PARAMETER, type="String", default="",
                             allowed_pattern=r"^$|^[^@\s]+@[^@\s]+$",
                             description="An e-mail address every alarm notifies (confirm the subscription); empty: none")
        subscribed = CfnCondition(self, "AlarmEmailGiven",
                                  expression=Fn.condition_not(Fn.condition_equals(email.value_as_string, "")))
        subscription = sns.CfnSubscription(self, "AlarmEmailSubscription", topic_arn=topic.topic_arn,
                                           protocol="email", endpoint=email.value_as_string)
        subscription.cfn_options.condition = subscribed
        return topic

    def _alarm(self, name: str, metric: cloudwatch.IMetric, threshold: float, description: str,
               evaluation_periods: int = 1, datapoints_to_alarm: int | None = None) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self, name, metric=metric, threshold=threshold, alarm_description=description,
            evaluation_periods=evaluation_periods, datapoints_to_alarm=datapoints_to_alarm,
            comparison_operator=GTE, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarms[name] = alarm
        return alarm

    def _dashboard(self, resources: CatalogResources, api: Api) -> cloudwatch.Dashboard:
        board = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=self._settings.stack_name,
                                     default_interval=Duration.hours(3))
        board.add_widgets(cloudwatch.AlarmStatusWidget(
            title="Alarms", alarms=[*self.alarms.values(), api.canary_alarm], width=24, height=4))

        for sm in catalog.STATE_MACHINES:
            m = resources.state_machines[sm.logical_id]
            board.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{sm.workflow}: executions", width=12,
                    left=[m.metric_started(statistic="Sum"), m.metric_succeeded(statistic="Sum"),
                          m.metric_failed(statistic="Sum"), m.metric_timed_out(statistic="Sum"),
                          m.metric_aborted(statistic="Sum"), m.metric_throttled(statistic="Sum")]),
                cloudwatch.GraphWidget(
                    title=f"{sm.workflow}: execution time (p50, p90)", width=12,
                    left=[m.metric_time(statistic="p50"), m.metric_time(statistic="p90")]),
            )

        widgets: list[cloudwatch.IWidget] = []
        for f in catalog.FUNCTIONS:
            fn = resources.functions[f.logical_id]
            widgets.append(cloudwatch.GraphWidget(
                title=f"{f.logical_id}", width=8,
                left=[fn.metric_invocations(statistic="Sum"), fn.metric_errors(statistic="Sum"),
                      fn.metric_throttles(statistic="Sum")],
                right=[fn.metric_duration(statistic="p90")],
                right_annotations=[cloudwatch.HorizontalAnnotation(value=f.timeout_s * 1000, label="timeout")],
            ))
        board.add_widgets(*widgets)

        board.add_widgets(
            cloudwatch.GraphWidget(
                title="Failure queues: visible messages", width=12,
                left=[resources.queues[q.logical_id].metric_approximate_number_of_messages_visible(statistic="Maximum")
                      for q in catalog.QUEUES]),
            cloudwatch.GraphWidget(
                title="API", width=12,
                left=[api.rest_api.metric_count(statistic="Sum"), api.rest_api.metric_client_error(statistic="Sum"),
                      api.rest_api.metric_server_error(statistic="Sum")],
                right=[api.rest_api.metric_latency(statistic="p90")]),
        )
        return board
