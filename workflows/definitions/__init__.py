"""The fleet's definitions, plain data read by every runtime: the catalog (functions, tables,
queues, buses, state machines), the ASL analysis, naming, and the mock test-case format.
imported by infra/ (CDK), workflows/local/ (the local cloud) and the CLI; imports no runtime."""
