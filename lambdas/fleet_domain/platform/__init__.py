"""What every function stands on: the AWS clients and Powertools (logging, tracing, metrics)."""
