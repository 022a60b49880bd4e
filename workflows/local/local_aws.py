"""The local cloud's account, region and credentials, whatever the user's AWS configuration says.

The local cloud is always account 123456789012 in us-east-1 with dummy credentials (the names in
its ARNs and queue URLs say so). A user's `AWS_DEFAULT_REGION=eu-west-1`, `AWS_PROFILE` naming a
profile that does not exist, or a `~/.aws/config` with another region or an `endpoint_url` must
change nothing locally, so:

- clients that talk to a local endpoint come from `session()`: a botocore session that reads no
  environment variable and no AWS config or credentials file;
- a process that hosts the local cloud (`fleet up`, `fleet demo`, `--ephemeral`, tests) gets the
  environment a Lambda sandbox has (`isolate_process()`): the functions' own SDK clients and the
  engine's service integrations are made by boto3's default session, which reads os.environ.
"""

from __future__ import annotations

import os
import threading
from collections.abc import MutableMapping
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.configprovider import BOTOCORE_DEFAUT_SESSION_VARIABLES

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"  # a dummy: the local cloud checks no signature

# What a Lambda sandbox's environment says about AWS: its region and its role's credentials.
SANDBOX_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # No user's config or credentials file: a sandbox has none (its `[default]` could name another
    # region or an `endpoint_url` that sends the functions' calls elsewhere).
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def _is_user_aws_setting(name: str) -> bool:
    """An environment variable of the user's that would steer an SDK client: profiles, files,
    endpoints (AWS_ENDPOINT_URL_<SERVICE>, ...), FIPS/dual-stack, retry and defaults modes."""
    return (name.startswith("AWS_") or name.startswith("BOTOCORE_")) and name not in SANDBOX_AWS_ENV


def isolate_process(environ: MutableMapping[str, str] | None = None, keep: tuple[str, ...] = ()) -> None:
    """Give this process a Lambda sandbox's AWS environment: the user's AWS_* settings removed
    (those named in `keep` stay), the local region and dummy credentials set."""
    env = os.environ if environ is None else environ
    for name in [n for n in env if _is_user_aws_setting(n) and n not in keep]:
        del env[name]
    env.update(SANDBOX_AWS_ENV)


def _isolated_variables() -> dict[str, tuple[Any, Any, Any, Any]]:
    """botocore's session variables with no environment variable and no config-file key behind
    them: each is its default (the config and credentials files: none)."""
    variables: dict[str, tuple[Any, Any, Any, Any]] = {
        name: (None, None, default, convert) for name, (_key, _env, default, convert) in BOTOCORE_DEFAUT_SESSION_VARIABLES.items()
    }
    for name in ("config_file", "credentials_file"):
        variables[name] = (None, None, os.devnull, None)
    return variables


def session() -> boto3.session.Session:
    """A boto3 session for the local cloud: us-east-1, dummy credentials, nothing read from the
    user's environment or files."""
    core = botocore.session.Session(session_vars=_isolated_variables())
    # Providers botocore does not list among its session variables (the configured endpoint
    # URLs, AWS_ENDPOINT_URL_<SERVICE>) read the environment too: turned off here.
    core.set_config_variable("ignore_configured_endpoint_urls", True)
    core.set_credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    return boto3.session.Session(botocore_session=core, region_name=REGION)


_shared: boto3.session.Session | None = None
_lock = threading.Lock()


def client(service: str, endpoint_url: str, config: Config | None = None) -> Any:
    """A client for one service of a local cloud at `endpoint_url` (a `fleet up`). One session
    serves them all (botocore loads its data once per session), under a lock: a session does not
    create clients thread-safely. (Clients of the cloud in this process come from a session made
    after moto's mock started, which is what routes them to it: LocalCloud.client.)"""
    global _shared
    with _lock:
        if _shared is None:
            _shared = session()
        return _shared.client(service, endpoint_url=endpoint_url, config=config)
