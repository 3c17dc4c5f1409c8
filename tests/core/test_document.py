"""Config files the user cannot have meant are refused: duplicate keys, runaway aliases, deep nesting, numbers the
kit cannot carry, paths that are not files; the same in YAML and JSON."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml

from clarify_kit.adapters.files import load_config
from clarify_kit.core.errors import ConfigError, ConfigFileError
from tests.helpers import example_dict, example_path, run_cli

BINARY_TEXT = example_path("binary").read_text()


def issues_of(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [(i.path, i.message) for i in info.value.issues]


def traced_peak(path: Path) -> tuple[tuple[str, str], int]:
    """The one issue loading ``path`` gives, and the peak memory Python allocated meanwhile."""
    tracemalloc.start()
    try:
        [issue] = issues_of(path)
        return issue, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("original", "duplicate", "path"),
    [
        pytest.param(
            "  StackName: ClarifyKitBinary\n",
            "  StackName: ClarifyKitBinary\n  StackName: Other\n",
            "ClarifyKit.StackName",
            id="depth-2",
        ),
        pytest.param(
            "      InitialInstanceCount: 2\n",
            "      InitialInstanceCount: 2\n      InitialInstanceCount: 1\n",
            "EndpointConfig.ProductionVariants[0].InitialInstanceCount",
            id="in-a-list-item",
        ),
        pytest.param("ClarifyKit:\n", "ClarifyKit: {}\nClarifyKit:\n", "ClarifyKit", id="top-level-block"),
    ],
)
def test_a_duplicate_yaml_key_is_an_error_naming_its_path_and_both_lines(
    tmp_path: Path, original: str, duplicate: str, path: str
) -> None:
    # GIVEN the binary example with one key written twice
    assert original in BINARY_TEXT
    text = BINARY_TEXT.replace(original, duplicate, 1)
    first = text.splitlines().index(duplicate.splitlines()[0].rstrip()) + 1
    config = tmp_path / "dup.yaml"
    config.write_text(text)
    # WHEN it is loaded THEN the error names the path and both lines
    [(where, message)] = issues_of(config)
    assert where == path
    assert f"duplicate key at lines {first} and {first + 1} of {config}" in message


def test_a_duplicate_enable_explanations_is_caught_in_the_explainer_config(tmp_path: Path) -> None:
    text = BINARY_TEXT.replace(
        "      EnableExplanations:", "      EnableExplanations: '`false`'\n      EnableExplanations:", 1
    )
    assert text != BINARY_TEXT
    config = tmp_path / "dup.yaml"
    config.write_text(text)
    [(where, _)] = issues_of(config)
    assert where == "EndpointConfig.ExplainerConfig.ClarifyExplainerConfig.EnableExplanations"


def test_a_duplicate_json_key_is_an_error_naming_its_path_and_both_lines(tmp_path: Path) -> None:
    text = json.dumps(example_dict("binary"), indent=2).replace(
        '"InitialInstanceCount": 2', '"InitialInstanceCount": 2,\n"InitialInstanceCount": 1'
    )
    config = tmp_path / "dup.json"
    config.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith('"InitialInstanceCount": 1'))
    [(where, message)] = issues_of(config)
    assert where == "EndpointConfig.ProductionVariants[0].InitialInstanceCount"
    assert f"lines {line - 1} and {line}" in message


def test_yaml_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    config = tmp_path / "merge.yaml"
    config.write_text(
        "x-variant: &variant {VariantName: AllTraffic, InstanceType: ml.m5.xlarge}\n"
        + BINARY_TEXT.replace("ClarifyKit:\n", "ClarifyKit:\n", 1)
    )
    with pytest.raises(ConfigError) as info:  # an unknown top-level key, but no duplicate
        load_config(config)
    assert all("duplicate" not in i.message for i in info.value.issues)


def test_an_alias_bomb_aimed_at_a_field_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    # GIVEN 2.4 KB of YAML whose aliases would expand to 10^9 values at SampleOutputs
    bomb = "x0: &x0 ['0.5', '0.5', '0.5', '0.5', '0.5', '0.5', '0.5', '0.5', '0.5', '0.5']\n" + "".join(
        f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]\n" for i in range(1, 9)
    )
    text = bomb + BINARY_TEXT.replace('SampleOutputs: ["0.9731", "0.0214"]', "SampleOutputs: *x8")
    config = tmp_path / "bomb.yaml"
    config.write_text(text)
    assert len(text) < 5000
    # WHEN it is loaded THEN it is refused, and the memory it takes stays small (the old loader took gigabytes)
    (_, message), peak = traced_peak(config)
    assert "holds more than 100000 values (or aliases that expand to more)" in message
    assert peak < 50 * 1024 * 1024


@pytest.mark.parametrize(
    ("suffix", "text"),
    [
        pytest.param(".yaml", "Model: " + "[" * 1200 + "]" * 1200 + "\n", id="yaml"),
        pytest.param(".json", '{"Model": ' + "[" * 1200 + "]" * 1200 + "}", id="json"),
    ],
)
def test_nesting_deeper_than_a_config_is_refused(tmp_path: Path, suffix: str, text: str) -> None:
    config = tmp_path / f"deep{suffix}"
    config.write_text(text)
    [(_, message)] = issues_of(config)
    assert "nested more than 64 levels deep" in message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("9" * 5000, "Exceeds the limit (4300 digits)", id="5000-digits"),
        pytest.param("9" * 40, "an integer of 40 digits", id="40-digits"),
        pytest.param(".inf", "inf is not a finite number", id="infinity"),
        pytest.param(".nan", "nan is not a finite number", id="nan"),
    ],
)
def test_numbers_the_kit_cannot_carry_are_errors(tmp_path: Path, value: str, fragment: str) -> None:
    text = BINARY_TEXT.replace("ContainerMsPerRecord: 0.05", f"ContainerMsPerRecord: {value}")
    config = tmp_path / "numbers.yaml"
    config.write_text(text)
    assert any(fragment in message for _, message in issues_of(config))


def test_a_seed_outside_the_apis_32_bit_integer_is_an_error(tmp_path: Path) -> None:
    data = example_dict("binary")
    data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["ShapConfig"]["Seed"] = 2**40
    config = tmp_path / "seed.json"
    config.write_text(json.dumps(data))
    [(where, message)] = issues_of(config)
    assert where.endswith("ShapConfig.Seed") and "at most 2147483647" in message


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
@pytest.mark.parametrize("content", [b"", b"  \n", b"\xef\xbb\xbf"], ids=["empty", "blank", "bom-only"])
def test_empty_files_read_the_same_in_both_formats(tmp_path: Path, suffix: str, content: bytes) -> None:
    config = tmp_path / f"empty{suffix}"
    config.write_bytes(content)
    [(_, message)] = issues_of(config)
    assert message.endswith("the config must be a mapping with Model and EndpointConfig; it is empty")


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_byte_order_mark_is_skipped_in_both_formats(tmp_path: Path, suffix: str) -> None:
    data: Any = example_dict("binary")
    text = json.dumps(data) if suffix == ".json" else yaml.safe_dump(data)
    config = tmp_path / f"bom{suffix}"
    config.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_config(config).ClarifyKit.StackName == "ClarifyKitBinary"


def test_paths_that_are_not_files_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "a FIFO"), (Path("/dev/zero"), "a device or socket"), (tmp_path, "a directory")):
        with pytest.raises(ConfigFileError, match=f"is {kind}, not a regular file"):
            load_config(path)


def test_a_file_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "huge.yaml"
    config.write_text("# " + "x" * (10 * 1024 * 1024))
    with pytest.raises(ConfigFileError, match="larger than 10 MiB"):
        load_config(config)


def test_the_cli_exits_1_for_content_and_2_for_unreadable_input_in_one_line(tmp_path: Path) -> None:
    dup = tmp_path / "dup.yaml"
    dup.write_text(BINARY_TEXT.replace("  StackName: ClarifyKitBinary\n", "  StackName: A\n  StackName: B\n"))
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    content, unreadable = run_cli("precheck", str(dup), timeout=20), run_cli("precheck", str(fifo), timeout=20)
    line = BINARY_TEXT.splitlines().index("  StackName: ClarifyKitBinary") + 2  # the second StackName
    assert content.returncode == 1 and f"ClarifyKit.StackName ({dup}:{line}:3): duplicate key at lines" in (
        content.stdout
    )
    assert unreadable.returncode == 2 and unreadable.stderr.count("\n") == 1 and "is a FIFO" in unreadable.stderr
    assert "Traceback" not in content.stderr + unreadable.stderr


@pytest.mark.parametrize(
    ("suffix", "text"),
    [
        pytest.param(".yaml", "Model:\n  x: [" + ",".join(["1"] * 4_000_000) + "]\n", id="yaml-4M-values"),
        pytest.param(".json", '{"Model": {"x": [' + ",".join(["1"] * 4_000_000) + "]}}", id="json-4M-values"),
    ],
)
def test_a_file_just_under_the_cap_with_millions_of_values_is_refused_in_bounded_memory(
    tmp_path: Path, suffix: str, text: str
) -> None:
    # GIVEN an 8 MB file of four million values (composing it all took 34 s and 2.7 GB before)
    config = tmp_path / f"many{suffix}"
    config.write_text(text)
    (_, message), peak = traced_peak(config)
    # THEN it is refused for what it holds, well within 200 MB
    assert "holds more than 100000 values" in message
    assert peak < 200 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"
