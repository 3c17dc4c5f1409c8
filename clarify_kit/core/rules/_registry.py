"""The rule registry: each static rule registered once with its id, title, source and fix, and where it writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.findings import Assessment, Level
from clarify_kit.core.rules.context import Context

__all__ = ["RULES", "Check", "Findings", "Rule", "rule"]


class Findings:
    """Where one rule writes: every finding carries that rule's id."""

    def __init__(self, report: Assessment, rule: Rule, config: DeploymentConfig) -> None:
        self._report = report
        self._rule = rule
        self._config = config

    def _add(self, level: Level, path: str, message: str) -> None:
        self._report.add(level, path, message, self._rule.id)

    def error(self, path: str, message: str) -> None:
        self._add("error", path, message)

    def warn(self, path: str, message: str) -> None:
        self._add("warning", path, message)

    def note(self, path: str, message: str) -> None:
        self._add("note", path, message)

    def kit_error(self, path: str, message: str) -> None:
        """An error of a kit rule that the config may relax to a warning with a reasoned opt-out."""
        opt_out = self._config.ClarifyKit.opt_out(self._rule.id)
        if opt_out:
            self.warn(path, f"{message} (accepted by opt-out: {opt_out.Reason})")
        else:
            self.error(path, message)


Check = Callable[[Context, Findings], None]


@dataclass(frozen=True)
class Rule:
    """One static rule: its id (as in docs/explainer.md 5.2, or the kit's name), a title, the
    API or documentation source it enforces, the fix it suggests, and the check itself."""

    id: str
    title: str
    source: str
    fix: str
    check: Check


RULES: list[Rule] = []


def rule(rule_id: str, *, title: str, source: str, fix: str) -> Callable[[Check], Check]:
    """Register ``check`` as a rule; the registration order is the order of the report."""

    def register(check: Check) -> Check:
        if any(r.id == rule_id for r in RULES):
            raise RuntimeError(f"rule {rule_id} is registered twice")
        RULES.append(Rule(rule_id, title, source, fix, check))
        return check

    return register
