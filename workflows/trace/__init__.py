"""Execution tracing: an execution as its state machine's graph with the path taken (model),
and the self-contained HTML page that draws it (html, static/)."""
