"""Data access: one layer per table, over one client-injected base. The DynamoDB expressions live
here and nowhere else."""
