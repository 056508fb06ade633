"""The layout and concurrency search: layouts an engine can run, the frontier, the best within limits."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from dsadvisor.physics.estimate import Deployment
from dsadvisor.serving.search import Limits, best, goodput, layouts, pareto, search, sweep
from dsadvisor.serving.server import serve
from dsadvisor.serving.workload import Workload


def r1(catalog, engine="sglang", gpus=8):
    return Deployment.of(catalog, model=catalog.model("deepseek-r1"), gpu=catalog.gpus["H200-SXM"],
                         quant=catalog.quantizations["fp8"], engine=catalog.engines[engine], gpus=gpus)


@pytest.fixture(scope="module")
def found(catalog):
    return search(r1(catalog), 4000, 1000, Limits(max_ttft_s=2.0, max_tpot_s=0.05))


def test_layouts_of_8_gpus(catalog):
    got = {(lay.tp, lay.pp, lay.ep, lay.dp_attention) for lay in layouts(r1(catalog))}
    assert (8, 1, False, 1) in got and (8, 1, True, 8) in got and (4, 2, True, 4) in got
    assert all(tp * pp == 8 and tp % dp == 0 for tp, pp, _, dp in got)
    # llama.cpp splits by layers only, and has no expert or data-parallel attention
    dense = Deployment.of(catalog, model=catalog.model("deepseek-r1-distill-qwen-7b"), gpu=catalog.gpus["H100-SXM"],
                          quant=catalog.quantizations["q4_k_m"], engine=catalog.engines["llama.cpp"], gpus=2)
    assert [(lay.tp, lay.pp, lay.ep, lay.dp_attention) for lay in layouts(dense)] == [(1, 2, False, 1)]


def test_frontier_is_the_undominated_points(found):
    front = found.frontier
    def beats(a, b):
        return a.tokens_per_s_per_gpu >= b.tokens_per_s_per_gpu and \
            a.serving.tokens_per_s_per_user >= b.serving.tokens_per_s_per_user and \
            (a.tokens_per_s_per_gpu, a.serving.tokens_per_s_per_user) != \
            (b.tokens_per_s_per_gpu, b.serving.tokens_per_s_per_user)
    assert not [f for f in front for p in found.points if beats(p, f)]
    assert all(any(f is p or beats(f, p) or (f.tokens_per_s_per_gpu, f.serving.tokens_per_s_per_user) ==
                   (p.tokens_per_s_per_gpu, p.serving.tokens_per_s_per_user) for f in front) for p in found.points)


def test_best_is_the_most_per_gpu_within_the_limits(found):
    b = found.best
    assert b is not None and found.limits.met_by(b.serving)
    assert b.serving.ttft_s <= 2.0 and b.serving.tpot_s <= 0.05
    ok = [p for p in found.points if found.limits.met_by(p.serving)]
    assert b.tokens_per_s_per_gpu == max(p.tokens_per_s_per_gpu for p in ok)
    # 128 users with 4K prompts: the replicated MLA cache would cap TP-only layouts; DP attention wins
    assert b.layout.dp_attention > 1


def test_goodput_is_the_last_concurrency_within_the_limits(catalog, found):
    g = found.goodput
    assert g.layout == found.best.layout
    assert found.limits.met_by(g.serving)
    from dataclasses import replace

    _, beyond = serve(replace(r1(catalog), layout=g.layout), Workload(g.serving.concurrency + 1, 4000, 1000))
    assert not found.limits.met_by(beyond)


def test_limits_nobody_meets(catalog):
    found = search(r1(catalog), 4000, 1000, Limits(max_ttft_s=0.001))
    assert found.best is None and found.goodput is None and found.frontier
    assert "TTFT" in found.limits.missed_by(found.frontier[0].serving)


def test_layouts_json_and_table(run):
    out = run("layouts", "deepseek-r1", "--gpu", "H200", "--quant", "fp8", "--prompt-tokens", "4000",
              "--output-tokens", "1000", "--max-ttft", "2", "--max-token-latency", "50", "-f", "json")
    assert out.code == 0, out.err
    doc = out.json()
    assert doc["best"]["serving"]["ttft_s"] <= 2 and doc["best"]["serving"]["tpot_s"] <= 0.05
    assert doc["goodput"]["serving"]["concurrency"] >= doc["best"]["serving"]["concurrency"]
    per_user = [p["serving"]["tokens_per_s_per_user"] for p in doc["frontier"]]
    assert per_user == sorted(per_user, reverse=True)
    table = run("layouts", "deepseek-r1", "--gpu", "H200", "--quant", "fp8", "--max-ttft", "2").out
    assert "Pareto frontier" in table and "best within the limits" in table and "'o' frontier" in table


def test_svg_and_html_are_standalone_and_labelled(run):
    svg = run("layouts", "deepseek-r1", "--gpu", "H200", "--quant", "fp8", "-f", "svg")
    assert svg.code == 0
    root = ET.fromstring(svg.out)
    assert root.tag.endswith("svg")
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any(label and label.startswith("TP8") and "@" in label for label in labels)
    assert "<script" not in svg.out and "href" not in svg.out
    html = run("layouts", "deepseek-r1", "--gpu", "H200", "--quant", "fp8", "-f", "html").out
    assert html.startswith("<!doctype html>") and "<svg" in html and "<table>" in html


def test_a_chart_format_for_a_command_without_a_chart(run):
    r = run("models", "-f", "svg")
    assert r.code == 2 and r.out == "" and "draws a chart" in r.err


def test_nothing_holds_one_request(run):
    r = run("layouts", "deepseek-r1", "--gpu", "RTX-4090", "--gpus", "2", "--engine", "vllm", "--quant", "awq-int4")
    assert r.code == 1 and r.out == "" and "holds one request" in r.err  # nothing fits: exit 1, as plan
