"""The precheck of a config file: the static assessment as a report, with the file's positions, the container
probe when asked, collisions between configs, and the checked config that synthesis and deployment load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clarify_kit.adapters.baseline import baseline_for
from clarify_kit.adapters.files import read_document
from clarify_kit.adapters.images import default_region, resolve_images
from clarify_kit.core.config import DeploymentConfig, config_from_document, position_of
from clarify_kit.core.errors import ConfigError
from clarify_kit.core.rules import assess
from clarify_kit.precheck.report import Finding, Report

__all__ = ["CheckedConfig", "collisions", "load_checked", "precheck_file", "static_precheck"]


def static_precheck(
    config: DeploymentConfig,
    *,
    measured_ms_per_record: float | None = None,
    measured_batch: int | None = None,
    baseline_text: str | None = None,
) -> Report:
    """The core's assessment of ``config`` (clarify_kit.core.rules.assess, same parameters) as a precheck report."""
    return Report.from_assessment(
        assess(
            config,
            measured_ms_per_record=measured_ms_per_record,
            measured_batch=measured_batch,
            baseline_text=baseline_text,
        )
    )


def precheck_file(
    path: str | Path,
    *,
    container_url: str | None = None,
    region: str | None = None,
    baseline_file: str | Path | None = None,
    read_s3_baseline: bool | None = None,
    profile: str | None = None,
) -> tuple[Report, DeploymentConfig | None]:
    """Load ``path`` and run the static precheck (and the container precheck when ``container_url`` is given).

    A framework image reference is resolved for ``region`` (default: the environment's, else us-east-1) and the
    URI reported. An S3 baseline (ShapBaselineUri) is read, and checked like an inline one, from
    ``baseline_file`` when given, else from S3 when ``read_s3_baseline`` (default: only when the container is
    probed, which needs its records). Returns the report and the (resolved) config, None when the file did not
    validate. Schema problems become error findings; a file that cannot be read or parsed raises ConfigFileError.
    """
    positions: dict[str, tuple[int, int]] = {}
    try:
        document = read_document(path)  # read and parsed once: the positions come from this parse
        positions = document.positions
        config, uri = resolve_images(config_from_document(document, source=str(path)), region, assume_default=True)
        read_s3 = container_url is not None if read_s3_baseline is None else read_s3_baseline
        baseline_text = baseline_for(
            config, baseline_file=baseline_file, read_s3=read_s3, region_name=region, profile_name=profile
        )
    except ConfigError as err:
        report = Report()
        for issue in err.issues:
            report.add("error", issue.path, issue.message, "schema")
        _note_outside(report, path)
        report.locate(path, err.positions or positions)
        return report, None
    if container_url is None:
        report = static_precheck(config, baseline_text=baseline_text)
    else:
        from clarify_kit.precheck.container import container_precheck

        report = container_precheck(config, container_url, baseline_text=baseline_text)
    if uri:
        report.add("note", "Model.PrimaryContainer.Image", f"resolved for {region or default_region()}: {uri}", "image")
    report.locate(path, positions)
    return report, config


def _note_outside(report: Report, path: str | Path) -> None:
    """Say so when the config given by a path in the working directory is really a file outside it (a link)."""
    given, cwd = Path(path), Path.cwd().resolve()
    resolved = given.resolve()
    inside = (cwd / given).absolute() if not given.is_absolute() else given.absolute()
    if resolved != inside and not resolved.is_relative_to(cwd):
        report.add("note", "", f"{path} is a link to {resolved}, outside the working directory", "file")


def collisions(configs: dict[str, DeploymentConfig]) -> list[Finding]:
    """Warnings for configs that would collide when deployed into one app or account: the same stack name (one
    CloudFormation stack would replace the other) or the same endpoint name (explicit or derived)."""
    from clarify_kit.core.resources import resource_names

    found: list[Finding] = []
    for what, key in (
        ("ClarifyKit.StackName", lambda c: c.ClarifyKit.StackName),
        ("Endpoint.EndpointName", lambda c: resource_names(c).endpoint.lower()),
    ):
        seen: dict[str, str] = {}
        for path, config in configs.items():
            value = key(config)
            if value in seen:
                line, column = position_of(what, config.positions)
                found.append(
                    Finding(
                        "warning",
                        what,
                        f"{path} and {seen[value]} both give {value!r}: deployed into "
                        "one account and region, one would replace or collide with the other; set "
                        f"{what} in one of them",
                        "collision",
                        str(path),
                        line,
                        column,
                    )
                )
            else:
                seen[value] = path
    return found


@dataclass(frozen=True)
class CheckedConfig:
    """A config that passed the static precheck: the config (images resolved), its warnings as ``path: message``
    lines, and the explainer latency estimate per InvokeEndpoint call (None when it could not be estimated)."""

    config: DeploymentConfig
    warnings: list[str]
    latency_estimate_s: float | None


def load_checked(path: str | Path, *, region: str | None = None) -> CheckedConfig:
    """Load and statically precheck a config, for synthesis and deployment.

    Raises
    ------
    ConfigError: the file is unreadable or has precheck errors; ``issues`` holds the same path: message lines
        as ``clarify-kit precheck``.
    """
    report, config = precheck_file(path, region=region)
    report.raise_for_errors()
    assert config is not None  # a config that did not validate has errors
    warnings = [f"{f.path}: {f.message}" for f in report.warnings]
    return CheckedConfig(config, warnings, report.latency.seconds if report.latency else None)
