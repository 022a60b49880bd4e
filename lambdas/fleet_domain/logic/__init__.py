"""The use cases, one per function that writes: each takes its typed input, applies the rules,
writes through the data layer and publishes the car's status changes. Every one is safe to run
twice."""
