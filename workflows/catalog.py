"""`workflows.catalog` is workflows.definitions.catalog, the same module object: tools written
against the earlier layout (the conformance harness's `fleet_shim.py` patches
`catalog.function_by_name` to add its test functions) keep working, and a patch made through
either name is seen through both."""

import sys

from workflows.definitions import catalog

sys.modules[__name__] = catalog
