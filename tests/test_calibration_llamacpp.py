"""llama.cpp measured on an H200 (benchmarks/data/llamacpp-h200): every row compares, held-out rows are
the ones the README names, and the file sizes the estimator gives stay within the weights target."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsadvisor.physics.calibration import (
    LLAMACPP_HELD_OUT_MODELS,
    LLAMACPP_HELD_OUT_QUANTS,
    LLAMACPP_HELD_OUT_ROWS,
    LLAMACPP_HELD_OUT_RUNS,
    compare_llamacpp,
    llama_bench_prompt_s,
    llamacpp_measured,
    read_rows,
    with_engine_speed,
)

ROWS = read_rows(Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "llamacpp-h200" / "h200-lcpp.jsonl")


@pytest.fixture(scope="module")
def comps(catalog):
    return compare_llamacpp(catalog, ROWS)


@pytest.fixture(scope="module")
def comps_runs_1_to_7(catalog):
    """Runs 8, 9 and 10 (Q4_0, Q2_K, BF16: run 8 held out, run 9 split by model and format; run 10 16-bit batched
    decode at 16-128 sequences) have their own tests below; run 12 (GGUF formats) in tests/test_formats_gguf.py."""
    return compare_llamacpp(catalog, [r for r in ROWS if r.get("run") not in (8, 9, 10, 12)])


def test_every_catalog_format_row_gives_every_metric(comps, catalog):
    compared = [r for r in ROWS if {"f16": "fp16"}.get(r["quant"], r["quant"]) in catalog.quantizations]
    assert len(compared) == 62  # every row: IQ4_XS (run 1, run 12) has a catalog format since run 12
    for r in compared:
        mine = [c for c in comps if c.model == r["model"] and c.quant == r["quant"]]
        # prefill_depth: pp512 / pp2048 after 8,192 cached tokens; run 10 ran llama-batched-bench alone
        same = [x for x in compared if x["model"] == r["model"] and x["quant"] == r["quant"]]  # repeats (runs 4, 10)
        every = {"weights", "prefill", "prefill_depth", "decode", "batched_decode"}
        assert {c.quantity for c in mine} == (every if any(x["bench"] for x in same) else {"weights", "batched_decode"})
        assert len(mine) == sum(1 + len(llamacpp_measured(x)) for x in same)


def test_the_cuda_graph_capture_repetition_is_left_out():
    """One micro-batch's prompt: from an empty cache the first repetition captures, after a prefix the second;
    a longer prompt, or a graph that cannot be captured, keeps every repetition (llama-bench's mean)."""
    entry = dict(n_prompt=512, n_ubatch=512, n_depth=0, avg_ts=200.0, samples_ts=[100.0, 256.0, 512.0])
    assert llama_bench_prompt_s(entry) == pytest.approx((2.0 + 1.0) / 2)
    assert llama_bench_prompt_s({**entry, "n_depth": 4096}) == pytest.approx((5.12 + 1.0) / 2)
    assert llama_bench_prompt_s({**entry, "n_prompt": 2048}) == pytest.approx(2048 / 200.0)
    assert llama_bench_prompt_s(entry, captures=False) == pytest.approx(512 / 200.0)
    assert llama_bench_prompt_s({k: v for k, v in entry.items() if k != "samples_ts"}) == pytest.approx(512 / 200.0)


def test_the_capturing_repetition_is_the_slowest_on_the_h200():
    """The data behind it: in every one-micro-batch prompt whose graph can be captured (runs 1-5 and 7, F16 and
    Q8_0 caches, flash attention on and off; run 8's six and run 9's twenty, measured after the mechanism was written,
    agree), the repetition the mechanism names is the slowest of its test, but one of 204 (run 7, a Q8_0 cache after
    4K tokens, within 3 %)."""
    import json
    data = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "llamacpp-h200"
    entries = [(r, b) for f in ("h200-lcpp.jsonl", "h200-lcpp-depth.jsonl") for line in (data / f).open()
               for r in [json.loads(line)] for b in r["bench"]
               if b["n_prompt"] and b["n_prompt"] <= b["n_ubatch"] and len(b.get("samples_ts", [])) >= 2
               and not (r["quant"] == "f16" and r["model"] in ("deepseek-moe-16b", "deepseek-v2-lite"))]
    slowest = [min(range(len(b["samples_ts"])), key=b["samples_ts"].__getitem__) == (1 if b["n_depth"] else 0)
               for _, b in entries]
    assert len(entries) == 204 and sum(slowest) == len(entries) - 1


def test_held_out_rows_are_the_named_models_and_formats(comps_runs_1_to_7, catalog):
    comps = comps_runs_1_to_7
    held = {(c.model, c.quant) for c in comps if c.held_out}
    assert held == {(c.model, c.quant) for c in comps
                    if c.model in LLAMACPP_HELD_OUT_MODELS or c.quant in LLAMACPP_HELD_OUT_QUANTS
                    or (c.model, c.quant) in LLAMACPP_HELD_OUT_ROWS
                    or (c.model, c.quant) in {(r["model"], r["quant"]) for r in ROWS
                                              if r.get("run") in LLAMACPP_HELD_OUT_RUNS}}
    assert held and len(held) < len({(c.model, c.quant) for c in comps})
    # run 9's split, as its README entry wrote it before any comparison: deepseek-coder-6.7b and the Q4_K_M anchor
    run9 = compare_llamacpp(catalog, [r for r in ROWS if r.get("run") == 9])
    assert {(c.model, c.quant) for c in run9 if c.held_out} == {
        ("deepseek-coder-6.7b", "q4_0"), ("deepseek-coder-6.7b", "q2_k"), ("deepseek-coder-6.7b", "bf16"),
        ("deepseek-llm-7b", "q4_k_m")}
    assert {(c.model, c.quant) for c in run9 if not c.held_out} == {
        (m, q) for m in ("deepseek-llm-7b", "r1-distill-llama-8b") for q in ("q4_0", "q2_k", "bf16")}


def test_measured_seconds_are_physical():
    """llama-bench's rates turn into seconds per prompt and per token in a plausible range for an H200."""
    for r in ROWS:
        for quantity, batch, tokens, seconds, _ in llamacpp_measured(r):
            assert 1e-3 < seconds < 2.0, (r["model"], r["quant"], quantity, batch, tokens, seconds)


def _worst(comps, quantity, held_out):
    rows = [c for c in comps if c.quantity == quantity and c.held_out == held_out]
    assert rows, (quantity, held_out)
    return max(rows, key=lambda c: abs(c.error))


@pytest.mark.parametrize("held_out", [False, True])
def test_gguf_file_sizes_within_5_percent(comps, held_out):
    """Each k-quant mix class by class, the MoE experts' fallback types included (DeepSeek-MoE-16B Q4_K_M was 7.7 %
    under before the classes were counted)."""
    worst = _worst(comps, "weights", held_out)
    assert abs(worst.error) <= 0.05, f"{worst} {worst.error:+.1%}"


@pytest.mark.parametrize(("quantity", "fit_bound", "held_bound"), [
    # decode: deepseek-coder-1.3b Q4_K_M at 128 tokens is 17 % slow (R1-Distill-Qwen-1.5B F16 after 8K tokens, 17 %
    # fast before run 7's attention cost per query head, is 13 % fast); held out, run 5's DeepSeek-MoE-16B Q5_K_M /
    # Q3_K_M and R1-Distill-Llama-8B Q5_K_M at one sequence are 13 % slow; the rest within 15 % (docs/method.md,
    # llama.cpp's decode)
    ("decode", 0.18, 0.21),
    # prompts, without llama-bench's CUDA-graph capture repetition (llama_bench_prompt_s; the 1.5B / 1.3B Q4_K_M
    # pp512 were 21-24 % fast with it averaged in): V2-Lite F16 pp2048 +16 %, held out within 11 %
    ("prefill", 0.17, 0.12),
    # pp512 / pp2048 after 8,192 cached tokens, since run 7's flash-attention rates by attention kind (were up to
    # 59 % fast), without the capture repetition and with the GQA tiles' padding heads (gqa_head_share): fit
    # R1-Distill-Qwen-32B Q3_K_M +12 %, held out deepseek-coder-6.7b Q3_K_M +15 % (R1-Distill-Llama-8B F16, GQA 4,
    # was +31 %)
    ("prefill_depth", 0.12, 0.15),
    # batched, since the kernel-measured MMQ constants (run 5): the F16 Llama-shaped 7Bs at 2 sequences (+27..31 %),
    # (16-bit above 16 sequences within 18 % since run 10's cuBLAS cost per matmul: fit_llamacpp_16bit.py)
    # V2-Lite Q6_K / Q8_0 at 16-32 (+26..31 %), deepseek-coder-1.3b at 9 (+26..30 %) and DeepSeek-MoE-16B F16 at 8
    # (+27 %) are the rows over 25 % (were up to 40 %)
    ("batched_decode", 0.31, 0.32),
])
def test_llamacpp_speed_on_the_h200(comps_runs_1_to_7, quantity, fit_bound, held_bound):
    fit, held = _worst(comps_runs_1_to_7, quantity, False), _worst(comps_runs_1_to_7, quantity, True)
    assert abs(fit.error) <= fit_bound, f"fit {fit} {fit.error:+.1%}"
    assert abs(held.error) <= held_bound, f"held-out {held} {held.error:+.1%}"


@pytest.mark.parametrize(("quantity", "bound"), [
    # run 8 (R1-Distill-Qwen-7B in Q4_0, Q2_K and BF16, held out; docs/method.md, "Run 8" and "Run 9"): within the
    # issue's targets since run 9's format constants (were Q4_0 / Q2_K decode +21 %, Q2_K prompts -33 %), but BF16
    # at 64 sequences, +36 % before run 10's cuBLAS cost per matmul (f16_gemm_matmul_s), +17 % after
    ("weights", 0.05),  # Q4_0 -2.1 %, Q2_K +0.1 %, BF16 0.0 %
    ("decode", 0.15),  # BF16 -8.0 %, Q4_0 -4.6 %, Q2_K -1.6 %
    ("prefill", 0.25),  # BF16 +11.8 %, Q2_K +7.1 %, Q4_0 +4.4 %
    ("prefill_depth", 0.25),  # BF16 +17.5 %
    ("batched_decode", 0.18),  # BF16 at 64 +17.0 % (was +35.5 %); Q2_K at 64 +17.3 %, Q4_0 at 64 +15.5 %
])
def test_run_8_formats_held_out(catalog, quantity, bound):
    comps = compare_llamacpp(catalog, [r for r in ROWS if r.get("run") == 8])
    assert all(c.held_out for c in comps)
    worst = _worst(comps, quantity, True)
    assert abs(worst.error) <= bound, f"{worst} {worst.error:+.1%}"


@pytest.mark.parametrize(("quantity", "fit_bound", "held_bound"), [
    # run 9: fit part (deepseek-llm-7b, R1-Distill-Llama-8B) and held out (deepseek-coder-6.7b, deepseek-llm-7b
    # Q4_K_M) at the targets; 16-bit batched decode at 64 sequences R1-Distill-Llama-8B BF16 +10.9 % since
    # run 10's cuBLAS cost per matmul (was +26.7 %)
    ("weights", 0.05, 0.05),
    ("decode", 0.15, 0.15),  # fit Q4_0 / Q2_K +3.7 / +4.3 % (were +27 %); held out Q4_0 +7.0 % (was +30 %)
    ("prefill", 0.25, 0.25),  # fit BF16 +16.2 %, Q2_K 2.3 % (was -28 %); held out BF16 +15.2 %
    ("prefill_depth", 0.25, 0.25),
    ("batched_decode", 0.25, 0.25),
])
def test_run_9_formats(catalog, quantity, fit_bound, held_bound):
    comps = compare_llamacpp(catalog, [r for r in ROWS if r.get("run") == 9])
    fit, held = _worst(comps, quantity, False), _worst(comps, quantity, True)
    assert abs(fit.error) <= fit_bound, f"fit {fit} {fit.error:+.1%}"
    assert abs(held.error) <= held_bound, f"held-out {held} {held.error:+.1%}"


@pytest.mark.parametrize("held_out", [False, True])
def test_run_10_16bit_batched_decode(catalog, held_out):
    """Run 10 (16-128 sequences; R1-Distill-Qwen-7B F16 fit, R1-Distill-Llama-8B BF16 held out, no constant fitted
    on either: f16_gemm_matmul_s is read off the kernels): within 15 % at every batch size (were +6..+27 % and
    +13..+36 % with the weight pass above 16 columns), but the fit row at 20 sequences: -15.2 % since run 11's
    F16 cost per (head, token), 5.73e-11 -> 4.68e-11 once the MMA kernel's rows left its fit (-13.6 % before)."""
    comps = [c for c in compare_llamacpp(catalog, [r for r in ROWS if r.get("run") == 10])
             if c.quantity == "batched_decode" and c.held_out == held_out]
    assert len(comps) == 9 and {c.batch for c in comps} == {16, 20, 24, 32, 40, 48, 64, 96, 128}
    assert max(abs(c.error) for c in comps) <= (0.15 if held_out else 0.16)
    assert sum(abs(c.error) <= 0.15 for c in comps) >= 8
    assert {c.quant for c in comps} == ({"bf16"} if held_out else {"f16"})


def test_run_9_format_constants_reproduce_from_their_fit(catalog):
    """benchmarks/fit_llamacpp_formats.py on run 9's fit rows gives the catalog's Q4_0 / Q2_K constants (rounded)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from fit_llamacpp_formats import fit

    _, out = fit(catalog)
    s = catalog.engines["llama.cpp"].speed
    for key, value in (("dequant_weights_per_s[q4_0]", s.dequant_weights_per_s["q4_0"]),
                       ("dequant_weights_per_s[q2_k]", s.dequant_weights_per_s["q2_k"]),
                       ("mmq_format_factor[q4_0]", s.mmq_format_factor["q4_0"]),
                       ("mmq_format_factor[q2_k]", s.mmq_format_factor["q2_k"]),
                       ("dequant_column_weights_per_s_by_format[q4_0]", s.dequant_column_weights_per_s_by_format["q4_0"]),
                       ("mmq_column_weights_per_s_by_format[q4_0]", s.mmq_column_weights_per_s_by_format["q4_0"])):
        assert out[key] == pytest.approx(value, rel=0.02), key
    # Q4_0 unpacks faster than the K-quants' default, Q2_K faster than Q3_K's VDR-1 class; Q2_K's MMQ tile slower
    assert s.dequant_weights_per_s["q4_0"] > s.dequant_weights_per_s["default"]
    assert s.dequant_weights_per_s["vdr1"] < s.dequant_weights_per_s["q2_k"] < s.dequant_weights_per_s["q4_k_m"]
    assert s.mmq_format_factor["q2_k"] < s.vdr1_linear_factor < 1.0 < s.mmq_format_factor["q4_0"]


ALL_PUBLISHED = read_rows(Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "published" /
                          "llamacpp-published.jsonl")
# the first two rounds' rows (the third round's, with their own bounds and misses: tests/test_calibration_published.py)
PUBLISHED = [r for r in ALL_PUBLISHED if r.get("round", 1) < 3]


def test_published_rows_name_source_conditions_and_part():
    for r in ALL_PUBLISHED:
        assert r["source"].startswith("https://") and r["conditions"] and r["part"] in ("fit", "held-out")


# Published rows the estimate misses, each with what it shows (docs/method.md, llama.cpp's decode)
KNOWN_MISSES: dict = {}  # the RTX 4090 F16 prompt and Q4_0 32K decode are within the bounds since run 4's refit


def test_published_llamacpp_rows(catalog):
    """Apple (Metal) and consumer CUDA decode, consumer prompt processing: decode within 20 %, prompts and batched
    decode within 25 % (the RTX 3090's 4-sequence row is +20 %: the vector kernel's cost per further sequence is
    measured on the H200 only)."""
    from dsadvisor.physics.calibration import compare_published, published_unknown

    comps = compare_published(catalog, PUBLISHED)
    assert len(comps) + len(published_unknown(catalog, PUBLISHED)) == len(PUBLISHED)
    for c in comps:
        known = KNOWN_MISSES.get((c.device, c.quant, c.quantity, c.tokens))
        if known:  # still off by more than the bound: when this fails, the miss is fixed; move it to the bound
            assert abs(c.error) > 0.20, f"{c} {c.error:+.1%} is no longer a miss ({known})"
            continue
        bound = 0.20 if c.quantity == "decode" else 0.25
        assert abs(c.error) <= bound, f"{c} {c.error:+.1%}"
    assert {c.device for c in comps} >= {"M2-Ultra-192GB", "M2-Max-96GB", "RTX-4090", "RTX-3090"}


def test_every_published_row_has_an_estimate(catalog):
    """Every device in the published set has the rates the estimate needs (Apple GPUs included)."""
    from dsadvisor.physics.calibration import published_unknown

    assert published_unknown(catalog, PUBLISHED) == []


def test_a_candidate_speed_is_estimated_with_it_and_leaves_the_catalog_alone(catalog):
    # the fit scripts try constants through with_engine_speed: a candidate with twice the fixed cost per layer
    # (48.6 us, 30 layers: ~1.5 ms more on a 4 ms token) must come out slower, the bundled catalog unchanged
    from dataclasses import replace

    row = next(r for r in ROWS if r["model"] == "deepseek-coder-6.7b" and r["quant"] == "q8_0")
    bundled = compare_llamacpp(catalog, [row])
    speed = catalog.engines["llama.cpp"].speed
    slow = with_engine_speed(catalog, "llama.cpp", replace(speed, per_layer_decode_s=2 * speed.per_layer_decode_s))
    assert slow.memo is not catalog.memo and slow.engines["llama.cpp"].speed is not speed
    short_decode = [c.estimated for c in compare_llamacpp(slow, [row]) if c.quantity == "decode" and c.tokens == 128]
    assert short_decode[0] > 1.2 * next(c.estimated for c in bundled if c.quantity == "decode" and c.tokens == 128)
    assert [c.estimated for c in compare_llamacpp(catalog, [row])] == [c.estimated for c in bundled]
