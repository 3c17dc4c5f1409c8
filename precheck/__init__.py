"""Precheck: everything that can go wrong at deploy or invoke time, found locally before release."""

from __future__ import annotations

from pathlib import Path

from clarify_kit.config import DeploymentConfig, load_config
from clarify_kit.errors import ConfigError, ConfigFileError
from precheck.report import Finding, Report
from precheck.rules import static_precheck

__all__ = ["Finding", "Report", "precheck_file", "static_precheck"]


def precheck_file(path: str | Path, *, container_url: str | None = None) -> tuple[Report, DeploymentConfig | None]:
    """Load ``path`` and run the static precheck (and the container precheck when ``container_url`` is given).

    Returns the report and the config (None when the file did not validate). Schema problems become error
    findings; a file that cannot be read or parsed raises ConfigFileError.
    """
    try:
        config = load_config(path)
    except ConfigFileError:
        raise
    except ConfigError as err:
        report = Report()
        for issue in err.issues:
            report.add("error", issue.path, issue.message, "schema")
        return report, None
    if container_url is None:
        return static_precheck(config), config
    from precheck.container import container_precheck

    return container_precheck(config, container_url), config
