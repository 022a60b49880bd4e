"""Queues (the DLQ and the event consumers' failure queue), the fleet bus, and the rules that
deliver its events to their consumers."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.resources import CatalogResources
from infra.settings import Settings
from workflows.definitions import catalog


class Messaging(Construct):
    """Every catalog queue (SSE, TLS only, the catalog's retention) and every bus."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, resources: CatalogResources):
        super().__init__(scope, construct_id)
        for q in catalog.QUEUES:
            resources.queues[q.logical_id] = sqs.Queue(
                self, q.logical_id,
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(q.retention_days),
                removal_policy=settings.removal_policy,
            )
        for b in catalog.BUSES:
            resources.buses[b.logical_id] = events.EventBus(
                self, b.logical_id, description=f"Car events ({b.source}): every status change of every car")


class EventRouting(Construct):
    """One rule per bus consumer. The consumer is invoked asynchronously with the catalog's retry
    attempts and maximum event age; what still fails lands in the bus's failure queue, both when
    Lambda gives up (on-failure destination) and when EventBridge cannot deliver (target DLQ)."""

    def __init__(self, scope: Construct, construct_id: str, *, resources: CatalogResources):
        super().__init__(scope, construct_id)
        self.rules: dict[tuple[str, str], events.Rule] = {}
        for b in catalog.BUSES:
            bus = resources.buses[b.logical_id]
            failures = resources.queues[b.on_failure_queue]
            max_age = Duration.seconds(b.max_event_age_s)
            for consumer in b.consumers:
                fn = resources.functions[consumer]
                fn.configure_async_invoke(
                    on_failure=destinations.SqsDestination(failures),
                    max_event_age=max_age,
                    retry_attempts=b.retry_attempts,
                )
                rule = events.Rule(
                    self, f"{b.logical_id}To{consumer}",
                    event_bus=bus,
                    description=f"{b.source} events on {b.logical_id} -> {consumer}",
                    event_pattern=events.EventPattern(source=[b.source]),
                )
                rule.add_target(targets.LambdaFunction(
                    fn, retry_attempts=b.retry_attempts, max_event_age=max_age, dead_letter_queue=failures))
                self.rules[(b.logical_id, consumer)] = rule

        # Step Functions' own events, on the account's default bus: executions that ended without
        # their own clean-up, for the function that releases what they held.
        default_bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        for r in catalog.EXECUTION_STATUS_RULES:
            fn = resources.functions[r.function]
            failures = resources.queues[r.on_failure_queue]
            max_age = Duration.seconds(r.max_event_age_s)
            fn.configure_async_invoke(on_failure=destinations.SqsDestination(failures), max_event_age=max_age,
                                      retry_attempts=r.retry_attempts)
            pattern = r.pattern(resources.state_machine_arn)
            rule = events.Rule(
                self, r.logical_id, event_bus=default_bus,
                description=f"Step Functions executions of {', '.join(r.state_machines)} ended "
                            f"{'/'.join(r.statuses)} -> {r.function}",
                event_pattern=events.EventPattern(source=pattern["source"], detail_type=pattern["detail-type"],
                                                  detail=pattern["detail"]),
            )
            rule.add_target(targets.LambdaFunction(
                fn, retry_attempts=r.retry_attempts, max_event_age=max_age, dead_letter_queue=failures))
            self.rules[("default", r.function)] = rule
