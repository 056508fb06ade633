"""Which models recommend ranks (issue 11, Candidates): instruct releases a user downloads and chats
with; base and RL-zero checkpoints only with --include-base; the articles' described variants in a
section of their own, never in the ranking; plan refuses a variant with no weights."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
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


# ------------------------------------------------ quality with coverage, and what the score says


def test_chat_on_a_4090_does_not_put_a_one_benchmark_math_model_first(run):
    doc = run("recommend", "--gpu", "RTX-4090", "--task", "chat", "-f", "json").json()
    assert doc["ranked"][0]["model"] != "deepseek-math-7b-rl"
    rl = next(v for v in doc["ranked"] if v["model"] == "deepseek-math-7b-rl")
    assert rl["score"]["quality_from"] == "gsm8k (1 of 3)"  # coverage counted: two of three benchmarks missing


def test_r1_beats_v3_base_on_eight_h100s_even_with_base_models_in(run):
    doc = run("recommend", "--gpu", "H100", "--gpus", "8", "--include-base", "--top", "100", "-f", "json").json()
    ids = [v["model"] for v in doc["ranked"]]
    assert ids.index("deepseek-r1") < ids.index("deepseek-v3-base")


def test_a_missing_benchmark_counts_zero(catalog):
    from dsadvisor.advice.rules import Constraints
    from dsadvisor.advice.search import quality, score_ranges

    ranges = score_ranges(catalog)
    one, _ = quality(catalog.model("deepseek-math-7b-rl"), Constraints(task="chat"), ranges, 0.0)
    only, _ = quality(catalog.model("deepseek-math-7b-rl"), Constraints(benchmark="gsm8k"), ranges, 0.0)
    assert one == pytest.approx(only / 3)


def test_the_table_says_why_in_words(run):
    out = run("recommend", "--gpu", "RTX-4090", "--task", "chat", "--top", "3").out
    assert "why" in out.splitlines()[2]
    assert "quality 0." in out and "tok/s a sequence" in out and "(1 of 3)" in out
    assert "(q 0." not in out  # no bare letters


@pytest.mark.parametrize("gpu, model", [("RTX-4090", "deepseek-r1-distill-qwen-32b"),
                                        ("RTX-3060", "deepseek-r1-distill-qwen-14b")])
def test_q4_k_m_when_it_fits_not_q3_k_m(run, gpu, model):
    doc = run("recommend", "--gpu", gpu, "--top", "100", "-f", "json").json()
    v = next(v for v in doc["ranked"] if v["model"] == model)
    assert v["estimate"]["deployment"]["quantization"] == "q4_k_m"


def test_eight_h100s_get_tensor_parallel_engines_not_a_llama_cpp_layer_split(run):
    doc = run("recommend", "--gpu", "H100", "--gpus", "8", "--task", "reasoning", "--top", "100", "-f", "json").json()
    split = [v["model"] for v in doc["ranked"] if v["estimate"]["deployment"]["engine"] == "llama.cpp"
             and v["estimate"]["deployment"]["gpus"] > 1]
    for model in split:  # only where no tensor-parallel engine runs the model at all
        r = run("check", model, "--gpu", "H100", "--gpus", "8", "--engine", "vllm", "--engine", "sglang",
                "--engine", "tensorrt-llm")
        assert r.code != 0, model
    r1 = next(v for v in doc["ranked"] if v["model"] == "deepseek-r1")
    assert r1["estimate"]["deployment"]["engine"] in ("vllm", "sglang", "tensorrt-llm")


def test_json_carries_each_rows_why_as_the_table_shows_it(run):
    """issue 11: the words explaining a score are in the JSON too (score.why), the same as the table's column."""
    doc = run("recommend", "--gpu", "RTX-4090", "--task", "chat", "--top", "3", "-f", "json").json()
    csv = run("recommend", "--gpu", "RTX-4090", "--task", "chat", "--top", "3", "-f", "csv").out
    import csv as csvlib
    import io
    rows = [r for r in csvlib.DictReader(io.StringIO(csv)) if r["section"] == "ranked"]
    assert [v["score"]["why"] for v in doc["ranked"]] == [r["why"] for r in rows]
    assert doc["ranked"][0]["score"]["why"].startswith("quality 0.")
