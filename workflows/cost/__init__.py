"""What the workflows cost on AWS: the price model, the SDK call meter and the sample executions."""
