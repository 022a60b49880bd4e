"""Where commands send their calls: the local cloud, Step Functions Local, or a deployed AWS
stack; and starting, waiting for and describing executions on any of them."""
