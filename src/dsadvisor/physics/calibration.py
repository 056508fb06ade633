"""Estimates beside measurements: the rows of a calibration JSONL, each with the estimator's figure.

Used by tests/test_calibration.py (which holds the targets) and by
benchmarks/calibration.py (which prints the error table). The measurement files
are described in benchmarks/data/README.md.
"""

from __future__ import annotations

from typing import Any

import json
from dataclasses import replace
from pathlib import Path

from dsadvisor.catalog.store import Catalog
from dsadvisor.physics.estimate import Deployment, estimate, pin_layout
from dsadvisor.catalog.schema import Engine, Gpu
from dsadvisor.records import record

# calibration model name -> catalog id (the calibration builds each from its released config)
MODEL_IDS = {
    "deepseek-coder-1.3b": "deepseek-coder-1.3b-base",
    "deepseek-coder-6.7b": "deepseek-coder-6.7b-base",
    "deepseek-llm-7b": "deepseek-llm-7b-base",
    "r1-distill-qwen-1.5b": "deepseek-r1-distill-qwen-1.5b",
    "r1-distill-qwen-7b": "deepseek-r1-distill-qwen-7b",
    "r1-distill-qwen-14b": "deepseek-r1-distill-qwen-14b",
    "r1-distill-qwen-32b": "deepseek-r1-distill-qwen-32b",
    "r1-distill-llama-8b": "deepseek-r1-distill-llama-8b",
    "deepseek-v2-lite": "deepseek-v2-lite",
    "deepseek-moe-16b": "deepseek-moe-16b-base",
    "deepseek-coder-33b": "deepseek-coder-33b-base",  # run 11
    "deepseek-coder-5.7bmqa": "deepseek-coder-5.7bmqa-base",
    "deepseek-r1-0528-qwen3-8b": "deepseek-r1-0528-qwen3-8b",
}
# llama.cpp names formats in lower case; f16 is the catalog's fp16
GGUF_QUANT_IDS = {"f16": "fp16", "bf16": "bf16"}
LLAMACPP_KV_TYPES = {"q8_0": "q8_0-kv", "q4_0": "q4_0-kv"}  # llama-bench's type_k -> the catalog's KV format
# The held-out part of the llama.cpp H200 set (benchmarks/data/llamacpp-h200/README.md): no constant is fitted
# on a row of these models or formats.
LLAMACPP_HELD_OUT_MODELS = frozenset({"deepseek-coder-6.7b", "deepseek-llm-7b", "r1-distill-llama-8b",
                                      "r1-distill-qwen-14b"})
LLAMACPP_HELD_OUT_QUANTS = frozenset({"q6_k"})
LLAMACPP_HELD_OUT_ROWS = frozenset({("deepseek-v2-lite", "q8_0"), ("deepseek-v2-lite", "q5_k_m"),  # run 4
                                    ("r1-distill-qwen-7b", "iq4_xs")})  # run 1, held out by run 12's split
LLAMACPP_HELD_OUT_RUNS = frozenset({5, 8})  # every row of runs 5 and 8 (benchmarks/data/llamacpp-h200/README.md)
# Run 7 (long context, h200-lcpp-depth.jsonl) has its own split, written in the README before any comparison; it
# replaces the rules above for that run's rows
# (a model, or a (model, format) pair)
LLAMACPP_HELD_OUT_BY_RUN: dict[int, frozenset[str | tuple[str, str]]] = {
    7: frozenset({"r1-distill-llama-8b", "deepseek-llm-7b", "r1-distill-qwen-14b", "deepseek-moe-16b"}),
    # run 9 (Q4_0 / Q2_K / BF16 on three more models): the third model and the Q4_K_M anchor held out
    9: frozenset({"deepseek-coder-6.7b", ("deepseek-llm-7b", "q4_k_m")}),
    # run 10 (16-bit batched decode at 16-128 sequences): R1-Distill-Llama-8B BF16 held out, Qwen-7B F16 fit
    10: frozenset({("r1-distill-llama-8b", "bf16")}),
    # run 11 (decode at depth, GQA > 4): the models never measured at depth and the GQA-4 controls held out
    11: frozenset({"deepseek-coder-33b", "r1-distill-qwen-32b", "r1-distill-qwen-14b", "deepseek-r1-0528-qwen3-8b",
                   "r1-distill-llama-8b"}),
    # run 12 (GGUF formats the catalog lacked): R1-Distill-Llama-8B fit; R1-Distill-Qwen-7B and V2-Lite held out
    12: frozenset({"r1-distill-qwen-7b", "deepseek-v2-lite"}),
}


@record(frozen=True)
class Comparison:
    quantity: str  # "memory", "decode_step", "prefill"
    model: str
    batch: int
    tokens: int  # prompt (memory, prefill) or context (decode)
    measured: float
    estimated: float
    quant: str = "bf16"
    engine: str = ""
    device: str = ""  # the catalog GPU id
    held_out: bool = False
    gpus: int = 1  # GPUs the measurement ran on (published multi-GPU rows)
    kv: str = ""  # the KV cache format where not 16-bit (llama.cpp run 7: q8_0-kv)

    @property
    def error(self) -> float:
        return self.estimated / self.measured - 1


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def measured_gpu(catalog: Catalog, rows: list[dict]) -> Gpu:
    """The catalog's entry for the GPU a file was measured on (its ``kind: device`` row, as nvidia-smi
    names it); files without a device row are the H100 calibration set."""
    from dsadvisor.catalog.hardware import resolve_gpu

    name = next((r["gpu"] for r in rows if r.get("kind") == "device" and r.get("gpu")), "NVIDIA H100 80GB HBM3")
    return resolve_gpu(catalog.gpus, name)


# The CUDA-graph decode rows (benchmarks/gpu/measure.py, measure_tp.py) time dsadvisor's own harness:
# transformers' modules captured in one CUDA graph, all-reduce through NCCL. They are compared with the vLLM
# engine's bandwidth and matmul figures but the harness's own per-layer cost (66 us, fitted on these rows,
# docs/method.md) and the link's NCCL all-reduce (14.5 us measured), not vLLM's kernels' figures.
HARNESS_PER_LAYER_DECODE_S = 6.6e-5


def cuda_graph_harness(catalog: Catalog) -> Engine:
    """The engine figures the CUDA-graph harness rows are estimated with."""
    vllm = catalog.engines["vllm"]
    speed = replace(vllm.speed, per_layer_decode_s=HARNESS_PER_LAYER_DECODE_S, allreduce_latency_s=None,
                    allreduce_bus_gbs=None, allreduce_latency_s_by_generation={},
                    allreduce_bus_gbs_by_generation={})
    return replace(vllm, speed=speed)


def with_engine_speed(catalog: Catalog, engine_id: str, speed) -> Catalog:
    """``catalog`` with one engine's speed constants replaced (the fit scripts try candidate constants), with
    a memo of its own: results derived from the bundled constants must not answer for the candidates."""
    engines = dict(catalog.engines)
    engines[engine_id] = replace(catalog.engines[engine_id], speed=speed)
    return replace(catalog, engines=engines, memo={})


def _deployment(catalog: Catalog, gpu: Gpu, model: str, engine: str | Engine, **kw) -> Deployment:
    entry = catalog.models[MODEL_IDS[model]]
    return Deployment.of(catalog, model=entry, gpu=gpu, quant=catalog.quantizations["bf16"],
                      engine=catalog.engines[engine] if isinstance(engine, str) else engine, **kw)


def compare_transformers(catalog: Catalog, rows: list[dict]) -> list[Comparison]:
    """Serving with transformers: device memory at the end, and the prefill's wall time."""
    gpu = measured_gpu(catalog, rows)
    out = []
    first = True  # the file's first case includes warm-up in its prefill time
    for r in rows:
        if r.get("kind") != "case" or not r.get("ok", True):
            continue
        warm_up, first = first, False
        context = r["prompt"] + r["decode"]
        est = estimate(_deployment(catalog, gpu, r["model"], "transformers", context=context,
                                            prompt_tokens=r["prompt"], batch=r["batch"]))
        tag: dict[str, Any] = dict(engine="transformers", device=gpu.id)
        out.append(Comparison("memory", r["model"], r["batch"], r["prompt"], r["device_used_end"],
                              est.memory.per_gpu, **tag))
        if r.get("prefill_s") and est.ttft_s and not warm_up:
            out.append(Comparison("prefill", r["model"], r["batch"], r["prompt"], r["prefill_s"], est.ttft_s,
                                  **tag))
    return out


def compare_decode(catalog: Catalog, rows: list[dict]) -> list[Comparison]:
    """One decode step of the CUDA-graph harness (``cuda_graph_harness``)."""
    gpu = measured_gpu(catalog, rows)
    harness = cuda_graph_harness(catalog)
    out = []
    for r in rows:
        if r.get("kind") != "decode" or not r.get("ok", True):
            continue
        est = estimate(_deployment(catalog, gpu, r["model"], harness, context=r["context"],
                                            prompt_tokens=min(r["context"], 2048), batch=r["batch"],
                                            gpus=r.get("tp", 1)))  # tensor parallel rows: measure_tp.py
        out.append(Comparison("decode_step", r["model"], r["batch"], r["context"], r["step_s"], est.decode_step_s,
                              engine="vllm", device=gpu.id))
    return out


def _llamacpp_estimate(catalog: Catalog, gpu: Gpu, row: dict, **kw):
    entry = catalog.models[MODEL_IDS[row["model"]]]
    quant = catalog.quantizations[GGUF_QUANT_IDS.get(row["quant"], row["quant"])]
    return estimate(Deployment.of(catalog, model=entry, gpu=gpu, quant=quant, engine=catalog.engines["llama.cpp"],
                                  **kw))


# MoE models of the H200 set: their 16-bit experts take mul_mat_id's synchronizing fallback in a prompt, which
# keeps ggml-cuda from capturing a CUDA graph (ggml_cuda_graph_check_compability, ggml_cuda_mul_mat_id_needs_sync)
LLAMACPP_MOE_MODELS = frozenset({"deepseek-moe-16b", "deepseek-v2-lite"})


def llama_bench_prompt_s(b: dict, captures: bool = True) -> float:
    """Seconds for llama-bench's ``n_prompt`` tokens, without the repetition that captured a CUDA graph.

    ggml-cuda (``ggml_backend_cuda_graph_compute``) runs a graph directly until a second call has the same node
    properties, then captures and instantiates a CUDA graph in that call, and replays it after. A prompt of one
    micro-batch (pp512 at ``-ub 512``) repeats its graph: from an empty cache the warm-up runs it directly, the
    first repetition captures (10-25 ms more on the H200, run 7), later ones replay; after a cached prefix the
    first repetition follows the prefix's own micro-batches and runs directly, the second (state restored, the
    same graph again) captures. Longer prompts change their cache view every micro-batch and never capture,
    nor does a graph with a synchronizing node (``captures`` False: 16-bit routed experts in a prompt).
    The capture is a one-off per graph in a process, not a prompt's cost: that repetition is left out and the
    others' times averaged (llama-bench's ``avg_ts`` averages tokens/s over all). Rows without per-repetition
    samples keep ``avg_ts``."""
    n, samples = b["n_prompt"], b.get("samples_ts") or []
    if not captures or len(samples) < 2 or n > b.get("n_ubatch", 512):
        return n / b["avg_ts"]
    capture = 1 if b.get("n_depth") else 0
    kept = [n / ts for i, ts in enumerate(samples) if i != capture]
    return sum(kept) / len(kept)


def llamacpp_measured(row: dict) -> list[tuple[str, int, int, float, dict]]:
    """(quantity, batch, tokens, measured seconds, deployment keywords) for one llama.cpp row.

    prefill: llama-bench pp512/pp2048 from an empty cache, seconds for the prompt; decode: tg128, seconds per
    token, from an empty cache and after 8192 (run 7: 4096-32768) tokens (timed at the context reached);
    prefill_depth (run 7): pp512 after 4096-32768 cached tokens, compared with the estimate's prompt of depth +
    512 tokens less its prompt of depth (the same pairs of query and key); batched_decode: llama-batched-bench's
    generation phase at 2-64 sequences of 512 + 128 tokens (run 7: 4
    and 16 of 4096 + 32), seconds per step. A Q8_0 KV cache (``-ctk q8_0 -ctv q8_0``) is compared as the
    catalog's q8_0-kv; runs with flash attention off are left out (the estimate is llama.cpp's default on a
    GPU, flash attention on).
    """
    out = []
    captures = not (row["quant"] in GGUF_QUANT_IDS and row["model"] in LLAMACPP_MOE_MODELS)
    for b in row.get("bench", []):
        if b.get("flash_attn", 1) in (0, False):  # llama-bench writes 0 or 1
            continue
        depth = b.get("n_depth") or 0
        kv = dict(kv_dtype=LLAMACPP_KV_TYPES[b["type_k"]]) if b.get("type_k", "f16") != "f16" else {}
        if b["n_prompt"] and not depth:
            n = b["n_prompt"]
            out.append(("prefill", 1, n, llama_bench_prompt_s(b, captures),
                        dict(context=n + 128, prompt_tokens=n, **kv)))
        elif b["n_prompt"]:  # n prompt tokens after depth cached ones: a prompt of depth + n less one of depth
            n = b["n_prompt"]
            out.append(("prefill_depth", 1, depth, llama_bench_prompt_s(b, captures),
                        dict(context=depth + n + 128, prompt_tokens=depth + n, depth=depth, **kv)))
        elif b["n_gen"]:
            ctx = depth + b["n_gen"]
            out.append(("decode", 1, ctx, 1 / b["avg_ts"], dict(context=ctx, prompt_tokens=min(ctx, 2048), **kv)))
    for b in row.get("batched", []):
        if b["pl"] >= 2 and b.get("speed_tg"):
            ctx = b["pp"] + b["tg"]
            out.append(("batched_decode", b["pl"], ctx, b["pl"] / b["speed_tg"],
                        dict(context=ctx, prompt_tokens=b["pp"], batch=b["pl"])))
    return out


def llamacpp_held_out(r: dict) -> bool:
    """Whether a llama.cpp row is in the held-out part (benchmarks/data/llamacpp-h200/README.md)."""
    if r.get("run") in LLAMACPP_HELD_OUT_BY_RUN:
        split = LLAMACPP_HELD_OUT_BY_RUN[r["run"]]
        return r["model"] in split or (r["model"], r["quant"]) in split
    return (r["model"] in LLAMACPP_HELD_OUT_MODELS or r["quant"] in LLAMACPP_HELD_OUT_QUANTS
            or (r["model"], r["quant"]) in LLAMACPP_HELD_OUT_ROWS or r.get("run") in LLAMACPP_HELD_OUT_RUNS)


def compare_llamacpp(catalog: Catalog, rows: list[dict]) -> list[Comparison]:
    """llama.cpp on a GPU (benchmarks/data/llamacpp-h200): GGUF file size, prompt time, decode and batched
    decode. Rows of formats the catalog does not hold are left out."""
    out = []
    for r in rows:
        if "bench" not in r or GGUF_QUANT_IDS.get(r["quant"], r["quant"]) not in catalog.quantizations:
            continue
        gpu = measured_gpu(catalog, [{"kind": "device", "gpu": r["gpu"].split(",")[0]}])
        held = llamacpp_held_out(r)
        tag = dict(quant=r["quant"], engine="llama.cpp", device=gpu.id, held_out=held)
        est = _llamacpp_estimate(catalog, gpu, r, context=640, prompt_tokens=512)
        out.append(Comparison("weights", r["model"], 1, 0, r["gguf_bytes"], est.memory.weights, **tag))
        for quantity, batch, tokens, seconds, kw in llamacpp_measured(r):
            depth = kw.pop("depth", 0)
            est = _llamacpp_estimate(catalog, gpu, r, **kw)
            value = est.ttft_s if quantity.startswith("prefill") else est.decode_step_s
            if depth and value:  # the cached prefix's own prompt time is not in the measurement
                before = _llamacpp_estimate(catalog, gpu, r, **{**kw, "prompt_tokens": depth}).ttft_s
                value = value - before if before else None
            if value:
                out.append(Comparison(quantity, r["model"], batch, tokens, seconds, value,
                                      kv=kw.get("kv_dtype", ""), **tag))
    return out


def compare_published(catalog: Catalog, rows: list[dict]) -> list[Comparison]:
    """Published measurements (benchmarks/data/published): one figure per row, in tokens per second, with its
    source and conditions. Rows the estimator gives no figure for (no compute rate for the GPU) are left out;
    ``published_unknown`` counts them."""
    out = []
    for r in rows:
        est = _published_estimate(catalog, r)
        value = None if est is None else (est.ttft_s if r["metric"] == "prefill" else est.decode_step_s)
        if value:
            out.append(Comparison(r["metric"], r["model"], r["batch"], r["tokens"], published_seconds(r), value,
                                  quant=r["quant"], engine=r["engine"], device=r["gpu"],
                                  held_out=r["part"] == "held-out", gpus=r.get("gpus", 1)))
    return out


def published_seconds(row: dict) -> float:
    """Seconds for the prompt (prefill) or for one step of ``batch`` sequences (decode)."""
    if row["metric"] == "prefill":
        return row["tokens"] / row["tokens_per_s"]
    return row["batch"] / row["tokens_per_s"]


def _published_estimate(catalog: Catalog, r: dict):
    return estimate(_published_deployment(catalog, r))


def _published_deployment(catalog: Catalog, r: dict) -> Deployment:
    """The deployment a published row ran: its GPU(s), format, engine and release (``engine_version``) and, where
    given, layout."""
    entry = catalog.models[r["model"]]
    prompt = r["tokens"] if r["metric"] == "prefill" else min(r["tokens"], 512)
    context = r["tokens"] + (128 if r["metric"] == "prefill" else 0)
    d = Deployment.of(catalog, model=entry, gpu=catalog.gpus[r["gpu"]], quant=catalog.quantizations[r["quant"]],
                      engine=catalog.engines[r["engine"]], context=context, prompt_tokens=prompt, batch=r["batch"],
                      gpus=r.get("gpus", 1), engine_version=r.get("engine_version"))
    if "tp" in r:  # the layout the row was measured with (multi-GPU rows)
        d = pin_layout(d, tp=r["tp"], pp=r.get("pp"))
    if "layout" in r:  # tp, pp, ep, dp_attention, mtp as the row ran them
        d = pin_layout(d, **r["layout"])
    return d


def published_unknown(catalog: Catalog, rows: list[dict]) -> list[dict]:
    """Published rows the estimator has no figure for, e.g. prompt time on a GPU without a compute rate."""
    out = []
    for r in rows:
        est = _published_estimate(catalog, r)
        if (est.ttft_s if r["metric"] == "prefill" else est.decode_step_s) is None:
            out.append(r)
    return out
