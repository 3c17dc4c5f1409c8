"""The rule registry: every rule is documented, and each has a config it passes and one it fails."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from clarify_kit.core.config import config_from_dict
from clarify_kit.core.rules import RULES
from clarify_kit.precheck import static_precheck
from tests.helpers import FIXTURES, edited, expand

CASES: dict[str, dict[str, Any]] = yaml.safe_load((FIXTURES / "rule_cases.yaml").read_text())


def findings(case: dict[str, Any], rule_id: str) -> list[tuple[str, str, str]]:
    report = static_precheck(config_from_dict(edited(case)))
    return [(f.level, f.path, f.message) for f in report.findings if f.rule == rule_id]


def test_every_registered_rule_has_cases_and_every_case_a_rule() -> None:
    assert sorted(r.id for r in RULES) == sorted(CASES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_names_its_title_source_and_fix(rule: Any) -> None:
    assert rule.title and rule.source and rule.fix
    assert rule.check.__doc__ is None or rule.check.__doc__.strip()


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_a_compliant_config_gives_no_finding_of_the_rule(rule_id: str) -> None:
    assert findings(CASES[rule_id]["compliant"], rule_id) == []


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_a_violating_config_gives_the_rules_finding_at_its_path(rule_id: str) -> None:
    case = CASES[rule_id]
    found = findings(case["violating"], rule_id)
    wanted = (case["level"], expand(case["path"]))
    messages = [message for level, path, message in found if (level, path) == wanted]
    assert messages, f"no {wanted[0]} at {wanted[1]}; the rule reported {found}"
    assert any(case["message"] in m for m in messages), messages


def test_a_target_error_marks_the_synthetic_dataset_and_latency_as_a_bound() -> None:
    case = {"base": "binary", "set": {"ClarifyKit.Explainer": "SelfHosted", "ClarifyKit.SelfHosted.TargetError": 0.02}}
    found = findings(case, "target-error")
    assert [(level, path) for level, path, _ in found] == [("note", "ClarifyKit.SelfHosted.TargetError")]
    assert "the most a record can cost" in found[0][2]
