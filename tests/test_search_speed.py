"""The search's shortcuts change no figure: the batch-1 estimate shared across concurrencies
(``sweep`` passes it to ``serve_figures`` as ``known``), the prefill-only path (``prefill_time``) and the
KV-only one (``kv_cache_per_gpu``) give exactly what a whole estimate per figure gave
(benchmarks/layout_search.py times the difference)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dsadvisor.physics.estimate import Deployment, estimate, kv_cache_per_gpu, prefill_time
from dsadvisor.physics.timing import Layout
from dsadvisor.serving import search as search_mod
from dsadvisor.serving import server
from dsadvisor.serving.search import Limits, search

CASES = [  # model, GPU, format, engine, GPUs, prompt, answer, limits
    ("deepseek-r1", "H200-SXM", "fp8", "sglang", 8, 2048, 512, Limits(2.0, 0.05)),
    ("deepseek-r1", "H200-SXM", "fp8", "tensorrt-llm", 8, 4000, 1000, Limits(2.0, 0.05)),
    ("deepseek-r1-distill-llama-70b", "H100-SXM", "bf16", "vllm", 4, 2048, 512, Limits(0.5, None)),
    ("deepseek-v2-lite", "A100-SXM-80GB", "bf16", "vllm", 2, 8000, 2000, Limits(1.0, 0.02)),
]


def _deployment(catalog, model, gpu, quant, engine, gpus, **rest):
    return Deployment.of(catalog, model=catalog.model(model), gpu=catalog.gpus[gpu],
                         quant=catalog.quantizations[quant], engine=catalog.engines[engine], gpus=gpus, **rest)


def _figures(found):
    def of(p):
        return None if p is None else (p.label, p.gpus, p.serving.as_dict())
    return [of(p) for p in found.points], [of(p) for p in found.frontier], of(found.best), of(found.goodput)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[3]}-{c[4]}")
def test_search_figures_as_with_a_whole_estimate_each(catalog, monkeypatch, case):
    *what, isl, osl, limits = case
    d = _deployment(catalog, *what)
    fast = search(d, isl, osl, limits)
    # the path before the shortcuts: nothing shared across concurrencies, every prefill and KV cache a whole estimate
    plain_serve = server.serve
    monkeypatch.setattr(search_mod, "serve_figures", lambda d, w, known=None: plain_serve(d, w)[1])
    monkeypatch.setattr(server, "prefill_time", lambda d: estimate(d).ttft_s)
    monkeypatch.setattr(server, "kv_cache_per_gpu", lambda d: estimate(d).memory.kv_cache)
    slow = search(d, isl, osl, limits)
    assert fast.best is not None and _figures(fast) == _figures(slow)


@pytest.mark.parametrize("model, gpu, quant, engine, gpus, layout", [
    ("deepseek-r1", "H200-SXM", "fp8", "sglang", 8, Layout(tp=8, ep=True, dp_attention=8, mtp=3)),
    ("deepseek-r1", "H100-SXM", "fp8", "vllm", 16, Layout(tp=8, pp=2)),
    ("deepseek-r1-distill-qwen-7b", "RTX-4090", "q4_k_m", "llama.cpp", 1, None),
    ("deepseek-r1-distill-qwen-7b", "Gaudi2", "bf16", "vllm", 1, None),
])
@pytest.mark.parametrize("batch", [1, 7, 64])
def test_prefill_and_kv_alone_are_the_estimates(catalog, model, gpu, quant, engine, gpus, layout, batch):
    d = _deployment(catalog, model, gpu, quant, engine, gpus, layout=layout, context=6000, prompt_tokens=4000)
    d = replace(d, batch=batch)
    whole = estimate(d)
    assert prefill_time(d) == whole.ttft_s and kv_cache_per_gpu(d) == whole.memory.kv_cache


# What main computed at 60f6c8a (SGLang's at 13e9aee), before the shortcuts (best and goodput: label, TTFT s, TPOT ms, tokens/s per GPU).
# A change to the physics or the server model moves these on purpose: rerun the case and update them.
BEFORE = {
    # SGLang's host time per running request (main 13e9aee) moved this case on purpose: was @256 0.9582 s
    # 45.65 ms 674.7 tok/s/GPU, goodput @287 1.0365 s 49.93 ms 691.8; then SGLang's prefill chunk split over the
    # DP-attention groups (branch sglang-ttft): was @256 0.958 s 45.98 ms 670.0, goodput @284 1.0287 s 49.89 ms 685.3;
    # then NCCL's measured prefill all-reduce (served-ttft): was @128 0.7765 s 31.42 ms 486.7, goodput @240 1.1587 s
    # 49.92 ms 576.0
    # then SGLang's per-request cost 50 -> 27 ms (TensorRT-LLM's, borrowed; sglang-ttft): was @128 0.7845 s 31.51 ms
    # 485.2, goodput @239 1.1657 s 49.92 ms 573.4
    # then the MoE exchange under attention DP (a2a: an all-gather and a reduce-scatter of the batch a MoE layer,
    # not two all-reduces every layer): was @128 0.7615 s 31.53 ms 485.5, goodput @239 1.1427 s 49.95 ms 573.6
    "deepseek-r1-sglang-8": (("TP8 DPA8 MTP3 @256", 1.1517, 49.14, 623.9), ("TP8 DPA8 MTP3 @261", 1.1679, 49.89, 626.5)),
    # The batch scheduled ahead on vLLM and TensorRT-LLM, their refitted cost per request and NCCL's measured
    # prefill all-reduce (served-ttft) moved these two on purpose: were @128 1.1021 s 32.28 ms 479.7, goodput
    # @231 1.6342 s 49.94 ms 560.4; and TP4 @32 0.3665 s 28.14 ms 277.7, goodput @54 0.4961 s 35.48 ms 371.1
    # then the prompts' tokenizing on the server's one thread (served-cache: 2.9 us a token, queued; the per-request
    # cost 27 -> 24 ms): was @128 1.1023 s 32.26 ms 480.1, goodput @231 1.6409 s 49.89 ms 560.9
    # then the MoE exchange under attention DP (a2a): was @128 1.1847 s 32.22 ms 479.4, goodput @232 1.7888 s
    # 50.0 ms 560.5
    "deepseek-r1-tensorrt-llm-8": (("TP8 EP DPA8 MTP3 @256", 1.8604, 47.04, 655.0),
                                   ("TP8 EP DPA8 MTP3 @276", 1.9714, 49.87, 666.1)),
    # vLLM's prompt tokenizing on the API server's one thread (9.4 us a token, queued; its per-request cost
    # 38 -> 28 ms; served-cache) moved this one on purpose: was TP4 @32 0.3846 s 28.5 ms 274.0, goodput @50
    # 0.4996 s 34.71 ms 350.9
    "deepseek-r1-distill-llama-70b-vllm-4": (("TP4 @32", 0.424, 28.49, 273.4), ("TP4 @42", 0.4978, 31.93, 319.7)),
}


@pytest.mark.parametrize("case", [c for c in CASES if f"{c[0]}-{c[3]}-{c[4]}" in BEFORE],
                         ids=lambda c: f"{c[0]}-{c[3]}-{c[4]}")
def test_chosen_layouts_as_before_the_shortcuts(catalog, case):
    *what, isl, osl, limits = case
    found = search(_deployment(catalog, *what), isl, osl, limits)
    got = tuple((p.label, round(p.serving.ttft_s, 4), round(p.serving.tpot_s * 1e3, 2), round(p.tokens_per_s_per_gpu, 1))
                for p in (found.best, found.goodput))
    assert got == BEFORE[f"{case[0]}-{case[3]}-{case[4]}"]
