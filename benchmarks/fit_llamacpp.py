"""Fit llama.cpp's speed constants on the fit part of benchmarks/data/llamacpp-h200 (held-out rows never enter).

    python benchmarks/fit_llamacpp.py [--prefill-only] [--refit-prompts]
    python benchmarks/fit_llamacpp.py --depth [--rows] [--report]  # only decode attention at depth (runs 7, 11)
    python benchmarks/fit_llamacpp.py --forms   # run 11: the MMA kernel's candidate cost forms, fitted and compared
    # --prefill-only: keep the catalog's decode constants; --refit-prompts: refit the F16 prompt rate and the
    # prompt experts' share too (kept from run 4 otherwise: docs/method.md, llama.cpp's fourth round)

Each constant is fitted on the rows whose physics it models by a least-squares search over the log error
(estimated / measured), in rounds until they settle: decode at one sequence (the per-layer cost on F16 dense
rows, the decode attention rate on the rows after 8,192 tokens, the MoE and MLA layer costs, the dequantizing
kernels' weights per second for each kernel class), the 16-bit rate and the routed-expert share of prompts,
then batched decode: the cost per further sequence and layer, and 16-bit weights above mmf's 16 columns (the
vector kernel's cost per further sequence, MMQ's, mmf's and the routed experts' at 2-8 tokens are the kernels'
own figures on the H200, run 6; only GPUs without them take the row-fitted 2.1e13 weights/s a column).
MoE layers are fitted apart for block-quantized and 16-bit experts (run 6). The batched quantized matmul's constants (its int8 rate and per-format factors,
the pass unpacking the weights into each tile, the fixed cost per matmul and tile, the routed experts' decode
share) and the logits copy are not fitted on rows: they are read off llama.cpp's kernels timed alone
(benchmarks/fit_llamacpp_kernels.py over h200-kernels.jsonl). The bandwidth efficiency stays at the measured
copy rate (0.90). It prints the constants and the fit error; the values in catalog/engines/engines.yaml are
these, rounded. docs/method.md gives each with the rows or kernels behind it.
"""

from __future__ import annotations

import math
import sys
import statistics
from dataclasses import replace
from pathlib import Path

from dsadvisor.catalog.store import load_catalog
from dsadvisor.physics.calibration import MODEL_IDS, compare_llamacpp, read_rows, with_engine_speed
from dsadvisor.physics.ggml_attention import uses_mma_decode

ROWS_ALL = read_rows(Path(__file__).resolve().parent / "data" / "llamacpp-h200" / "h200-lcpp.jsonl")
# run 9's fit rows set only the constants of its formats (Q4_0, Q2_K, BF16: benchmarks/fit_llamacpp_formats.py); run 10
# (16-bit batched decode at 16-128 sequences) checks f16_gemm_matmul_s, read off the kernels (fit_llamacpp_16bit.py); the
# IQ4_XS rows (run 1, run 12) set only IQ4_XS's own rate (benchmarks/fit_llamacpp_gguf.py)
ROWS = [r for r in ROWS_ALL if r.get("run") not in (9, 10, 12) and r["quant"] != "iq4_xs"]
DEPTH_ROWS = read_rows(Path(__file__).resolve().parent / "data" / "llamacpp-h200" / "h200-lcpp-depth.jsonl")
MOE = {"deepseek-moe-16b", "deepseek-v2-lite"}
MLA = {"deepseek-v2-lite"}
GQA = {"r1-distill-qwen-1.5b", "r1-distill-qwen-7b", "r1-distill-qwen-14b", "r1-distill-qwen-32b", "r1-distill-llama-8b"}
MHA = {"deepseek-coder-1.3b", "deepseek-coder-6.7b", "deepseek-llm-7b", "deepseek-moe-16b"}
RUN11_MODELS = {"deepseek-coder-33b", "deepseek-coder-5.7bmqa", "deepseek-r1-0528-qwen3-8b"}
QUANTIZED = {"q8_0", "q5_k_m", "q4_k_m", "q3_k_m", "q6_k", "q2_k", "q4_0"}


def errors(catalog, speed, keep, rows=None) -> list[float]:
    comps = compare_llamacpp(with_engine_speed(catalog, "llama.cpp", speed), ROWS if rows is None else rows)
    return [math.log(c.estimated / c.measured) for c in comps if not c.held_out and keep(c)]


def rows_for(catalog, speed, keep, rows=None) -> list[dict]:
    """The rows (model and format) with a fit comparison ``keep`` takes: a search estimates only those."""
    rows = ROWS if rows is None else rows
    comps = compare_llamacpp(with_engine_speed(catalog, "llama.cpp", speed), rows)
    pairs = {(c.model, c.quant) for c in comps if not c.held_out and keep(c)}
    return [r for r in rows if (r["model"], r["quant"]) in pairs]


def loss(catalog, speed, keep, rows=None) -> float:
    e = errors(catalog, speed, keep, rows)
    return sum(x * x for x in e) / max(1, len(e))


def search(catalog, speed, field, keep, lo, hi, key=None, steps=14, rows=None):
    """The value of ``field`` (or of ``field[key]``) in [lo, hi] (log grid, then refined) with least loss."""
    def with_value(v):
        if key is None:
            return replace(speed, **{field: v})
        return replace(speed, **{field: {**getattr(speed, field), key: v}})
    rows = rows_for(catalog, speed, keep, rows)
    for _ in range(3):
        grid = [lo * (hi / lo) ** (i / steps) for i in range(steps + 1)]
        best = min(grid, key=lambda v: loss(catalog, with_value(v), keep, rows))
        span = (hi / lo) ** (2 / steps)
        lo, hi = best / span, best * span
    return with_value(best), best


def is_(quantity, *, quants=None, moe=None, mla=None, batch=None, deep=None):
    def keep(c):
        return (c.quantity == quantity and (quants is None or c.quant in quants)
                and (moe is None or (c.model in MOE) == moe) and (mla is None or (c.model in MLA) == mla)
                and (batch is None or batch(c.batch)) and (deep is None or (c.tokens > 1000) == deep))
    return keep


def fit_decode(catalog, s, out):
    for _ in range(2):  # the decode terms share rows: alternate until they settle
        s, out["per_layer_decode_s"] = search(catalog, s, "per_layer_decode_s",
                                              is_("decode", quants={"f16"}, moe=False, deep=False), 5e-6, 2e-4)
        s, out["decode_attention_flops_per_byte"] = search(catalog, s, "decode_attention_flops_per_byte",
                                                           is_("decode", deep=True), 0.1, 50)
        # block-quantized experts (mul_mat_vec_q with ids) and 16-bit ones (their own kernel) apart (run 6)
        s, out["per_moe_layer_decode_s"] = search(catalog, s, "per_moe_layer_decode_s",
                                                  is_("decode", quants=QUANTIZED, moe=True, mla=False), 1e-7, 2e-4)
        s, out["per_moe_layer_decode_16bit_s"] = search(catalog, s, "per_moe_layer_decode_16bit_s",
                                                        is_("decode", quants={"f16"}, moe=True, mla=False), 1e-7, 2e-4)
        s, out["per_mla_layer_decode_s"] = search(catalog, s, "per_mla_layer_decode_s",
                                                  is_("decode", mla=True, deep=False), 1e-7, 2e-4)
        for q, key in (("q8_0", "q8_0"), ("q5_k_m", "q5_k_m"), ("q4_k_m", "q4_k_m"), ("q3_k_m", "vdr1")):
            s, out[f"dequant_weights_per_s[{key}]"] = search(catalog, s, "dequant_weights_per_s",
                                                             is_("decode", quants={q}), 5e11, 1e14, key=key)
    return s


def fit_prefill(catalog, s, out):
    # cuBLAS's F16 GEMMs on the H200 (compute capability 9.x; other GPUs keep linear_efficiency, docs/method.md)
    s, out["linear_efficiency_by_dtype[fp16@9]"] = search(catalog, s, "linear_efficiency_by_dtype",
                                                          is_("prefill", quants={"f16"}, moe=False), 0.1, 1.0,
                                                          key="fp16@9")
    s, out["moe_expert_efficiency_16bit"] = search(catalog, s, "moe_expert_efficiency_16bit",
                                                   is_("prefill", quants={"f16"}, moe=True), 0.01, 1.0)
    s, out["moe_expert_efficiency"] = search(catalog, s, "moe_expert_efficiency",
                                             is_("prefill", quants=QUANTIZED, moe=True), 0.05, 1.0)
    return s


def fit_batched(catalog, s, out):
    small = lambda b: 2 <= b <= 8  # noqa: E731 - the vector kernel's batch sizes (MMVQ_MAX_BATCH_SIZE)
    # what every further sequence costs per layer besides its matmul columns, KV bytes and logits, in any format
    s, out["per_sequence_layer_decode_s"] = search(catalog, s, "per_sequence_layer_decode_s",
                                                   is_("batched_decode"), 1e-8, 1e-5)
    if not s.dequant_column_weights_per_s_by_format:  # the H200 has the kernels' own figures (run 6): rows keep out
        s, out["dequant_column_weights_per_s"] = search(
            catalog, s, "dequant_column_weights_per_s", is_("batched_decode", quants=QUANTIZED, batch=small), 1e12,
            1e14)
    # above mmf's 16 columns (cuBLAS) on the H200; every batch on GPUs without mmf's timings
    s, out["batched_16bit_weights_per_s"] = search(
        catalog, s, "batched_16bit_weights_per_s",
        is_("batched_decode", quants={"f16"}, batch=lambda b: b > (16 if s.f16_block_s else 1)), 3e11, 1e14)
    return s


def fit_depth(catalog, s, out, form="d"):
    """llama.cpp's decode attention over a long cache (runs 7 and 11 and the earlier runs' 8,192-token rows, fit
    part only): the MMA kernel's cost a layer on the single-sequence rows it runs (``is_mma``), the cost per
    (query head, cached token) with a 16-bit cache on the other GQA / MHA decode rows past 1,000 tokens (batched
    rows at 4,096 too) and with a Q8_0 cache, and a Q8_0 cache's fixed cost a layer on the rows at 128 tokens."""
    rows = ROWS + DEPTH_ROWS
    deep = lambda c: c.tokens > 1000 and c.model not in MLA  # noqa: E731
    mma = lambda c: c.quantity == "decode" and is_mma(catalog, c)  # noqa: E731
    f16 = lambda c: (c.quantity in ("decode", "batched_decode") and deep(c) and not c.kv  # noqa: E731
                     and (s.fattn_mma_layer_s is None or not is_mma(catalog, c)))
    q8_deep = lambda c: c.quantity == "decode" and deep(c) and c.kv == "q8_0-kv"  # noqa: E731
    q8_short = lambda c: c.quantity == "decode" and c.tokens < 1000 and c.kv == "q8_0-kv"  # noqa: E731
    for _ in range(2):
        if form == "d":  # the MMA kernel: a fixed cost a layer besides the cache's bytes (run 11; the adopted form)
            s, out["fattn_mma_layer_s"] = search(catalog, s, "fattn_mma_layer_s", mma, 1e-7, 1e-4, rows=rows)
        elif form in ("b", "c"):  # per (token, layer), or per (8-head tile, token) with --forms' tile patch
            s, out["fattn_mma_token_s"] = search(catalog, s, "fattn_mma_token_s", mma, 1e-12, 1e-8, rows=rows)
        s, out["fattn_head_token_s[f16]"] = search(catalog, s, "fattn_head_token_s", f16, 1e-12, 1e-9, key="f16",
                                                   rows=rows)
        s, out["fattn_quantized_layer_s"] = search(catalog, s, "fattn_quantized_layer_s", q8_short, 1e-7, 1e-4,
                                                   rows=rows)
        s, out["fattn_head_token_s[quantized]"] = search(catalog, s, "fattn_head_token_s", q8_deep, 1e-12, 1e-9,
                                                         key="quantized", rows=rows)
        # MLA's absorbed attention keeps its own rate (the MMA kernel at head size 576): refit with run 7's depths
        s, out["decode_attention_flops_per_byte"] = search(catalog, s, "decode_attention_flops_per_byte",
                                                           is_("decode", mla=True, deep=True), 0.1, 50, rows=rows)
        # a further sequence's cost per layer was fitted with the KV bytes alone: refit it with the attention
        s, out["per_sequence_layer_decode_s"] = search(catalog, s, "per_sequence_layer_decode_s",
                                                       is_("batched_decode"), 1e-8, 1e-5, rows=rows)
    # prompts after a cached prefix (pp512 / pp2048 at depth, F16 cache): flash attention's share of the 16-bit
    # rate by attention kind
    for kind, models in (("gqa", GQA), ("mha", MHA), ("mla", MLA)):
        keep = lambda c, m=models: c.quantity == "prefill_depth" and c.model in m and not c.kv  # noqa: E731
        s, out[f"attention_efficiency_by_kind[{kind}]"] = search(catalog, s, "attention_efficiency_by_kind", keep,
                                                                 0.005, 1.0, key=kind, rows=rows)
    return s


def is_mma(catalog, c) -> bool:
    """Whether a comparison's decode token runs the MMA flash-attention kernel (ggml_attention.uses_mma_decode)."""
    arch = catalog.models[MODEL_IDS[c.model]].architecture
    return arch.attention == "gqa" and uses_mma_decode(q_heads=arch.num_attention_heads,
                                                       kv_heads=arch.num_key_value_heads, context=c.tokens,
                                                       batch=c.batch, quantized_kv=bool(c.kv))


def fit(catalog):
    s = catalog.engines["llama.cpp"].speed
    # f16_gemm_matmul_s 0: the cuBLAS pass above 16 columns and the rest fitted as before run 10 (the pass stays for
    # GPUs off the H200's generation; on it the kernels' per-matmul cost replaces it: fit_llamacpp_16bit.py)
    s = replace(s, quantized_vector_max_batch=8, batched_16bit_weights_per_s=None, per_layer_prefill_s=0.0,
                f16_gemm_matmul_s=0.0,
                per_sequence_layer_decode_s=0.0)
    out: dict[str, float] = {}
    if "--prefill-only" not in sys.argv:  # keep the catalog's decode constants (they do not enter a prompt)
        s = replace(s, bandwidth_efficiency=0.90, dequant_weights_per_s={"default": 3.3e12},
                    decode_attention_flops_per_byte=2.0, per_mla_layer_decode_s=0.0)
        s = fit_decode(catalog, s, out)
    for _ in range(2):  # the per-sequence cost enters every batched step: all of it once more
        if "--refit-prompts" in sys.argv:  # run 5 keeps run 4's prompt constants (docs/method.md, fourth round)
            s = fit_prefill(catalog, s, out)
        if "--prefill-only" not in sys.argv:  # the MMQ rate enters batched decode steps: decode once more
            s = fit_decode(catalog, s, out)
        s = fit_batched(catalog, s, out)
    return s, out


def depth_report(catalog, speed, rows_out=False) -> None:
    """Decode past 1,000 cached tokens (GQA / MHA; all runs), fit and held out apart: the MMA kernel's rows, the
    other F16-cache rows, the Q8_0-cache rows; with ``rows_out`` every run-11 and MMA comparison."""
    comps = [c for c in compare_llamacpp(with_engine_speed(catalog, "llama.cpp", speed), ROWS + DEPTH_ROWS)
             if c.quantity == "decode" and c.tokens > 1000 and c.model not in MLA]
    groups = (("MMA (F16, GQA > 4, >= 8K)", lambda c: is_mma(catalog, c)),
              ("other F16", lambda c: not c.kv and not is_mma(catalog, c)), ("Q8_0 cache", lambda c: bool(c.kv)))
    for part, held in (("fit", False), ("held out", True)):
        for name, keep in groups:
            e = [abs(c.estimated / c.measured - 1) for c in comps if c.held_out == held and keep(c)]
            if e:
                print(f"{part:8} {name:26} n={len(e):3d} max {max(e):6.1%} median {statistics.median(e):6.1%} "
                      f"within 15 % {sum(x <= 0.15 for x in e)}/{len(e)}")
    if rows_out:
        for c in sorted(comps, key=lambda c: (c.held_out, c.model, c.kv, c.quant, c.tokens)):
            if is_mma(catalog, c) or c.model in RUN11_MODELS:
                print(f"  {'held' if c.held_out else 'fit '} {c.model:26} {c.quant:6} {c.kv or 'f16-kv':8} "
                      f"{c.tokens:6d} {'MMA' if is_mma(catalog, c) else 'vec'} {c.estimated / c.measured - 1:+7.1%}")


def tile_patch(on: bool) -> None:
    """Candidate (c) of run 11's forms: the MMA kernel's cost per (8-head tile, token) instead of per (token,
    layer): ggml_attention.decode_attention_s with fattn_mma_token_s x tiles (KV heads x ceil(ratio / 8))."""
    import dsadvisor.physics.ggml_attention as ga
    if not hasattr(ga, "_plain"):
        ga._plain = ga.decode_attention_s
    if not on:
        ga.decode_attention_s = ga._plain
        return

    def tiled(**kw):
        if kw.get("mma_layer_s") is not None and ga.uses_mma_decode(
                q_heads=kw["q_heads"], kv_heads=kw["kv_heads"], context=kw["context"], batch=kw["batch"],
                quantized_kv=kw["quantized_kv"]):
            tiles = kw["kv_heads"] * math.ceil(kw["q_heads"] / kw["kv_heads"] / 8)
            kw["mma_token_s"] = kw["mma_token_s"] * tiles
        return ga._plain(**kw)
    ga.decode_attention_s = tiled


def forms(catalog) -> None:
    """Run 11's candidate forms of the MMA kernel's cost, each fitted on the fit rows only (with the other depth
    constants refitted beside it); the one with the least loss on the fit decode rows past 1,000 tokens (F16
    cache) is adopted (the rule written before run 11 was measured: notes-lcpp-depth.md)."""
    base = replace(catalog.engines["llama.cpp"].speed, fattn_mma_layer_s=None, fattn_mma_token_s=0.0)
    keep = lambda c: c.quantity == "decode" and c.tokens > 1000 and c.model not in MLA and not c.kv  # noqa: E731
    for form, start in (("a", dict()), ("b", dict(fattn_mma_layer_s=0.0)), ("c", dict(fattn_mma_layer_s=0.0)),
                        ("d", dict(fattn_mma_layer_s=1e-5))):
        tile_patch(form == "c")
        out: dict[str, float] = {}
        s = fit_depth(catalog, replace(base, **start), out, form)
        print(f"form ({form}) fit loss {loss(catalog, s, keep, ROWS + DEPTH_ROWS):.5f} " + " ".join(
            f"{k}={v:.3g}" for k, v in out.items() if "mma" in k or k == "fattn_head_token_s[f16]"))
        depth_report(catalog, s)
    tile_patch(False)


def main() -> None:
    catalog = load_catalog()
    if "--forms" in sys.argv:
        forms(catalog)
        return
    if "--depth" in sys.argv:
        speed, out = catalog.engines["llama.cpp"].speed, {}
        if "--report" in sys.argv:  # the catalog's constants as they are, no refit
            depth_report(catalog, speed, "--rows" in sys.argv)
            return
        speed = fit_depth(catalog, speed, out, "d" if speed.fattn_mma_layer_s is not None else "a")
        for k, v in out.items():
            print(f"{k:36} {v:.4g}")
        for q in ("decode", "batched_decode", "prefill_depth"):
            keep = lambda c, q=q: c.quantity == q  # noqa: E731
            e = [abs(math.exp(x) - 1) for x in errors(catalog, speed, keep, ROWS + DEPTH_ROWS)]
            print(f"fit {q:15} n={len(e):3d} max {max(e):6.1%} median {statistics.median(e):6.1%}")
        depth_report(catalog, speed, "--rows" in sys.argv)
        return
    speed, out = fit(catalog)
    for k, v in out.items():
        print(f"{k:36} {v:.4g}")
    for q in ("weights", "prefill", "decode", "batched_decode"):
        e = [abs(math.exp(x) - 1) for x in errors(catalog, speed, lambda c, q=q: c.quantity == q)]
        print(f"fit {q:15} n={len(e):3d} max {max(e):6.1%} median {statistics.median(e):6.1%}")


if __name__ == "__main__":
    main()
