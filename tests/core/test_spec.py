"""How the explainer reads the scores of a batch answer (ExplainerSpec.scores_batch): the one-pass reading gives
the very doubles the record-by-record reading gives, and whatever is not plain numbers is never read as a score."""

from __future__ import annotations

import random
import struct

import numpy as np
import pytest

from clarify_kit.core.errors import CodecError
from clarify_kit.core.spec import ExplainerSpec

CSV = ExplainerSpec("text/csv", "text/csv")


def _random_doubles(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    out: list[float] = []
    while len(out) < n:
        x = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        if np.isfinite(x):
            out.append(x)
    return out


@pytest.mark.parametrize("fmt", [repr, lambda x: f"{x:.6g}", lambda x: f"{x:.25e}", lambda x: f"{x:.3f}"])
def test_a_numeric_csv_answer_reads_to_the_same_doubles_as_float(fmt: object) -> None:
    values = _random_doubles(3000, seed=7) + [0.0, -0.0, 1e-320, 5e-324, 1.7976931348623157e308]
    lines = [fmt(v) for v in values]  # type: ignore[operator]
    got = CSV.scores_batch("\n".join(lines) + "\n", "text/csv")
    assert got.shape == (len(lines), 1)
    assert got[:, 0].tolist() == [float(line) for line in lines]


def test_a_table_reads_the_probability_index_column_and_crlf_line_ends() -> None:
    spec = ExplainerSpec("text/csv", "text/csv", probability_index=1)
    got = spec.scores_batch("1,0.25,7\r\n0,0.75,8\r\n", "text/csv")
    assert got.tolist() == [[0.25], [0.75]]


@pytest.mark.parametrize("text", [".5\n5.\n+1\n1_0", "7\n 0.5 \n1e-3"])
def test_numbers_json_does_not_write_are_still_read(text: str) -> None:
    assert CSV.scores_batch(text, "text/csv")[:, 0].tolist() == [float(t) for t in text.split()]


@pytest.mark.parametrize("word", ["true", "false", "null", "NaN", "{}"])
def test_a_word_in_a_csv_answer_is_never_read_as_a_score(word: str) -> None:
    answer = f"0.5\n{word}\n0.25"
    try:
        got = CSV.scores_batch(answer, "text/csv")
    except (CodecError, ValueError):
        return
    assert word == "NaN" and np.isnan(got[1, 0])  # NaN is a float; the explainer refuses it as non-finite


def test_a_ragged_table_is_not_read_as_a_table() -> None:
    spec = ExplainerSpec("text/csv", "text/csv", probability_index=2)
    with pytest.raises(CodecError):
        spec.scores_batch("1,2,3\n4,5\n", "text/csv")


def test_a_ragged_table_with_the_cells_of_a_rectangle_is_not_read_as_one() -> None:
    # 2 + 3 + 1 cells: as many as three rows of two, which a flat reading would reshape into a wrong table
    spec = ExplainerSpec("text/csv", "text/csv", probability_index=1)
    with pytest.raises(CodecError):
        spec.scores_batch("1,2\n3,4,5\n6\n", "text/csv")


@pytest.mark.parametrize("index", [0, 1, 2])
def test_every_column_of_a_table_reads_to_the_same_doubles_as_float(index: int) -> None:
    values = _random_doubles(3000, seed=9)
    rows = [values[i : i + 3] for i in range(0, len(values), 3)]
    text = "\n".join(", ".join(repr(v) for v in row) for row in rows)
    got = ExplainerSpec("text/csv", "text/csv", probability_index=index).scores_batch(text, "text/csv")
    assert got[:, 0].tolist() == [row[index] for row in rows]


def test_json_lines_scores_are_numbers_and_never_booleans() -> None:
    spec = ExplainerSpec("application/jsonlines", "application/jsonlines", probability_attribute="score")
    lists = spec.scores_batch('{"score": [0.25, 0.75]}\n{"score": [0.5, 0.5]}\n', None)
    assert lists.tolist() == [[0.25, 0.75], [0.5, 0.5]]
    assert spec.scores_batch('{"score": 0.5}\n{"score": 1}\n', None).tolist() == [[0.5], [1.0]]
    with pytest.raises(CodecError):
        spec.scores_batch('{"score": 0.5}\n{"score": true}\n', None)
