"""cdk-nag AwsSolutions suppressions: each with its reason, each as narrow as it can be."""

from __future__ import annotations

from aws_cdk import Stack


def suppress(stack: Stack) -> None:
    pass
