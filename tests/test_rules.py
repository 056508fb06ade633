"""The rule registry: each id written once (the registry key), prerequisites that did not pass skip
the rules that need them, and what the rules return is frozen."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from dsadvisor.advice.rules import (ESTIMABLE, FITS, RULES, Candidate, Constraints, Finding, Rule, RuleResult,
                                    Status, rule, run_rules)

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "dsadvisor"
RULE_ID = re.compile(r"\bDSA\d{3}\b")


def _literals(path: Path) -> list[tuple[int, str]]:
    """(line, id) for every rule id inside a string literal of ``path``, docstrings left out."""
    tree = ast.parse(path.read_text())
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, m) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
            for m in RULE_ID.findall(node.value)]


def test_each_rule_id_is_written_once_in_the_package_where_it_is_registered():
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, rid in _literals(path):
            found.setdefault(rid, []).append(f"{path.relative_to(PACKAGE)}:{line}")
    assert set(found) == set(RULES)
    again = {rid: where for rid, where in found.items() if len(where) > 1 or not where[0].startswith("advice/rules.py")}
    assert not again, f"rule ids written as literals outside their registration: {again}"


def test_the_checker_sees_a_hard_coded_id(tmp_path):
    f = tmp_path / "m.py"
    f.write_text('"""Docstrings may name DSA002."""\nif top == "DSA002":\n    x = f"{a} DSA009 b"\n')
    assert sorted(_literals(f)) == [(2, "DSA002"), (3, "DSA009")]


def test_the_registry_is_keyed_by_id_and_read_only():
    assert all(r.id == key for key, r in RULES.items())
    assert isinstance(FITS, Rule) and FITS.requires == (ESTIMABLE.id,)
    with pytest.raises(TypeError):
        RULES["DSA999"] = FITS  # type: ignore[index]


def test_an_id_cannot_be_registered_twice_nor_before_its_prerequisites():
    with pytest.raises(ValueError, match="twice"):
        rule(id=FITS.id, title="again")
    with pytest.raises(ValueError, match="registered before"):
        rule(id="DSA998", title="x", requires=("DSA997",))
    assert "DSA998" not in RULES


def test_rules_documented_as_registered():
    table = (ROOT / "docs" / "rules.md").read_text()
    rows = dict(re.findall(r"^\| (DSA\d{3}) \| ([^|]+) \|", table, re.M))
    assert {k: v.strip() for k, v in rows.items()} == {r.id: r.title for r in RULES.values()}


def _candidate(catalog, **kw) -> Candidate:
    return Candidate(catalog.model("deepseek-v3"), catalog.gpus["H100-SXM"], catalog.quantization("q8_0"),
                     catalog.engine("sglang"), None, kw.pop("constraints", Constraints(max_ttft_s=1.0)),
                     max_context=163840, **kw)


def test_a_rule_whose_prerequisite_failed_is_skipped_not_run(catalog):
    results = {r.rule: r for r in run_rules(_candidate(catalog, skip_reason="SGLang does not run q8_0 weights"))}
    assert results[ESTIMABLE.id] == RuleResult(ESTIMABLE.id, Status.failed, "SGLang does not run q8_0 weights")
    for rid in (FITS.id, "DSA003", "DSA005"):  # they read the estimate: there is none
        assert results[rid].status is Status.skipped and ESTIMABLE.id in results[rid].message
    assert "DSA006" not in results  # no --max-token-latency: the rule does not apply at all
    assert results["DSA004"].status is Status.failed and "q8_0" in results["DSA004"].message


def test_a_model_with_no_shape_is_unknown_and_its_dependants_skipped(catalog):
    results = {r.rule: r for r in run_rules(_candidate(catalog))}
    assert results[ESTIMABLE.id].status is Status.unknown
    assert results[FITS.id].status is Status.skipped


def test_results_and_rules_are_frozen(catalog):
    from dsadvisor.advice.search import Skipped

    frozen = [RuleResult("x", Status.passed, "m"), Finding(Status.passed, "m"), FITS, _candidate(catalog),
              Skipped(catalog.quantization("q8_0"), catalog.engine("sglang"), 1, "why")]
    for obj in frozen:
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.message = "changed"  # type: ignore[misc, union-attr]
