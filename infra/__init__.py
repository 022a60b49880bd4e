"""The CDK app: one stack built from workflows.catalog and statemachines/*.asl.json.

Run it through the CDK CLI from the repository root (`npx cdk synth`); cdk.json points at
infra/app.py. Nothing here is imported by the local cloud, and nothing here imports it.
"""
