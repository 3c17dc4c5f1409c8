"""Precheck results where CI systems show findings: SARIF 2.1.0 (GitHub code scanning and other SARIF viewers show
each finding on its line of the config file) and JUnit XML (one test case per config and rule)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clarify_kit.adapters.files import write_xml
from clarify_kit.core.junit import Case, Suite, junit_tree
from clarify_kit.core.rules import RULES
from clarify_kit.core.version import __version__
from clarify_kit.precheck.report import Finding, Report

__all__ = ["sarif_log", "write_junit"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

# Findings that come from outside the static rule registry: the schema, the container probe, image resolution and
# collisions between configs checked together.
_OTHER_RULES = {
    "schema": (
        "The config validates against the SageMaker API shapes and the kit's settings",
        "fix the field named in the message",
    ),
    "container": (
        "The model container answers the explainer's requests as the explainer sends them",
        "fix the container, or the config's content types and limits, as the message says",
    ),
    "image": ("A framework image referenced by name resolves to a registry URI", ""),
    "collision": (
        "Configs deployed together do not replace each other's stack or endpoint",
        "set the stack or endpoint name in one of them",
    ),
}


def _rules() -> list[dict[str, Any]]:
    described = [(r.id, r.title, r.fix, r.source) for r in RULES]
    described += [
        (rid, title, fix, "clarify-kit")
        for rid, (title, fix) in _OTHER_RULES.items()
        if all(r.id != rid for r in RULES)
    ]
    return [
        {
            "id": rid,
            "name": rid,
            "shortDescription": {"text": title},
            "help": {"text": f"{title}. Fix: {fix}" if fix else title},
            "properties": {"source": source},
        }
        for rid, title, fix, source in described
    ]


def _uri(file: str) -> str:
    """A file's URI relative to the working directory (the repository root in CI), POSIX separators,
    percent-encoded (RFC 3986: a space, ``#``, ``%`` or ``?`` in a file name must not change what the URI names)."""
    path = Path(file)
    try:
        relative = path.resolve().relative_to(Path.cwd().resolve()) if path.is_absolute() else path
    except ValueError:
        return path.resolve().as_uri()
    return quote(relative.as_posix(), safe="/")


def _result(finding: Finding, file: str, rule_index: Mapping[str, int]) -> dict[str, Any]:
    rule_id = finding.rule or "schema"
    text = f"{finding.path}: {finding.message}" if finding.path else finding.message
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "level": finding.level,
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(finding.file or file), "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": max(1, finding.line), "startColumn": max(1, finding.column)},
                },
                "logicalLocations": [{"fullyQualifiedName": finding.path, "kind": "member"}] if finding.path else [],
            }
        ],
        # The same finding on a later run matches this one even when lines move (code scanning's fingerprint).
        "partialFingerprints": {"clarifyKitFinding/v1": f"{rule_id}:{finding.path}"},
    }
    if rule_id in rule_index:
        result["ruleIndex"] = rule_index[rule_id]
    if not result["locations"][0]["logicalLocations"]:
        del result["locations"][0]["logicalLocations"]
    return result


def sarif_log(
    reports: Mapping[str, Report], extra: Iterable[Finding] = (), failed_files: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One SARIF log with one run: every finding of every config, each at its file, line and column.

    ``extra``: findings that belong to no single report (collisions); ``failed_files``: configs that could not be
    read at all (path -> message), reported as errors at their first line.
    """
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = [_result(f, file, index) for file, report in reports.items() for f in report.findings]
    results += [_result(f, f.file, index) for f in extra]
    for file, message in (failed_files or {}).items():
        results.append(_result(Finding("error", "", message, "schema", file, 1, 1), file, index))
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "clarify-kit",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def write_junit(
    reports: Mapping[str, Report],
    path: str | Path,
    extra: Iterable[Finding] = (),
    failed_files: Mapping[str, str] | None = None,
) -> Path:
    """JUnit XML: a test suite per config and a test case per rule that ran; error findings are failures (with
    their file:line:column), warnings and notes go to the case's output."""
    suites = [_suite(file, report.findings, file=file) for file, report in reports.items()]
    if extra := list(extra):
        suites.append(_suite("configs checked together", extra))
    for file, message in (failed_files or {}).items():
        suites.append(_suite(file, [Finding("error", "", message, "schema", file, 1, 1)], file=file))
    return write_xml(junit_tree(suites, name="clarify-kit precheck"), path)


def _suite(name: str, findings: list[Finding], *, file: str = "") -> Suite:
    by_rule: dict[str, list[Finding]] = {r.id: [] for r in RULES}
    for finding in findings:
        by_rule.setdefault(finding.rule or "schema", []).append(finding)
    cases = []
    for rule_id, found in by_rule.items():
        failing = [f for f in found if f.level == "error"]
        others = [f for f in found if f.level != "error"]
        cases.append(
            Case(
                rule_id,
                f"precheck.{Path(file).stem if file else 'configs'}",
                ok=not failing,
                failures=tuple(
                    (f"{f.path}: {f.message}" if f.path else f.message, f"{f.location or name}: {f.message}")
                    for f in failing
                ),
                output="\n".join(f"{f.level} {f.location or name} {f.path}: {f.message}" for f in others),
                file=file or None,
                failure_type=rule_id,
            )
        )
    return Suite(name, cases)
