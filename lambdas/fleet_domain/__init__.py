"""The car fleet's domain: models, status rules, logic and one repository per table.

Shared by every Lambda in `lambdas/`; imports nothing from `workflows/`.
"""
