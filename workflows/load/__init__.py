"""Open-loop load over the REST API of a running `fleet up`."""
