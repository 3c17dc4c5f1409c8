"""Precheck: everything that can go wrong at deploy or invoke time, found locally before release.

The package's names; the work is in its modules: ``checks`` (a config file's precheck), ``container`` (the model
container probed over HTTP), ``report`` (findings and their rendering) and ``export`` (JUnit and SARIF).
"""

from __future__ import annotations

from clarify_kit.precheck.checks import CheckedConfig, collisions, load_checked, precheck_file, static_precheck
from clarify_kit.precheck.report import Finding, Report

__all__ = ["CheckedConfig", "Finding", "Report", "collisions", "load_checked", "precheck_file", "static_precheck"]
