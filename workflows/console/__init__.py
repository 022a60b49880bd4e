"""The web console `fleet up` serves at /console: executions and their graphs."""
