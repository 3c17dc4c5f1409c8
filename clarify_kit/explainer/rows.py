"""The explainer's synthetic rows: the Kernel SHAP plan of each record to explain, its rows composed in the request's
format (docs/explainer.md 3.3, 3.6), and the container batches they are sent in (3.4)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clarify_kit.core.codecs import base_content_type, format_csv_row, template_parts
from clarify_kit.core.errors import CodecError
from clarify_kit.core.kernel_shap import Coalitions, plan
from clarify_kit.core.limits import AUTO_RECORD_COUNT
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.core.synthetic import n_samples
from clarify_kit.core.text_units import Unit, compose, split_units
from clarify_kit.explainer.runtime_errors import ServiceError
from clarify_kit.explainer.transport import batches_of

__all__ = ["Batch", "Record", "SyntheticRows"]

# Synthetic rows composed at a time (at least a batch): small enough that the first batch leaves at once, large
# enough that numpy composes them in a few calls.
_COMPOSE_ROWS = 256
# Features per group when composing many synthetic rows (Composer): 16 joined combinations per group (a group's
# flags are read as one 32-bit integer, a byte each: keep it 4).
_GROUP = 4
# 8 << 24 | 4 << 16 | 2 << 8 | 1: four flag bytes, little-endian, to their binary code in the top byte
_CODE_MAGIC = 0x08040201


@dataclass
class Record:
    """One record selected for explanation, with its synthetic rows.

    ``slots`` maps each explained feature (a mask column) to its record feature and, for text, its unit.
    """

    position: int
    features: list[Any]
    plan: Coalitions
    rows: list[str] = field(default_factory=list)
    slots: list[tuple[int, Unit | None]] | None = None
    # Text: the empty coalition depends on the record (every unit replaced), so its rows follow the plan's.
    empty_rows: bool = False
    # Tabular records are composed batch by batch while earlier batches are scored: the record's encoded cells
    # and its number of rows (masks x baseline records) stand in for ``rows``.
    cells: list[str] | None = None
    row_count: int = 0

    @property
    def size(self) -> int:
        return len(self.rows) if self.cells is None else self.row_count


class Batch:
    """One container request's synthetic records: the body sent (the records joined by newlines, UTF-8) and how
    many there are. The records one by one are made again only when needed (the fallback to single records), so
    that a batch is composed straight into the bytes it is sent as."""

    __slots__ = ("_rows", "body", "count")

    def __init__(self, body: bytes, count: int, rows: Callable[[], list[str]]) -> None:
        self.body, self.count, self._rows = body, count, rows

    @classmethod
    def of(cls, rows: list[str]) -> Batch:
        return cls("\n".join(rows).encode("utf-8"), len(rows), lambda: rows)

    def __len__(self) -> int:
        return self.count

    def rows(self) -> list[str]:
        return self._rows()


class SyntheticRows:
    """The synthetic rows of the records one endpoint config explains, against its baseline."""

    def __init__(self, spec: ExplainerSpec, baseline: list[list[Any]], kinds: list[str]) -> None:
        self.spec, self.baseline, self.kinds = spec, baseline, kinds
        # per content type, the baseline's encoded cells and each column's longest cell in bytes: the same for
        # every request
        self._base: dict[str, tuple[list[list[str]], list[int]]] = {}

    def base_cells(self, kind: str) -> tuple[list[list[str]], list[int]]:
        """The baseline's cells encoded for ``kind``, and the length in bytes of each column's longest."""
        known = self._base.get(kind)
        if known is None:
            cells = self.cells(self.baseline, kind)
            longest = [max(len(c.encode()) for c in column) for column in zip(*cells, strict=True)]
            known = self._base[kind] = (cells, longest)
        return known

    def chunk_rows(self) -> int:
        """Synthetic rows built at once: four container batches (MaxRecordCount, default AUTO_RECORD_COUNT)."""
        return 4 * (self.spec.max_record_count or AUTO_RECORD_COUNT)

    def rows_per_record(self, width: int) -> int:
        return n_samples(width, self.spec.number_of_samples) * len(self.baseline)

    def chunks(self, selected: Sequence[int], requests: list[list[Any]]) -> list[list[int]]:
        chunks: list[list[int]] = []
        rows = 0
        limit = self.chunk_rows()
        width = len(self.baseline[0])
        for position in selected:
            # A text record's size is known once its units are split: one per chunk. A record of the wrong width
            # costs nothing here; building it raises the ValidationError.
            cost = (
                limit if self.spec.is_text else (self.rows_per_record(width) if len(requests[position]) == width else 1)
            )
            if chunks and rows + cost <= limit:
                chunks[-1].append(position)
                rows += cost
            else:
                chunks.append([position])
                rows = cost
        return chunks

    def records(
        self, selected: Sequence[int], requests: list[list[Any]], kind: str, *, planned: bool = True
    ) -> list[Record]:
        """The selected records, checked against the baseline, with their encoded cells and (``planned``) their
        Clarify plan; without it a tabular record's plan is empty: the caller draws its coalitions (the
        self-hosted explainer's rounds)."""
        # Cells stay as the client wrote them (CSV text, JSON values): no float reformatting.
        width = len(self.baseline[0])
        records: list[Record] = []
        for position in selected:
            features = requests[position]
            if len(features) != width:
                raise ServiceError(
                    "ValidationError",
                    f"record {position + 1} has {len(features)} features; the SHAP baseline has {width}",
                )
            if self.spec.is_text:
                records.append(self.text_record(position, features, kind))
                continue
            # fresh draws without a Seed
            coalitions = plan(width, self.spec.number_of_samples, self.spec.seed) if planned else plan(width, 0)
            x = self.cells([features], kind)[0]
            count = len(coalitions.masks) * len(self.baseline)
            records.append(Record(position, features, coalitions, cells=x, row_count=count))
        return records

    def batches(self, records: list[Record], kind: str, limit: int | None) -> Iterator[Batch]:
        """The records' synthetic rows in container batches of at most ``limit`` rows (MaxRecordCount, or 1 after
        the container refused a batch; None: the automatic size) and MaxPayloadInMB, composed as they are sent:
        the batches are the ones the whole list would give."""
        size = limit or AUTO_RECORD_COUNT
        base, longest = self.base_cells(kind)
        if all(self._fits_by_count(r, longest, kind, size) for r in records):
            yield from self._counted_batches(records, base, kind, size)  # no row can break the payload limit
            return
        buffer: list[str] = []
        for rows in self._row_chunks(records, base, kind, max(size, _COMPOSE_ROWS)):
            buffer.extend(rows)
            if not buffer:
                continue
            *full, buffer = batches_of(buffer, limit, self.spec.max_payload_bytes)
            for batch in full:
                yield Batch.of(batch)
            if len(buffer) >= size:
                yield Batch.of(buffer)
                buffer = []
        if buffer:
            yield Batch.of(buffer)

    def _counted_batches(self, records: list[Record], base: list[list[str]], kind: str, size: int) -> Iterator[Batch]:
        """Batches of ``size`` rows across the records, each composed straight into its body."""
        frame = self.frame(kind)
        spans: list[tuple[Composer, int, int]] = []
        filled = 0
        for record in records:
            assert record.cells is not None  # _fits_by_count holds for tabular records only
            composer = Composer(record.cells, base, record.plan.masks, frame)
            start = 0
            while start < record.row_count:
                stop = min(record.row_count, start + size - filled)
                spans.append((composer, start, stop))
                filled += stop - start
                start = stop
                if filled == size:
                    yield spans_batch(spans)
                    spans, filled = [], 0
        if spans:
            yield spans_batch(spans)

    def _fits_by_count(self, record: Record, base_longest: list[int], kind: str, size: int) -> bool:
        """Whether ``size`` of the record's longest possible rows fit MaxPayloadInMB (then no row needs measuring)."""
        if record.cells is None:
            return False
        longest = [max(len(c.encode()), b) for c, b in zip(record.cells, base_longest, strict=True)]
        head, tail = template_parts(self.spec.content_template) if kind != "text/csv" else ("", "")
        row = sum(longest) + max(0, len(longest) - 1) + len(head.encode()) + len(tail.encode()) + 2
        return size * (row + 1) <= self.spec.max_payload_bytes

    def _row_chunks(self, records: list[Record], base: list[list[str]], kind: str, chunk: int) -> Iterator[list[str]]:
        per = max(1, chunk // max(1, len(base)))
        frame = self.frame(kind)
        for record in records:
            if record.cells is None:
                yield record.rows
                continue
            compose = Composer(record.cells, base, record.plan.masks, frame)
            for start in range(0, record.row_count, per * len(base)):
                yield compose.rows(start, min(record.row_count, start + per * len(base)))

    def text_record(self, position: int, features: list[Any], kind: str) -> Record:
        """A record with text features: every unit of every text feature is a feature of its own."""
        spec = self.spec
        kinds = self.kinds
        slots: list[tuple[int, Unit | None]] = []
        units: dict[int, list[Unit]] = {}
        for j, value in enumerate(features):
            if kinds[j] == "text":
                try:
                    units[j] = split_units(str(value), spec.language or "xx", spec.granularity or "token")
                except CodecError as err:
                    raise ServiceError("ValidationError", f"record {position + 1}, feature {j + 1}: {err}") from err
                slots.extend((j, unit) for unit in units[j])
            else:
                slots.append((j, None))
        coalitions = plan(len(slots), spec.number_of_samples, spec.seed)
        masks = np.concatenate([coalitions.masks, np.zeros((1, len(slots)), dtype=bool)])  # + the empty one
        columns: dict[int, list[int]] = {}
        for column, (j, _) in enumerate(slots):
            columns.setdefault(j, []).append(column)
        rows = []
        for mask in masks.tolist():
            for base in self.baseline:
                cells: list[Any] = []
                for j, value in enumerate(features):
                    if j in units:
                        keep = [mask[c] for c in columns.get(j, [])]
                        text = str(value)
                        start = units[j][0].start if units[j] else len(text)
                        cells.append(compose(units[j], keep, str(base[j]), text[:start]) if units[j] else text)
                    else:
                        cells.append(value if mask[columns[j][0]] else base[j])
                rows.append(cells)
        encoded = self.cells(rows, kind)
        return Record(position, features, coalitions, self.lines(encoded, kind), slots, empty_rows=True)

    def synthetic_rows(self, features: list[Any], kind: str | None = None) -> list[str]:
        """The synthetic records the explainer sends to the container to explain one record."""
        kind = base_content_type(kind or self.spec.content_type)
        if self.spec.is_text:  # every text unit is a feature of its own
            return self.text_record(0, features, kind).rows
        masks = plan(len(features), self.spec.number_of_samples, self.spec.seed).masks
        return self.compose_rows(self.cells([features], kind)[0], self.base_cells(kind)[0], masks, kind)

    def cells(self, rows: list[list[Any]], kind: str) -> list[list[str]]:
        if kind == "text/csv":
            return [[csv_cell(v) for v in row] for row in rows]
        return [[json.dumps(v, separators=(",", ":")) for v in row] for row in rows]

    def compose_rows(self, x: list[str], baseline: list[list[str]], masks: np.ndarray, kind: str) -> list[str]:
        return Composer(x, baseline, masks, self.frame(kind)).rows(0, len(masks) * len(baseline))

    def lines(self, cells: list[list[str]], kind: str) -> list[str]:
        """Records from cells already encoded for ``kind`` (the fast path of codecs.encode_record)."""
        if kind == "text/csv":
            return [",".join(row) for row in cells]
        head, tail = self.frame(kind)
        return [f"{head}{','.join(row)}{tail}" for row in cells]

    def frame(self, kind: str) -> tuple[str, str]:
        """What comes before and after a record's comma-separated cells: nothing in CSV; in JSON, the content
        template's text around its ``$features`` array."""
        if kind == "text/csv":
            return "", ""
        head, tail = template_parts(self.spec.content_template)
        return head + "[", "]" + tail

    def baseline_batches(self, kind: str, limit: int | None) -> list[Batch]:
        """The baseline's own records (the empty coalition) in container batches."""
        rows = self.lines(self.base_cells(kind)[0], kind)
        return [Batch.of(b) for b in batches_of(rows, limit, self.spec.max_payload_bytes)]


class Composer:
    """The synthetic rows of one record: per mask and baseline record, the record's cell where the mask is true,
    the baseline's elsewhere (cells already encoded), framed as records of the content type. Row ``r`` is mask
    ``r // B`` against baseline record ``r % B``.

    For many masks the features go in groups of ``_GROUP``: every combination of a group's cells is joined once
    (with the separator that follows it in a record), and a row is then a handful of strings instead of one cell
    per feature; a whole batch is one join of those strings (the rows and body are the same either way). The
    pieces are UTF-8 bytes: a batch's body is joined once, with no copy to encode it or to drop its last newline.
    """

    def __init__(self, x: list[str], baseline: list[list[str]], masks: np.ndarray, frame: tuple[str, str]) -> None:
        self.x, self.baseline, self.masks = x, baseline, masks
        self.head, self.tail = frame
        m = len(x)
        self.grouped = m >= 2 * _GROUP and len(masks) >= 4 * (1 << _GROUP) * len(baseline)
        if not self.grouped:
            return
        groups = [(lo, min(lo + _GROUP, m)) for lo in range(0, m, _GROUP)]
        last = len(groups) - 1
        pieces: list[bytes] = []
        self.offsets = np.empty((len(baseline), len(groups)), dtype=np.int64)
        for b, base in enumerate(baseline):
            for g, (lo, hi) in enumerate(groups):
                self.offsets[b, g] = len(pieces)
                before, after = self.head if g == 0 else "", self.tail + "\n" if g == last else ","
                # every combination, counting in binary with the group's first feature as the highest bit
                choices = itertools.product(*((base[j], x[j]) for j in range(lo, hi)))
                pieces.extend([(before + ",".join(cells) + after).encode("utf-8") for cells in choices])
        self.pieces = np.array(pieces, dtype=object)
        # each mask's code in each group: the masks padded to whole groups, each group's four flags read as one
        # 32-bit integer (a byte each, 0 or 1) and multiplied so that byte 3 holds the binary code with the group's
        # first feature as the highest bit (the other products stay below it, with no carry: 8 + 4 + 2 + 1 < 256)
        padded = np.zeros((len(masks), len(groups) * _GROUP), dtype=bool)
        padded[:, :m] = masks
        flags = padded.view("<u4")
        self.codes: np.ndarray = ((flags * np.uint32(_CODE_MAGIC)) >> np.uint32(24)).astype(np.intp)
        self.codes[:, -1] >>= len(groups) * _GROUP - m

    def _span(self, start: int, stop: int) -> tuple[slice, slice]:
        """The masks that rows [start, stop) come from, and those rows among all the rows of those masks."""
        b = len(self.baseline)
        first = start // b
        return slice(first, -(-stop // b)), slice(start - first * b, stop - first * b)

    def _index(self, start: int, stop: int) -> np.ndarray:
        """The pieces of rows [start, stop): an index (rows, groups) into ``pieces``."""
        masks, rows = self._span(start, stop)
        index: np.ndarray = (self.codes[masks, None, :] + self.offsets[None, :, :]).reshape(-1, self.codes.shape[1])
        return index[rows]

    def body(self, start: int, stop: int) -> bytes:
        """Rows [start, stop) joined by newlines, in UTF-8."""
        if not self.grouped:
            return "\n".join(self.rows(start, stop)).encode("utf-8")
        parts = self.pieces[self._index(start, stop).ravel()].tolist()
        parts[-1] = parts[-1][:-1]  # the last row's newline
        return b"".join(parts)

    def rows(self, start: int, stop: int) -> list[str]:
        """Rows [start, stop), one string each."""
        if self.grouped:
            return [b"".join(row)[:-1].decode("utf-8") for row in self.pieces[self._index(start, stop)].tolist()]
        masks, rows = self._span(start, stop)
        xs = np.array(self.x, dtype=object)
        bs = np.array(self.baseline, dtype=object)
        cells = np.where(self.masks[masks, None, :], xs[None, None, :], bs[None, :, :]).reshape(-1, len(self.x))
        head, tail = self.head, self.tail
        return [head + ",".join(row) + tail for row in cells[rows].tolist()]


def spans_batch(spans: list[tuple[Composer, int, int]]) -> Batch:
    """A batch of rows from one or more records' composers: (composer, first row, end row) each."""
    spans = list(spans)
    body = b"\n".join([composer.body(start, stop) for composer, start, stop in spans])
    count = sum(stop - start for _, start, stop in spans)
    return Batch(body, count, lambda: [row for c, start, stop in spans for row in c.rows(start, stop)])


def csv_cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return format_csv_row([text]) if any(c in text for c in ',"\n\r') else text
