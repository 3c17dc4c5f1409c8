"""Benchmark goals: each check prints its verdict next to the figures; a benchmark exits 1 when one was missed."""

from __future__ import annotations

_missed: list[str] = []


def goal(description: str, met: bool) -> None:
    """Print whether the goal ``description`` was met in this run, and remember a miss."""
    print(f"  goal {'met' if met else 'MISSED'}: {description}", flush=True)
    if not met:
        _missed.append(description)


def exit_status() -> int:
    """1 when any goal of this process was missed, else 0."""
    return 1 if _missed else 0
