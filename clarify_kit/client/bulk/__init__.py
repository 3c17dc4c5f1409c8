"""Bulk explanation of a CSV or JSON Lines file: every record ends up explained, not explained, or failed.

Records are read (``records``), grouped into requests under the 6 MiB body limit and the latency budget (``plan``),
sent by a bounded pool of workers that retries transient failures and bisects requests that fail for good
(``pool``), shown as they finish (``progress``), kept in a journal for ``--resume`` (``journal``) and written out
(``writers``); ``run`` puts them together for a file.
"""

from clarify_kit.client.bulk.outcomes import BulkInterrupted, BulkSummary, RecordOutcome, record_outcome
from clarify_kit.client.bulk.output import read_explain_output, write_outcomes
from clarify_kit.client.bulk.plan import default_records_per_request, plan_requests
from clarify_kit.client.bulk.pool import explain_records
from clarify_kit.client.bulk.records import read_records
from clarify_kit.client.bulk.run import explain_file

__all__ = [
    "BulkInterrupted",
    "BulkSummary",
    "RecordOutcome",
    "default_records_per_request",
    "explain_file",
    "explain_records",
    "plan_requests",
    "read_explain_output",
    "read_records",
    "record_outcome",
    "write_outcomes",
]
