"""The domain's vocabulary: Pydantic models named after the domain (cars, rides, maintenance
jobs), the inputs and outputs of every function, and the domain errors. No AWS here."""
