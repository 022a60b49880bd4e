"""Experiments on the local runtime (`fleet lab`)."""
