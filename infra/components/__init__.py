"""One construct per concern, each built from the catalog: tables, messaging, functions,
state machines, API, observability."""
