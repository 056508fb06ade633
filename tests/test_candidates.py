"""Which models recommend ranks (issue 11, Candidates): instruct releases a user downloads and chats
with; base and RL-zero checkpoints only with --include-base; the articles' described variants in a
section of their own, never in the ranking; plan refuses a variant with no weights."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml

CATALOG = Path(__file__).resolve().parents[1] / "catalog" / "models"


def test_every_shipped_model_says_how_it_was_tuned():
    for path in CATALOG.rglob("*.yaml"):
        for m in yaml.safe_load(path.read_text())["models"]:
            if m.get("kind", "model") == "model":
                assert m.get("tuning") in ("instruct", "base", "rl-zero"), (path.name, m["id"])


def test_base_models_and_r1_zero_are_tuned_as_such(catalog):
    tuning = {m.id: m.tuning for m in catalog.models.values()}
    assert tuning["deepseek-r1-zero"] == "rl-zero"
    for base in ("deepseek-v3-base", "deepseek-math-7b-base", "deepseek-coder-33b-base", "deepseek-v2",
                 "deepseek-v2-lite", "deepseek-llm-67b-base", "deepseek-moe-16b-base"):
        assert tuning[base] == "base", base
    for chat in ("deepseek-r1", "deepseek-v3", "deepseek-math-7b-rl", "deepseek-math-7b-instruct",
                 "deepseek-r1-distill-qwen-32b", "deepseek-v2-lite-chat"):
        assert tuning[chat] == "instruct", chat


def _ids(doc, key="ranked"):
    return [v["model"] for v in doc[key]]


def test_recommend_ranks_no_base_model_or_r1_zero_by_default(run, catalog):
    r = run("recommend", "--gpu", "H100", "--gpus", "8", "--top", "100", "-f", "json")
    assert r.code == 0, r.err
    doc = r.json()
    ranked = _ids(doc)
    assert ranked
    assert all(catalog.model(m).tuning == "instruct" for m in ranked)
    assert "deepseek-v3-base" not in ranked and "deepseek-r1-zero" not in ranked
    assert doc["base_left_out"] == sum(1 for m in catalog.models.values()
                                       if m.kind == "model" and m.status == "released" and m.tuning != "instruct")
    assert "base and RL-zero releases left out" in run("recommend", "--gpu", "H100", "--gpus", "8").out


def test_include_base_brings_them_back(run):
    r = run("recommend", "--gpu", "RTX-4090", "--include-base", "--top", "100", "-f", "json")
    assert r.code == 0, r.err
    assert "deepseek-math-7b-base" in _ids(r.json()) and r.json()["base_left_out"] == 0


def test_described_variants_are_scored_in_their_own_section_never_ranked(run):
    r = run("recommend", "--gpu", "RTX-4090", "--top", "100", "-f", "json")
    doc = r.json()
    assert all(v["status"] == "released" for v in doc["ranked"])
    described = _ids(doc, "described")
    assert "deepseek-1.3b" in described
    assert all(v["status"] == "described" and v["passed"] for v in doc["described"])
    table = run("recommend", "--gpu", "RTX-4090")
    assert "described in articles: no public weights" in table.out
    head, _, tail = table.out.partition("described in articles: no public weights")
    assert "deepseek-1.3b" not in head and "deepseek-1.3b" in tail


def test_released_only_drops_the_described_section(run):
    doc = run("recommend", "--gpu", "RTX-4090", "--released-only", "-f", "json").json()
    assert doc["described"] == []


def test_csv_carries_a_section_column(run):
    r = run("recommend", "--gpu", "RTX-4090", "-f", "csv")
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0][0] == "section"
    sections = {row[0] for row in rows[1:]}
    assert sections == {"ranked", "described"}
    described = [row for row in rows[1:] if row[0] == "described"]
    assert any(row[2] == "deepseek-1.3b" for row in described)


def test_plan_on_a_described_variant_says_no_weights_exist(run):
    r = run("plan", "deepseek-1.3b", "--gpu", "RTX-3060")
    assert r.code == 1 and "no public weights exist" in r.err and "serve" not in r.out
