"""The Lambda code: one asset for every function, built from lambdas/ and the pinned runtime
dependencies, for Python 3.13 on arm64.

Bundling runs locally (no Docker): lambdas/ is copied as is (one module per handler plus the
shared domain package) and `pip install --platform ... --only-binary=:all:` fetches the arm64
wheels of requirements/runtime.txt, with constraints.txt fixing every transitive version. If
pip is not available the CDK falls back to the same steps in the SAM build image (Docker).
Bytecode is compiled into the asset when the bundling Python is the runtime's version (always in
the image): Lambda cannot write __pycache__, so without it every cold start compiles.

Powertools is bundled, not taken from its public layer: see README.md, "Packaging".
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerVolume, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from workflows.definitions.catalog import LAMBDAS_DIR, ROOT

PYTHON_VERSION = "3.13"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
# Lambda's python3.13 runs on Amazon Linux 2023 (glibc 2.34): manylinux2014 and 2_28 wheels both load.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
RUNTIME_REQUIREMENTS = ROOT / "requirements" / "runtime.txt"
CONSTRAINTS = ROOT / "constraints.txt"
EXCLUDE = ("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", ".mypy_cache", ".ruff_cache")

assert RUNTIME.name == f"python{PYTHON_VERSION}", "PYTHON_VERSION and RUNTIME must agree"


def pip_command(target: str, python: str = sys.executable, requirements: Path = RUNTIME_REQUIREMENTS,
                constraints: Path | None = CONSTRAINTS) -> list[str]:
    """The pip invocation that installs the runtime dependencies for Lambda (arm64, 3.13)."""
    cmd = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
           "--only-binary=:all:", "--implementation", "cp", "--python-version", PYTHON_VERSION]
    for platform in PLATFORMS:
        cmd += ["--platform", platform]
    cmd += ["--target", target, "-r", str(requirements)]
    if constraints is not None and constraints.exists():
        cmd += ["-c", str(constraints)]
    return cmd


def compile_command(target: str, python: str = sys.executable) -> list[str]:
    """Bytecode for the asset. /var/task is read-only, so a module shipped without its .pyc is
    compiled from source at every cold start. unchecked-hash: the .pyc is used as it is, whatever
    file times the zip gives the sources. Only an interpreter of the runtime's version writes
    bytecode Lambda's python3.13 can load."""
    return [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", target]


def compiles_for_lambda(python_version: tuple[int, int] = sys.version_info[:2]) -> bool:
    return f"{python_version[0]}.{python_version[1]}" == PYTHON_VERSION


def copy_sources(target: str) -> None:
    shutil.copytree(LAMBDAS_DIR, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*EXCLUDE))


@jsii.implements(ILocalBundling)
class LocalBundling:
    """Bundles on this machine with the project's own pip; returns False (Docker fallback) only
    when pip is not importable."""

    def try_bundle(self, output_dir: str, *_args, **_kwargs) -> bool:
        if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0:
            return False
        copy_sources(output_dir)
        result = subprocess.run(pip_command(output_dir), capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"bundling the Lambda dependencies failed:\n{result.stdout}\n{result.stderr}")
        if compiles_for_lambda():
            compiled = subprocess.run(compile_command(output_dir), capture_output=True, text=True)
            if compiled.returncode != 0:
                raise RuntimeError(f"compiling the Lambda asset failed:\n{compiled.stdout}\n{compiled.stderr}")
        else:
            print(f"note: the Lambda asset ships no bytecode (this is Python {sys.version_info.major}."
                  f"{sys.version_info.minor}, the functions run {PYTHON_VERSION}): each cold start compiles its "
                  f"modules. Deploy from Python {PYTHON_VERSION} to include it.", file=sys.stderr)
        return True


def source_hash() -> str:
    """The asset's identity: the sources, the pins and the target platform. The pins live outside
    lambdas/, so CDK's own source hash would miss a dependency bump."""
    h = hashlib.sha256()
    h.update(f"python{PYTHON_VERSION}|{'|'.join(PLATFORMS)}\n".encode())
    for path in sorted(p for p in LAMBDAS_DIR.rglob("*") if p.is_file() and not _excluded(p)):
        h.update(path.relative_to(LAMBDAS_DIR).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
    for pins in (RUNTIME_REQUIREMENTS, CONSTRAINTS):
        if pins.exists():
            h.update(pins.name.encode() + b"\0" + pins.read_bytes())
    return h.hexdigest()


def _excluded(path: Path) -> bool:
    rel = path.relative_to(LAMBDAS_DIR)
    caches = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")
    return any(part in caches for part in rel.parts) or path.suffix in (".pyc", ".pyo")


def docker_command() -> list[str]:
    """The same steps inside the SAM build image, used only when local bundling is impossible."""
    constraints = " -c /pins/constraints.txt" if CONSTRAINTS.exists() else ""
    return ["bash", "-c",
            "cp -R /asset-input/. /asset-output"
            f" && pip install --quiet --no-compile --only-binary=:all: -r /pins/runtime.txt{constraints} -t /asset-output"
            " && " + " ".join(compile_command("/asset-output", python="python"))]


def code() -> lambda_.Code:
    """The asset shared by every function (one upload, one hash)."""
    volumes = [DockerVolume(host_path=str(RUNTIME_REQUIREMENTS), container_path="/pins/runtime.txt")]
    if CONSTRAINTS.exists():
        volumes.append(DockerVolume(host_path=str(CONSTRAINTS), container_path="/pins/constraints.txt"))
    return lambda_.Code.from_asset(
        str(LAMBDAS_DIR),
        exclude=list(EXCLUDE),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=source_hash(),
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            platform="linux/arm64",
            command=docker_command(),
            volumes=volumes,
            local=LocalBundling(),
        ),
    )
