"""The REST API behind `api.handler`: one Powertools Router per resource (cars, rides,
maintenance, executions, dlq, service), the resolver and its error mapping (app.py), the shared
answer shapes (schemas.py), the API's errors and Idempotency-Key support."""
