"""The build context of a self-hosted explainer image: FROM the model's image, plus the explainer runtime.

The explainer brings everything it runs on and touches nothing of the model's: a builder stage installs, with a
pinned uv, a relocatable CPython (python-build-standalone, the kit's own Python version) and the runtime's
packages from the lock (exact pins, with their hashes when the lock carries them) into ``/opt/clarify-kit``, which
the final stage copies FROM the model's image. So the base image needs no Python at all (any glibc-based image,
with Python 3.8 to 3.12 or none), and its interpreter, site-packages and environment stay exactly as they were: no
install into them, no global PYTHONPATH or other ENV. SageMaker starts the image as ``IMAGE serve``; the entrypoint
runs ``clarify-kit serve-container`` with its own interpreter on port 8080 (its variables on its own command line),
and that starts the base image's model server (ClarifyKit.SelfHosted.ModelCommand, read from the config verbatim)
on ModelPort with the base image's environment. No CDK, pandas or matplotlib go in.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import ConfigError, Issue, KitError
from clarify_kit.core.image_reference import image_reference_problem

__all__ = [
    "declared_requirements",
    "build_context",
    "distribution_closure",
    "dockerfile",
    "runtime_requirements",
]

PACKAGE = Path(__file__).resolve().parent.parent  # clarify_kit/
ROOT = PACKAGE.parent  # the checkout, with the lock file
# What serve-container imports: the kit's package without its CDK stacks, and these distributions installed.
USER_ID = 10001  # of the non-root user, when ClarifyKit.SelfHosted.User names one
_EXTRA = re.compile(r"""^\s*([A-Za-z0-9][A-Za-z0-9._-]*)[^;]*(?:;\s*extra\s*==\s*["']([^"']+)["'])?\s*$""")


def declared_requirements(*extras: str) -> list[str]:
    """The distributions clarify-kit's own metadata requires: the core, and ``extras`` (their own names, not the kit
    itself): one home for them, pyproject.toml, read back from the installed package."""
    out = []
    for line in metadata.requires("clarify-kit") or []:
        match = _EXTRA.match(line)
        if match is None:
            continue
        name, extra = match.groups()
        if name.lower() != "clarify-kit" and (extra is None or extra in extras):
            out.append(name)
    return out


def runtime_requirements(config: DeploymentConfig) -> list[str]:
    """``name==version`` of every distribution the runtime needs, its dependencies included (so that the image
    installs with --no-deps, exactly these), as pinned by the lock file (with the lock's hashes, which the install
    then checks), else as installed here."""
    pins = _lock_pins()
    names = declared_requirements("local", *(("nlp",) if _has_text(config) else ()))
    lines = []
    for name in sorted(distribution_closure(names)):
        version, hashes = pins.get(name) or (metadata.version(name), [])
        lines.append(" ".join([f"{name}=={version}", *(f"--hash={h}" for h in hashes)]))
    return lines


def distribution_closure(requirements: list[str]) -> set[str]:
    """The installed distributions that ``requirements`` (names or specifiers) pull in on Linux, transitively,
    without extras."""
    requirement_class: Any = None
    try:
        from packaging.requirements import Requirement as requirement_class
    except ModuleNotFoundError:  # packaging comes with the dev tools, not with the core install
        pass
    environment = {"extra": "", "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        text = todo.pop()
        if requirement_class is not None:
            requirement = requirement_class(text)
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            name = requirement.name
        elif ";" in text:
            continue
        else:
            name = re.split(r"[ <>=!~\[(;]", text, maxsplit=1)[0]
        name = name.lower().replace("_", "-")
        if name not in seen:
            seen.add(name)
            todo += metadata.requires(name) or []
    return seen


def _has_text(config: DeploymentConfig) -> bool:
    clarify = config.clarify
    return bool(clarify and clarify.ShapConfig.TextConfig is not None)


def _lock_pins() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from the repository's lock (``make lock``: pins with their hashes)."""
    lock = ROOT / "requirements-lock.txt"
    if not lock.exists():
        return {}
    pins: dict[str, tuple[str, list[str]]] = {}
    current: list[str] | None = None
    for line in lock.read_text().splitlines():
        found = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", line)
        if found:
            current = []
            pins[found[1].lower().replace("_", "-").replace(".", "-")] = (found[2], current)
        elif current is not None and (digest := re.search(r"--hash=(sha256:[0-9a-f]{64})", line)):
            current.append(digest[1])
    return pins


def _base_image(config: DeploymentConfig) -> str:
    container = config.container
    image = container.Image if container else None
    if not isinstance(image, str) or not image:
        raise ConfigError(
            Issue(
                "Model.PrimaryContainer.Image",
                "the self-hosted image builds FROM the model's "
                "image: give its URI (a framework reference is resolved by precheck first)",
            )
        )
    problem = image_reference_problem(image)
    if problem:
        raise ConfigError(Issue("Model.PrimaryContainer.Image", problem))
    return image


# The builder stage's tools, pinned: uv (the same release the kit's Makefile uses) and a glibc base to run it on.
UV_IMAGE = "ghcr.io/astral-sh/uv:0.13.8"
BUILDER_IMAGE = "debian:12.8-slim"
OPT = "/opt/clarify-kit"


def python_version() -> str:
    """The CPython the image's explainer runs on: the kit's own (tested) version."""
    return ".".join(str(v) for v in sys.version_info[:3])


def _minor() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def dockerfile(config: DeploymentConfig) -> str:
    """The Dockerfile text (hadolint-clean): a builder stage with the explainer's own Python and packages under
    /opt/clarify-kit, copied into the model's image; nothing installed into, or set in, the model's environment."""
    settings = config.ClarifyKit.SelfHosted
    return f"""# syntax=docker/dockerfile:1
# Generated by clarify-kit: the model's image with the self-hosted explainer in front of its model server.
FROM {UV_IMAGE} AS uv

# The explainer's own interpreter and packages, under {OPT} (relocatable; built apart from the model's image).
FROM {BUILDER_IMAGE} AS runtime
SHELL ["/bin/sh", "-e", "-c"]
COPY --from=uv /uv /usr/local/bin/uv
COPY requirements.txt {OPT}/requirements.txt
RUN UV_PYTHON_INSTALL_DIR={OPT}/python uv python install {python_version()} \\
    && UV_PYTHON_INSTALL_DIR={OPT}/python uv venv --relocatable --python {python_version()} {OPT}/venv \\
    && uv pip install --no-cache --python {OPT}/venv/bin/python --no-deps -r {OPT}/requirements.txt
COPY kit/clarify_kit/ {OPT}/venv/lib/python{_minor()}/site-packages/clarify_kit/
COPY config.json entrypoint.sh {OPT}/

# The model's image, as it is, with the explainer beside it.
FROM {_base_image(config)}
COPY --from=runtime {OPT} {OPT}
EXPOSE 8080
LABEL com.amazonaws.sagemaker.clarify-kit.model-port="{settings.ModelPort}"
{_user(settings.User)}ENTRYPOINT ["/bin/sh", "{OPT}/entrypoint.sh"]
"""


def _user(user: str | None) -> str:
    if user is None:
        return ""
    # A numeric user id: the host resolves it whatever the image's /etc/passwd holds (hadolint DL3066).
    return f"RUN useradd --system --uid {USER_ID} --no-create-home --shell /usr/sbin/nologin {user}\nUSER {USER_ID}\n"


# The explainer's interpreter in isolated mode (-I: no PYTHON* variables, no user site), the kit in its own venv.
ENTRYPOINT = f"""#!/bin/sh
# SageMaker starts the container as `IMAGE serve`: the explainer on 8080, with its own interpreter and packages; it
# starts the model server of the config (ClarifyKit.SelfHosted: ModelCommand on ModelPort, verbatim) with the base
# image's environment.
set -e
exec {OPT}/venv/bin/python -I -m clarify_kit serve-container {OPT}/config.json --port 8080 --start-model
"""


# Lists what build_context wrote, so that a later run replaces exactly that and nothing else.
MARKER = ".clarify-kit-context"
_WRITTEN = ("Dockerfile", "requirements.txt", "config.json", "entrypoint.sh", "kit", MARKER)


def _clear(out: Path) -> None:
    """Remove what an earlier build_context wrote into ``out``; refuse when ``out`` holds anything else."""
    if not out.exists():
        return
    if not out.is_dir():
        raise KitError(f"{out} is not a directory: give a new or empty directory for the build context")
    present = sorted(p.name for p in out.iterdir())
    if not present:
        return
    marker = out / MARKER
    listed = set(marker.read_text(encoding="utf-8").split()) if marker.is_file() and not marker.is_symlink() else set()
    others = [name for name in present if name not in listed or name not in _WRITTEN]
    if not listed or others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise KitError(
            f"{out} holds files the kit did not write ({shown}): give a new or empty directory, or one that only "
            "holds a build context the kit wrote (nothing else is ever removed)"
        )
    for name in present:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def runtime_config(config: DeploymentConfig) -> dict[str, Any]:
    """The config the image's runtime needs: everything but the model's Environment, which SageMaker gives the
    container at run time (and which may hold secrets that must not be baked into an image)."""
    data: dict[str, Any] = config.model_dump(mode="json", exclude_none=True)
    model = data.get("Model", {})
    for container in [model.get("PrimaryContainer"), *model.get("Containers", [])]:
        if isinstance(container, dict):
            container.pop("Environment", None)
    return data


def build_context(config: DeploymentConfig, directory: str | Path) -> Path:
    """Write the image's build context into ``directory``: Dockerfile, requirements.txt, the config as JSON (without
    the model's Environment), the entrypoint and the kit's packages (sources only). ``directory`` is new, empty, or
    holds only what an earlier call wrote (listed in its marker file), which is replaced.

    Raises
    ------
    KitError: ``directory`` holds anything else; nothing is removed.
    """
    out = Path(directory)
    _clear(out)
    (out / "kit").mkdir(parents=True)
    (out / "Dockerfile").write_text(dockerfile(config))
    (out / "requirements.txt").write_text("\n".join(runtime_requirements(config)) + "\n")
    (out / "config.json").write_text(json.dumps(runtime_config(config), indent=2, sort_keys=True) + "\n")
    (out / "entrypoint.sh").write_text(ENTRYPOINT)
    shutil.copytree(
        PACKAGE, out / "kit" / "clarify_kit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "stacks")
    )
    (out / MARKER).write_text("\n".join(_WRITTEN) + "\n")
    return out
