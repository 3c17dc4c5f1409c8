"""Explaining a whole file: every record ends up in the output as explained, not explained, or failed."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from clarify_kit.client.bulk.journal import Journal, run_identity
from clarify_kit.client.bulk.outcomes import BulkInterrupted, BulkSummary
from clarify_kit.client.bulk.output import write_outcomes
from clarify_kit.client.bulk.pool import explain_records
from clarify_kit.client.bulk.records import read_records
from clarify_kit.client.invoke import EndpointClient
from clarify_kit.core.errors import KitError

__all__ = ["explain_file"]


def explain_file(
    client: EndpointClient,
    input_path: str | Path,
    output_path: str | Path,
    *,
    content_type: str | None = None,
    header: bool = False,
    progress: bool = True,
    resume: bool = False,
    **options: Any,
) -> BulkSummary:
    """Explain every record of a file into ``output_path`` (CSV, or JSON Lines for a .jsonl output).

    Finished records go to a journal beside the output as they finish; the output itself is written, complete
    and in input order, only at the end. After an interruption (Ctrl-C, a crash), ``resume=True`` sends only the
    records the journal does not hold as explained or not explained (failed ones are tried again); the journal
    must belong to the same input, endpoint, config and options.

    Raises
    ------
    BulkInterrupted: Ctrl-C; the finished records are kept in the journal for ``resume``.
    KitError: a journal from an interrupted run exists and ``resume`` is False, it belongs to another run or is
        corrupt, or another run is writing the same output.
    """
    lines, kind = read_records(
        input_path, content_type or (client.spec.content_type if client.spec else None), header=header
    )
    output = Path(output_path)
    journal = Journal(output, run_identity(lines, **_run_facts(client, kind, options)))
    journal.lock()
    try:
        return _explain(client, journal, lines, kind, output, resume=resume, progress=progress, options=options)
    finally:
        journal.close(remove=False)


def _explain(
    client: EndpointClient,
    journal: Journal,
    lines: list[str],
    kind: str,
    output: Path,
    *,
    resume: bool,
    progress: bool,
    options: dict[str, Any],
) -> BulkSummary:
    if journal.path.exists() and not resume:
        raise KitError(
            f"{output}: an interrupted run left {journal.path}; pass --resume to finish it, or delete "
            "the journal to start afresh"
        )
    done = journal.load() if resume and journal.path.exists() else {}
    done = {i: o for i, o in done.items() if o.status != "failed"}
    pending = [i for i in range(len(lines)) if i not in done]
    journal.open(done)
    try:
        fresh = explain_records(
            client,
            lines,
            content_type=kind,
            progress=sys.stderr if progress else None,
            indexes=pending,
            on_outcome=journal.append,
            **options,
        )
    except BulkInterrupted as stop:
        kept = len(done) + stop.summary.count_finished()
        raise BulkInterrupted(
            stop.summary,
            f"interrupted: {kept} of {len(lines)} records finished, kept in "
            f"{journal.path}; run the same command with --resume to finish",
        ) from None
    outcomes = sorted([*done.values(), *fresh.outcomes], key=lambda o: o.index)
    summary = BulkSummary(outcomes, fresh.requests, fresh.retries, fresh.seconds, fresh.latencies_ms)
    write_outcomes(summary, output, client.spec.label_headers if client.spec else None)
    journal.close(remove=True)
    return summary


def _run_facts(client: EndpointClient, kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """What makes two runs the same run, beside the input: where they send and what they ask."""
    config = client.config
    digest = None
    if config is not None:
        dumped = json.dumps(config.model_dump(mode="json", exclude_unset=True), sort_keys=True)
        digest = hashlib.sha256(dumped.encode("utf-8")).hexdigest()
    return {
        "endpoint": client.endpoint_name,
        "config_sha256": digest,
        "enable_explanations": options.get("enable_explanations"),
        "target_model": options.get("target_model"),
        "content_type": kind,
        "accept": client.spec.accept if client.spec else None,
    }
