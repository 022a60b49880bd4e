"""moto's BaseModel appends every instance it ever makes to its class's `instances_tracked`, for
moto's server dashboard (`/moto-api/data.json`, which the local cloud does not serve): a
`fleet up` under load kept every DynamoDB item version ever written, every log event and metric
datum, and each execution's copy of its state machine, about 70 KB a request, without bound.

Instances are no longer tracked, except S3's keys and multipart uploads: S3's reset reads that
list to close their spooled temporary files."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import BaseModel

from workflows.local.adapter.seam import Seam

_STILL_TRACKED = "moto.s3."  # modules whose models are disposed through the list at reset


def _new(cls: Any, *args: Any, **kwargs: Any) -> Any:
    instance = super(BaseModel, cls).__new__(cls)  # as moto's: the next __new__ after BaseModel's
    if cls.__module__.startswith(_STILL_TRACKED):
        cls.instances_tracked.append(instance)
    return instance


SEAM = Seam(__name__, "model instances are not kept for moto's dashboard",
            corrects="moto 5.2.5 keeps every model instance it makes (BaseModel.instances_tracked): a leak "
                     "in a long-running process")
SEAM.replace(BaseModel, "__new__", staticmethod(_new))
