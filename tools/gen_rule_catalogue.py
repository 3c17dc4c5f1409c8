"""Render the README's precheck rule catalogue from the rule registry (clarify_kit.core.rules.RULES).

python tools/gen_rule_catalogue.py          # rewrite the README section
python tools/gen_rule_catalogue.py --check  # exit 1 when the README is stale
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from readme_section import update  # noqa: E402

from clarify_kit.core.rules import RULES  # noqa: E402

START, END = "<!-- rule-catalogue:start -->", "<!-- rule-catalogue:end -->"


def _order(rule_id: str) -> tuple[int, int, str]:
    """R1..R15 of the reference first, by number; then the kit's own rules by name."""
    match = re.fullmatch(r"R(\d+)", rule_id)
    return (0, int(match[1]), "") if match else (1, 0, rule_id)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    lines = [START, "", "| rule | checks | source | fix |", "| --- | --- | --- | --- |"]
    for rule in sorted(RULES, key=lambda r: _order(r.id)):
        lines.append(f"| `{rule.id}` | {_cell(rule.title)} | {_cell(rule.source)} | {_cell(rule.fix)} |")
    return "\n".join([*lines, "", END])


def main() -> int:
    return update(START, END, render())


if __name__ == "__main__":
    raise SystemExit(main())
