"""The precheck report: the core's assessment with file positions and container checks, rendered for terminals
and as the documented JSON object."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from clarify_kit.core._document import Positions, position_of
from clarify_kit.core.findings import Assessment, Finding, Level
from clarify_kit.core.safe_text import terminal_safe

__all__ = ["Finding", "Level", "Report", "unreadable_report"]


@dataclass
class Report(Assessment):
    """Everything a precheck found (the rules' assessment, plus the container precheck's checks); ``ok`` when there
    is no error."""

    checks: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_assessment(cls, assessment: Assessment) -> Report:
        return cls(list(assessment.findings), assessment.synthetic, assessment.latency)

    def locate(self, file: str | Path, positions: Positions) -> None:
        """Give every finding its line and column in ``file`` (the field's key, else its nearest ancestor's), from
        the positions recorded when the file was parsed."""
        for i, f in enumerate(self.findings):
            line, column = position_of(f.path, positions)
            self.findings[i] = replace(f, file=str(file), line=line, column=column)

    def extend(self, other: Report) -> None:
        self.findings.extend(other.findings)
        self.checks.extend(other.checks)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "errors": [f.as_dict() for f in self.errors],
            "warnings": [f.as_dict() for f in self.warnings],
            "notes": [f.as_dict() for f in self.of("note")],
            "synthetic_dataset": self.synthetic.as_dict(),
            "latency": self.latency.as_dict() if self.latency else None,
        }
        if self.checks:
            out["checks"] = self.checks
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def render(self, *, color: bool = False) -> str:
        """A terminal rendering: errors, then warnings, then notes, then the estimate and a verdict."""
        marks = {"error": ("✗", "31"), "warning": ("!", "33"), "note": ("·", "36")}
        lines: list[str] = []
        for check in self.checks:
            mark = "✓" if check["ok"] else "✗"
            lines.append(f"{mark} {check['name']}: {check['summary']}")
        levels: tuple[Level, ...] = ("error", "warning", "note")
        for level in levels:
            for f in self.of(level):
                sign, code = marks[level]
                head = f"\033[{code}m{sign} {level}\033[0m" if color else f"{sign} {level}"
                body = terminal_safe(f.message).replace("\n", "\n    ")
                where = terminal_safe(
                    " ".join(part for part in (f.path, f"({f.location})" if f.location else "") if part)
                )
                lines.append(f"{head} {where}: {body}" if where else f"{head} {body}")
        s = self.synthetic
        if s.n_features is not None:
            size = s.size if s.size is not None else "unknown (baseline size unknown)"
            lines.append(
                f"synthetic dataset: {s.n_features} features, {s.n_samples} samples x "
                f"{s.baseline_records if s.baseline_records is not None else '?'} baseline records = {size} records"
            )
        if self.latency:
            lat = self.latency
            lines.append(
                f"latency estimate: {lat.seconds:.2f} s per InvokeEndpoint call "
                f"({lat.share_of_limit:.0%} of the 60 s limit; {lat.container_requests} container requests of up to "
                f"{lat.records_per_request} records; "
                + (
                    "container speed measured)"
                    if lat.measured
                    else "container speed assumed from ClarifyKit.Latency: --container-url measures it)"
                )
            )
        verdict = "precheck passed" if self.ok else f"precheck failed: {len(self.errors)} error(s)"
        lines.append(f"{verdict}, {len(self.warnings)} warning(s)")
        return "\n".join(lines)


def unreadable_report(message: str) -> dict[str, Any]:
    """The JSON object of a config that could not be read or parsed at all: the report's shape, one error."""
    return {
        "ok": False,
        "errors": [{"path": "", "message": message}],
        "warnings": [],
        "notes": [],
        "synthetic_dataset": None,
        "latency": None,
    }
