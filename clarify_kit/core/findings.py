"""What judging a config finds: findings (level, field path, message, rule) and the facts derived with them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from clarify_kit.core.errors import ConfigError, Issue
from clarify_kit.core.synthetic import LatencyEstimate, SyntheticDataset

__all__ = ["Assessment", "Finding", "Level"]

Level = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Finding:
    """One result: its level, the dotted field path, the message and the rule that produced it, and where in the
    config file the field stands (set by precheck's Report.locate; a finding about no file has none)."""

    level: Level
    path: str
    message: str
    rule: str = ""
    file: str = ""
    line: int = 0
    column: int = 0

    @property
    def location(self) -> str:
        """``file:line:column`` as editors and CI logs link it, or "" when the finding has no place in a file."""
        return f"{self.file}:{self.line}:{self.column}" if self.file and self.line else ""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "message": self.message}
        if self.rule:
            out["rule"] = self.rule
        if self.location:
            out.update(location=self.location, file=self.file, line=self.line, column=self.column)
        return out


@dataclass
class Assessment:
    """Everything the rules found in one config, with the synthetic-dataset size and the latency estimate they
    derived; ``ok`` when there is no error."""

    findings: list[Finding] = field(default_factory=list)
    synthetic: SyntheticDataset = field(default_factory=lambda: SyntheticDataset(None, None, None, None))
    latency: LatencyEstimate | None = None
    records_per_request: int | None = None  # synthetic records per explainer-to-container request

    def add(self, level: Level, path: str, message: str, rule: str = "") -> None:
        self.findings.append(Finding(level, path, message, rule))

    def of(self, level: Level) -> list[Finding]:
        return [f for f in self.findings if f.level == level]

    @property
    def errors(self) -> list[Finding]:
        return self.of("error")

    @property
    def warnings(self) -> list[Finding]:
        return self.of("warning")

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise ConfigError with every error as ``path: message``, as ``clarify-kit precheck`` prints them."""
        if self.errors:
            raise ConfigError([Issue(f.path, f.message) for f in self.errors])
