"""The journal of a bulk run: each finished record, one JSON line, flushed as it finishes, so that an interrupted
run resumes exactly where it stopped, and only the run it belongs to.

Its first line ties it to the run: the input's content, the endpoint, the config, EnableExplanations, the target
model and the content types. Resuming with any of them different is refused, naming the difference; every line is
validated, so a journal that was edited or damaged is refused rather than trusted. An exclusive lock on the output
keeps a second run from writing (or deleting) the journal of one that is going.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from clarify_kit.client.bulk.outcomes import STATUSES, RecordOutcome
from clarify_kit.core.errors import KitError

__all__ = ["Journal", "run_identity"]

VERSION = 2
# What a journal header names, as the differences are told to the user.
_NAMES = {
    "input_sha256": "the input file's content",
    "records": "the number of input records",
    "endpoint": "the endpoint",
    "config_sha256": "the config",
    "enable_explanations": "EnableExplanations",
    "target_model": "the target model",
    "content_type": "the content type",
    "accept": "the Accept type",
}


def run_identity(lines: list[str], **facts: Any) -> dict[str, Any]:
    """The header of a run's journal: the input's digest and count, and ``facts`` (endpoint, config digest...)."""
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return {"clarify_kit_journal": VERSION, "input_sha256": digest, "records": len(lines), **facts}


class Journal:
    """``.<output>.journal`` beside the output, and ``.<output>.lock`` held while a run writes it."""

    def __init__(self, output: Path, header: dict[str, Any]) -> None:
        self.path = output.with_name(f".{output.name}.journal")
        self.lock_path = output.with_name(f".{output.name}.lock")
        self.header = header
        self._handle: TextIO | None = None
        self._lock: TextIO | None = None

    def lock(self) -> None:
        """Take the output for this run, or say that another run has it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.lock_path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise KitError(
                f"{self.path.with_name(self.path.name[1 : -len('.journal')])}: another clarify-kit explain "
                "is writing this output now; wait for it, or choose another --output"
            ) from None
        self._lock = handle

    def load(self) -> dict[int, RecordOutcome]:
        """The outcomes of an interrupted run of the same input (the last one of a record wins).

        Raises
        ------
        KitError: the journal belongs to another run (the difference named) or is corrupt.
        """
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            first = handle.readline()
            head = _json_object(first)
            if head is None or "clarify_kit_journal" not in head:
                raise self._corrupt("its first line is not the header of a clarify-kit journal")
            if head["clarify_kit_journal"] != VERSION:
                raise KitError(
                    f"{self.path} belongs to another version of clarify-kit (journal version "
                    f"{_show(head['clarify_kit_journal'])}; this one writes {VERSION}): delete it to "
                    "start afresh"
                )
            differences = [
                f"{_NAMES.get(k, k)} ({_show(head.get(k))} in the journal, {_show(v)} now)"
                for k, v in self.header.items()
                if k != "clarify_kit_journal" and head.get(k) != v
            ]
            if differences:
                raise KitError(
                    f"{self.path} belongs to another run: " + "; ".join(differences) + ". Delete it to "
                    "start afresh, or resume with the same input, endpoint and options"
                )
            return self._outcomes(handle)

    def _outcomes(self, handle: TextIO) -> dict[int, RecordOutcome]:
        done: dict[int, RecordOutcome] = {}
        lines = handle.read().split("\n")
        complete = lines[:-1]  # the last piece has no newline: a run killed while writing it
        for number, line in enumerate(complete, start=2):
            outcome = _outcome(line, int(self.header["records"]))
            if outcome is None:
                raise self._corrupt(f"line {number} is not a finished record")
            done[outcome.index] = outcome
        return done

    def _corrupt(self, why: str) -> KitError:
        return KitError(f"corrupt journal {self.path}: {why}; delete it, or run without --resume")

    def open(self, done: dict[int, RecordOutcome]) -> None:
        handle = self.path.open("w", encoding="utf-8")
        handle.write(json.dumps(self.header) + "\n")
        for outcome in done.values():
            handle.write(json.dumps(asdict(outcome)) + "\n")
        handle.flush()
        self._handle = handle

    def append(self, outcome: RecordOutcome) -> None:
        assert self._handle is not None
        self._handle.write(json.dumps(asdict(outcome)) + "\n")
        self._handle.flush()

    def close(self, *, remove: bool) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if remove:
            self.path.unlink(missing_ok=True)
        if self._lock is not None:
            self.lock_path.unlink(missing_ok=True)
            self._lock.close()
            self._lock = None


def _show(value: Any) -> str:
    if isinstance(value, str) and len(value) == 64:
        return value[:12] + "..."  # a digest
    return json.dumps(value)


def _json_object(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value
    )


def _outcome(line: str, records: int) -> RecordOutcome | None:
    """The outcome a journal line holds, or None when the line is not one the kit writes."""
    row = _json_object(line)
    keys = {"index", "status", "reason", "scores", "attributions", "units"}
    if row is None or set(row) - {"standard_errors"} != keys:
        return None
    errors = row.get("standard_errors") or {}
    if not isinstance(errors, dict) or not all(isinstance(k, str) and _numbers(v) for k, v in errors.items()):
        return None
    index, status, attributions = row["index"], row["status"], row["attributions"]
    if type(index) is not int or not 0 <= index < records or status not in STATUSES:
        return None
    if not isinstance(row["reason"], str) or not (row["scores"] is None or _numbers(row["scores"])):
        return None
    if not isinstance(attributions, dict) or not all(
        isinstance(k, str) and _numbers(v) for k, v in attributions.items()
    ):
        return None
    if not isinstance(row["units"], list) or (status == "explained") != bool(attributions):
        return None
    return RecordOutcome(index, status, row["reason"], row["scores"], attributions, row["units"], errors)
