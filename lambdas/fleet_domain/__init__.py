"""The car fleet's domain, by layer, each using only the layers above it in this list:

- models/   the vocabulary: Pydantic models named after the domain, and the domain errors
- rules/    pure functions: the car status transition table, dispatch and maintenance rules
- platform/ the AWS clients and Powertools
- data/     one access layer per table (and the fleet bus), over one client-injected base
- logic/    the use cases, one per function that writes
- control/  the workflows' control plane: start, follow, resume executions; the DLQ

Shared by every Lambda in `lambdas/`; imports nothing from `workflows/`.
"""
