"""recommend and check search layouts where they change the answer (advice.layouts): the issue's FP8 R1
case passes with data-parallel attention, the table's TTFT is the one the rule checks, every searched
verdict reports its goodput, and the layout it chose meets the limits when `estimate` is asked for it
pinned, and `plan` starts it with the command recommend names."""

from __future__ import annotations

import shlex
from dataclasses import replace

import pytest

from dsadvisor.advice.check import check, hardware
from dsadvisor.advice.rules import TTFT, Constraints

# the case: FP8 R1 on 8 x H200 for 128 users of 16K context; at TP 8 the MLA cache is on every GPU
R1_128 = ("--gpu", "H200", "--gpus", "8", "--quant", "fp8", "--context", "16384", "--batch", "128")
LIMITS = ("--max-ttft", "2", "--max-token-latency", "50")


def verdict_json(run, *args):
    r = run("check", "deepseek-r1", *args, "-f", "json")
    assert r.code == 0, r.err
    return r.json()


def test_fp8_r1_for_128_users_passes_only_with_dp_attention(catalog):
    hw = hardware(catalog, "H200", gpus=8)
    k = Constraints(context=16384, batch=128, quants=("fp8",))
    default = check(catalog, "deepseek-r1", hw, replace(k, layout_search=False))
    assert not default.passed and default.estimate.dp_attention == 1
    assert any(r.rule == "DSA002" for r in default.failed)  # the replicated MLA cache does not fit
    searched = check(catalog, "deepseek-r1", hw, k)
    assert searched.passed and searched.estimate.quant_id == "fp8"
    e = searched.estimate
    assert e.gpus == 8 and e.dp_attention > 1 and e.batch == 128 and e.memory.fits
    assert searched.layout is not None and not searched.layout.default


def test_recommend_ranks_fp8_r1_with_its_layout_and_goodput(run):
    r = run("recommend", *R1_128, *LIMITS, "--family", "r1", "--top", "3", "-f", "json")
    assert r.code == 0, r.err
    v = next(v for v in r.json()["ranked"] if v["model"] == "deepseek-r1")
    dep, lay = v["estimate"]["deployment"], v["layout"]
    assert dep["quantization"] == "fp8" and dep["data_parallel_attention"] > 1
    assert lay["label"].startswith(f"TP{dep['tensor_parallel']}") and f"DPA{dep['data_parallel_attention']}" in lay["label"]
    assert (lay["max_ttft_s"], lay["max_tpot_s"]) == (2.0, 0.05)
    g = lay["goodput"]
    assert g["concurrency"] >= 128 and g["limited_by"] in ("ttft", "tpot", "kv-cache", "scheduler", "ceiling")
    assert g["serving"]["concurrency"] == g["concurrency"]
    assert g["serving"]["ttft_s"] <= 2 and g["serving"]["tpot_s"] <= 0.05
    assert "128 users within TTFT 2 s / TPOT 50 ms" in v["score"]["why"] and "goodput" in v["score"]["why"]


def test_goodput_is_the_most_users_within_the_limits(catalog):
    from dsadvisor.serving.server import serve
    from dsadvisor.serving.workload import Workload

    hw = hardware(catalog, "H200", gpus=8)
    k = Constraints(context=16384, batch=128, quants=("fp8",), max_ttft_s=0.7)
    v = check(catalog, "deepseek-r1", hw, k)
    g = v.layout.goodput
    assert g is not None and g.limited_by == "ttft" and g.concurrency >= 128
    assert g.serving.ttft_s <= 0.7
    e = v.estimate
    one_more = serve(replace(v.deployment, batch=g.concurrency + 1),
                     Workload(g.concurrency + 1, e.prompt_tokens, e.context - e.prompt_tokens))[1]
    assert one_more.ttft_s > 0.7


def test_the_table_ttft_is_the_ttft_the_rule_checks(run, catalog):
    from dsadvisor.output.views import fmt_s

    out = run("recommend", *R1_128, *LIMITS, "--family", "r1", "--top", "1", "-f", "json").json()
    v = out["ranked"][0]
    rule = next(x for x in v["rules"] if x["id"] == TTFT.id)
    ttft = v["estimate"]["serving"]["ttft_s"]
    assert rule["message"].startswith(f"time to first token {ttft:.3g} s")
    table = run("recommend", *R1_128, *LIMITS, "--family", "r1", "--top", "1", "-f", "csv").out
    assert fmt_s(ttft) in table.splitlines()[1].split(",")


@pytest.mark.parametrize("args", [
    (*R1_128, *LIMITS),
    ("--gpu", "H200", "--gpus", "8", "--batch", "32", "--max-ttft", "1"),
    ("--gpu", "H100", "--gpus", "8", "--batch", "64", "--engine", "sglang", "--max-token-latency", "40"),
    ("--gpu", "H200", "--gpus", "8", "--batch", "64", "--engine", "tensorrt-llm", "--quant", "fp8",
     "--max-ttft", "3"),
])
def test_the_chosen_layout_meets_the_limits_when_estimated_pinned(run, args):
    """The property: `estimate` with the chosen layout pinned (--tp/--pp/--ep/--dp-attention/--mtp) serves
    the asked users within the limits, in memory, with the figures the verdict reported."""
    v = verdict_json(run, *args)
    assert v["passed"] and v["layout"] is not None
    dep = v["estimate"]["deployment"]
    pins = ["--tp", str(dep["tensor_parallel"]), "--pp", str(dep["pipeline_parallel"]),
            "--ep" if dep["expert_parallel"] else "--no-ep", "--dp-attention", str(dep["data_parallel_attention"]),
            "--mtp", str(dep["mtp_draft_tokens"])]
    r = run("estimate", "deepseek-r1", "--gpu", dep["gpu"], "--gpus", str(dep["gpus"]), "--quant", dep["quantization"],
            "--engine", dep["engine"], "--kv-dtype", dep["kv_dtype"], "--context", str(dep["context"]),
            "--prompt-tokens", str(dep["prompt_tokens"]), "--concurrency", str(dep["batch"]), *pins, "-f", "json")
    assert r.code == 0, r.err
    est = r.json()
    assert est["memory"]["fits"] and est["serving"]["running"] == dep["batch"]
    flags = dict(zip(args[::2], args[1::2]))
    if "--max-ttft" in flags:
        assert est["serving"]["ttft_s"] <= float(flags["--max-ttft"])
    if "--max-token-latency" in flags:
        assert est["serving"]["tpot_s"] * 1e3 <= float(flags["--max-token-latency"])
    assert est["serving"]["ttft_s"] == pytest.approx(v["estimate"]["serving"]["ttft_s"])
    assert est["serving"]["tpot_s"] == pytest.approx(v["estimate"]["serving"]["tpot_s"])


def test_the_plan_command_recommend_names_starts_that_deployment(run):
    v = verdict_json(run, *R1_128, *LIMITS)
    argv = shlex.split(v["plan_command"])
    assert argv[:3] == ["dsadvisor", "plan", "deepseek-r1"] and "--dp-attention" in argv
    r = run(*argv[1:], "-f", "json")
    assert r.code == 0, r.err
    planned = r.json()["deployment"]
    assert planned == v["estimate"]["deployment"]



@pytest.mark.parametrize("device,said", [
    (("--vram", "80", "--gpus", "2"), ["--vram", "80"]),  # was --gpu custom-80GB: exit 3
    (("--gpu", "cpu", "--ram", "64"), ["--gpu", "CPU", "--ram", "64"]),  # was --gpu CPU alone: exit 2
    (("--gpu", "Jetson-AGX-Orin", "--ram", "32"), ["--gpu", "Jetson-AGX-Orin-64GB", "--ram", "32"]),  # sized at 64
    (("--gpu", "H100-SXM", "--vram", "24"), ["--gpu", "H100-SXM", "--vram", "24"]),  # sized at 80
    (("--gpu", "A100", "--vram", "40"), ["--gpu", "A100-SXM-40GB"]),  # the catalog's own size: said by the id
])
def test_the_plan_command_of_a_device_sized_by_the_user_runs_as_printed(run, device, said):
    """`recommend --vram 80` printed `plan ... --gpu custom-80GB` (exit 3, unknown GPU) and `recommend --gpu cpu
    --ram 64` printed `plan ... --gpu CPU` (exit 2, "give its size with --ram"); `--gpu Jetson-AGX-Orin --ram 32`
    printed the 64 GB Jetson's id alone, which plan sizes at 64 GB. The device goes to plan as it was judged."""
    ranked = run("recommend", *device, "--top", "1", "-f", "json")
    assert ranked.code == 0 and ranked.json()["ranked"], ranked.err
    v = ranked.json()["ranked"][0]
    argv = shlex.split(v["plan_command"])
    assert argv[3:3 + len(said)] == said and argv[3 + len(said)] == "--quant", argv
    r = run(*argv[1:], "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["deployment"] == v["estimate"]["deployment"]

def test_recommend_says_the_plan_of_its_first(run):
    out = run("recommend", *R1_128, *LIMITS, "--family", "r1", "--top", "2").out
    first = out.split("start the first: ", 1)[1].splitlines()[0]
    assert first.startswith("dsadvisor plan ") and "--concurrency 128" in first and "--tp 8" in first


@pytest.mark.parametrize("args", [
    ("--gpu", "RTX-4090"),  # one GPU: nothing to split
    ("--gpu", "H200", "--gpus", "8"),  # one user and no latency limit: the default layout is the answer
])
def test_no_search_where_the_layout_cannot_change_the_answer(run, args):
    out = run("recommend", *args, "-f", "json").json()
    assert out["ranked"] and all(v["layout"] is None for v in out["ranked"])
    assert all(v["plan_command"].startswith(f"dsadvisor plan {v['model']} ") for v in out["ranked"])


def test_check_and_recommend_choose_the_same_layout(run):
    rec = run("recommend", *R1_128, *LIMITS, "--family", "r1", "-f", "json").json()
    in_rec = next(v for v in rec["ranked"] if v["model"] == "deepseek-r1")
    alone = verdict_json(run, *R1_128, *LIMITS)
    assert alone["estimate"]["deployment"] == in_rec["estimate"]["deployment"]
    assert alone["layout"] == in_rec["layout"]


def test_limits_no_layout_meets_fail_on_the_limit_at_the_soonest_layout(run):
    """The closest miss is the layout that holds the users and serves them soonest: only the limit
    fails, and its message says the TTFT that is reachable."""
    r = run("check", "deepseek-r1", *R1_128, "--max-ttft", "0.01", "-f", "json")
    assert r.code == 1 and "DSA005 time to first token" in r.err
    v = r.json()
    assert [x["id"] for x in v["rules"] if x["status"] == "fail"] == ["DSA005"]
    assert v["layout"] is not None and v["estimate"]["deployment"]["data_parallel_attention"] > 1
    assert v["plan_command"] is None


def _ranked(catalog, top):
    from dsadvisor.advice.search import recommend

    rec = recommend(catalog, [hardware(catalog, "H200", gpus=8)], Constraints(batch=32), searched=top)
    return [(v.model.id, v.layout.label if v.layout else None, v.score.total) for v in rec.ranked]


def test_top_k_is_the_best_k_of_every_layout_searched(catalog):
    """8 x H200 for 32 users: V3-0324 is 7th at TP 8 (0.7251) and 0.746 once its layout is searched (TP8 DPA4
    MTP3), above V4-Flash's 0.7454. Before, `--top 6` searched only the first 6 and showed V4-Flash 6th; now
    every `--top K` is the first K of the ranking with every layout searched."""
    every = _ranked(catalog, None)
    for top in (5, 6, 7, 10):
        assert _ranked(catalog, top)[:top] == every[:top]
    assert [m for m, _, _ in every[:6]][-1] == "deepseek-v3-0324"


def test_no_layout_scores_above_the_bound_that_skips_a_search(catalog):
    """The bound that spares a search (advice.search._rank_at_best) holds for every verdict searched."""
    from dsadvisor.advice.search import _hardware_of, _layout_searchable, _layout_searched, _rank_at_best, recommend
    from dsadvisor.advice.verdicts import rank as _rank

    hw, k = [hardware(catalog, "H200", gpus=8)], Constraints(batch=32)
    rec = recommend(catalog, hw, replace(k, layout_search=False))
    tried = [v for v in rec.ranked if _layout_searchable(_hardware_of(hw, v), k, v)]
    assert tried
    for v in tried:
        assert _rank_at_best(v, k) <= _rank(_layout_searched(catalog, _hardware_of(hw, v), k, v))
