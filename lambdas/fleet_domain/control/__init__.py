"""The workflows' control plane: start, follow and resume executions, and the dead-letter queue.
Shared by the REST API, the CLI and the demo."""
