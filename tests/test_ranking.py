"""Ranking on a big box (issue 11): a practitioner with 8 x H100 asking for reasoning serves R1-0528 or a
V3.x release there, not a distill on one of the eight GPUs; quality credits what newer cards no longer
report (a saturated MATH-500) only where a model beats another on every benchmark both report."""

import pytest

from dsadvisor.advice.rules import Constraints
from dsadvisor.advice.search import dominance_credits, quality, score_ranges

BIG = {"deepseek-r1-0528", "deepseek-v3.1", "deepseek-v3.2", "deepseek-v3.2-speciale", "deepseek-v3.2-exp"}


def test_eight_h100s_for_reasoning_serve_a_671b_release_not_a_distill(run):
    doc = run("recommend", "--gpu", "H100", "--gpus", "8", "--task", "reasoning", "--top", "100", "-f", "json").json()
    ranked = [v["model"] for v in doc["ranked"]]
    assert ranked[0] in BIG, ranked[:5]
    assert doc["ranked"][0]["estimate"]["deployment"]["gpus"] == 8
    for v in doc["ranked"]:  # the 671B releases are served tensor parallel, not a llama.cpp layer split
        if v["model"] in BIG:
            assert v["estimate"]["deployment"]["engine"] in ("vllm", "sglang", "tensorrt-llm"), v["model"]
    distills = [i for i, m in enumerate(ranked) if "distill" in m or m.endswith("qwen3-8b")]
    assert ranked.index("deepseek-r1-0528") < min(distills)


def test_r1_0528_is_credited_r1s_math_500_it_does_not_report(catalog):
    models = list(catalog.models.values())
    credits = dominance_credits(models, ("aime24", "gpqa", "math-500", "livecodebench"))
    assert credits["deepseek-r1-0528"]["math-500"] == (97.3, "deepseek-r1")
    ranges = score_ranges(catalog)
    with_credit, said = quality(catalog.model("deepseek-r1-0528"), Constraints(task="reasoning"), ranges, 0.0, credits)
    without, _ = quality(catalog.model("deepseek-r1-0528"), Constraints(task="reasoning"), ranges, 0.0)
    r1, _ = quality(catalog.model("deepseek-r1"), Constraints(task="reasoning"), ranges, 0.0, credits)
    assert without < r1 < with_credit  # it beats R1 on every benchmark both report
    assert "math-500 >= deepseek-r1" in said


def test_one_shared_benchmark_credits_nothing(catalog):
    """math-7b-rl is scored on GSM8K and MATH: it beats others there, but MMLU is never credited from a
    model it only matches on one benchmark (one favourable number is no dominance)."""
    models = list(catalog.models.values())
    credits = dominance_credits(models, ("mmlu", "mmlu-pro", "gsm8k"))
    rl = catalog.model("deepseek-math-7b-rl")
    got = credits.get(rl.id, {})
    for bench, (score, source) in got.items():
        theirs = {b.name: b.score for b in catalog.model(source).benchmarks}
        mine = {b.name: b.score for b in rl.benchmarks}
        shared = mine.keys() & theirs.keys()
        assert len(shared) >= 2 and all(mine[x] >= theirs[x] for x in shared)
        assert theirs[bench] == score


def test_a_credit_is_a_published_score_never_a_credit_of_a_credit(catalog):
    models = list(catalog.models.values())
    credits = dominance_credits(models, ("aime24", "gpqa", "math-500", "livecodebench"))
    for model_id, got in credits.items():
        for bench, (score, source) in got.items():
            assert any(b.name == bench and b.score == score for b in catalog.model(source).benchmarks)


@pytest.mark.parametrize("task", ["reasoning", "chat", None])
def test_one_gpu_boxes_keep_their_picks(run, task):
    """The small-GPU answers stand: one RTX 4090 still gets a distill first."""
    args = ["recommend", "--gpu", "RTX-4090", "-f", "json"] + (["--task", task] if task else [])
    top = run(*args).json()["ranked"][0]
    assert top["estimate"]["deployment"]["gpus"] == 1


def test_plan_of_a_format_no_engine_runs_here_is_bad_input_with_a_suggestion(run):
    """issue 11 Done-when: a format no engine runs on that hardware is one line, a suggestion, exit 2."""
    r = run("plan", "deepseek-r1", "--gpu", "H100", "--gpus", "8", "--quant", "nvfp4")
    assert r.code == 2
    line, = r.err.strip().splitlines()
    assert "no engine runs nvfp4 weights on H100-SXM" in line and "fp4 hardware support" in line
    assert "try --quant" in line and "awq-int4" in line


def test_a_checkpoint_that_exists_ranks_above_one_to_make(run):
    """Across models, as within one: a deployment whose checkpoint nobody publishes (V3.1 or
    V3.2-Speciale in AWQ on 8 x H100) ranks below every one whose checkpoint exists with a known loss,
    says so in its why, and the JSON names the checkpoint or how to make it."""
    doc = run("recommend", "--gpu", "H100", "--gpus", "8", "--task", "reasoning", "--top", "100", "-f", "json").json()
    known = [v for v in doc["ranked"] if "loss unknown" not in v["score"]["why"]]
    to_make = [i for i, v in enumerate(known) if v["convert"] is not None]
    at_hand = [i for i, v in enumerate(known) if v["convert"] is None]
    assert to_make and at_hand and max(at_hand) < min(to_make)
    for v in doc["ranked"]:
        if v["convert"] is not None:  # nothing to load: the how, in the JSON and in words
            assert v["checkpoint"] is None, v["model"]
            assert v["convert"].startswith("convert it yourself") and "convert it yourself" in v["score"]["why"]
    speciale = next(v for v in doc["ranked"] if v["model"] == "deepseek-v3.2-speciale")
    assert speciale["convert"] is not None
    top = doc["ranked"][0]
    assert top["checkpoint"]["repo"] and top["checkpoint"]["source"].startswith("http")
