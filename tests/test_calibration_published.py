"""Published measurements of llama.cpp, vLLM and SGLang (benchmarks/data/published): every row names its source and
part, every comparable row gets an estimate, and the errors stay at the floors docs/method.md reports (a
regression fails here). The bounds are where the figures are today, not the issue's targets: the rows that miss
those are named in docs/method.md ("Published rows, third round")."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from dsadvisor.physics.calibration import read_rows

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "benchmarks" / "data" / "published"


@pytest.fixture(scope="module")
def script(calibration_script):
    return calibration_script


@pytest.fixture(scope="module")
def comps(catalog, script):
    """Every published comparison, with its set name."""
    return [(name, c) for name, cs in script.collect(catalog) if name.endswith("-published") for c in cs]


def test_every_row_names_source_part_and_why_not_compared():
    for path in PUBLISHED.glob("*.jsonl"):
        for r in read_rows(path):
            assert r["source"] and r["conditions"] and r["part"] in ("fit", "held-out"), r
            if r.get("comparable", True) is False:
                assert r["not_compared"], r
            if r.get("round") == 3 and r["part"] == "fit":  # the README's rule: only the int4 MoE kernel's own PR
                assert "vllm/pull/13321" in r["source"], r


def test_every_comparable_row_is_compared(comps, catalog, script):
    """Nothing silently dropped: comparable rows = comparisons (no GPU without rates, no refused layout)."""
    n = sum(len(script.comparable(p)) for p in PUBLISHED.glob("*.jsonl"))
    assert len(comps) == n >= 83
    assert {script.device_class(catalog, c) for _, c in comps} >= {"consumer", "apple", "datacenter", "multi-GPU",
                                                                    "workstation"}
    assert {c.engine for _, c in comps} >= {"llama.cpp", "vllm", "sglang", "tensorrt-llm"}


def _errors(comps, **match):
    return [abs(c.error) for _, c in comps if all(getattr(c, k) == v for k, v in match.items())]


def test_all_published_rows_at_their_floors(comps):
    """Fit part: the four fitted sources (M2 Ultra, RTX 3090/4090 prompts, vLLM PR 13321) within 7 %. Held out
    (105 rows since round 4 added XiongjieDai's professional-GPU tables; 104 since round 5 found the L40S F16 pp512
    run faulty from its own notebook, benchmarks/data/published/README.md): median 14.6 %, 52 % within 15 % (16.8 % /
    46 % as every row's current engine). Issue 12's target is 10 % / 80 %: not met. Round 4's six fit rows set a
    measured difference, not an estimate (tests/test_engine_versions.py): they are not held to 7 %."""
    fit = [abs(c.error) for _, c in comps if not c.held_out and not (c.engine == "llama.cpp" and c.tokens == 64)]
    held = _errors(comps, held_out=True)
    # PR 7676 / 7860 / 3084 ran without flash attention; since their constants are refitted so
    # (benchmarks/fit_published_prompts.py) the prompt fit rows are within 2 % (7860 at +1.9 %: its share is at the
    # schema's ceiling of the 16-bit rate) and the fit part's worst row is vLLM PR 13321's +6.8 %
    assert len(fit) >= 13 and max(fit) <= 0.07
    assert len(held) >= 104  # 105 less the L40S F16 pp512 run, not comparable since round 5 (faulty)
    assert statistics.median(held) <= 0.15
    assert sum(e <= 0.15 for e in held) / len(held) >= 0.50


def test_the_first_seventy_held_out_rows_as_the_releases_they_ran(catalog, script):
    """The 70 held-out rows of rounds 1-3: median 14.5 % and 53 % within 15 % as the current engine, 12.5 % and
    57 % as the engine release each ran (engine_version, round 4)."""
    from dsadvisor.physics.calibration import compare_published

    held = []
    for path in PUBLISHED.glob("*.jsonl"):
        rows = [r for r in script.comparable(path) if r.get("round", 1) <= 3 and r["part"] == "held-out"]  # rounds 1-3
        held += compare_published(catalog, [r for r in rows if "served" not in r])
        held += script.compare_served(catalog, [r for r in rows if "served" in r])
    errors = [abs(c.error) for c in held]
    assert len(errors) == 70
    assert statistics.median(errors) <= 0.13 and sum(e <= 0.15 for e in errors) / len(errors) >= 0.56


def test_apple_and_consumer_held_out_rows(comps, catalog, script):
    """Apple (Metal) held out: median 9.5 %; consumer CUDA: 11.5 % (the F16 prompts, 2.6-2.8x, are its misses).
    Consumer here is NVIDIA's (CUDA): round 9's Radeon rows (ROCm) are bounded in test_amd_rows_are_a_named_miss."""
    by = {}
    for _, c in comps:
        if c.held_out and script.vendor(catalog, c) != "amd":
            by.setdefault(script.device_class(catalog, c), []).append(abs(c.error))
    # round 8's M1 Max rows (held out, benchmarks/data/published/README.md) moved the Apple median from 9.5 to
    # 10.1 %: its Q4_K_M decode is estimated 25 % too fast
    assert statistics.median(by["apple"]) <= 0.11
    assert statistics.median(by["consumer"]) <= 0.08  # 6.9 % as the builds they ran (8.9 % as the current one)
    # the RTX 4090 pp4096 of May 2024: -42 % as the current build, +3 %. Since round 6 the worst is the RTX 3090's
    # F16 tg512 of May 2024 (-7 -> +20 %): the 2024 matrix-vector ceiling is fitted on Q4 rows (mul_mat_vec_q, 7.8
    # GB/s a SM), and F16's dequantize_mul_mat_vec reached 9.5 (docs/method.md, round 6)
    assert max(by["consumer"]) <= 0.21
    decode = [abs(c.error) for _, c in comps if c.held_out and c.quantity == "decode" and c.engine == "llama.cpp"
              and script.device_class(catalog, c) in ("apple", "consumer") and script.vendor(catalog, c) != "amd"]
    # 15 of 18 within 15 % since llama.cpp's run-4 refit (47 us a layer, was 61): the RTX 3090 / 4090 Q4_K_M
    # tg256 / 2048-deep rows moved from -11 % to -16 % (docs/method.md, llama.cpp's decode); 14 of 18 since run 5's
    # logits copy at the measured pinned rate (5.4e10 B/s, was fitted at 1.06e10): M2 Ultra Llama-8B Q4_K_M after
    # 2,048 tokens went from -14.8 % to -15.1 %
    # with round 8's rows (RTX 3070-4080 and the M1 Max, held out) 20 of 26: the RTX 3080 10 GB tg512 (+16 %) and
    # the M1 Max Q4_K_M tg512 (-25 %) are the new misses
    assert len(decode) >= 26 and sum(e <= 0.15 for e in decode) / len(decode) >= 0.76


def test_vllm_int4_moe_rows(comps):
    """vLLM's 4-bit MoE: the fit rows (PR 13321, 8 x A100) within 7 %; held out, R1-0528-AWQ on 8 x H100
    (tt-inference-server 356) within 5 % and R1-AWQ on 8 x A800 (PR 14138) within 20 %. Before the term, all were
    54-76 % too fast."""
    awq = [(n, c) for n, c in comps if c.engine == "vllm" and c.quant == "awq-int4"]
    for _, c in awq:
        if not c.held_out:
            assert abs(c.error) <= 0.07, c
        elif c.device == "H100-SXM" and c.tokens in (256, 2176):
            assert abs(c.error) <= 0.05, c
        elif c.device == "A800-SXM-80GB":
            assert abs(c.error) <= 0.20, c
    assert sum(c.device == "A800-SXM-80GB" for _, c in awq) == 4


def test_sglang_r1_served_rows_within_20_percent(comps):
    """InferenceX: R1-0528 FP8 on 8 x H200, SGLang 0.5.7, concurrency 8-64, served TPOT: -13..-18 %."""
    rows = [c for _, c in comps if c.engine == "sglang" and c.device == "H200-SXM" and c.model == "deepseek-r1-0528"]
    assert len(rows) == 4 and all(abs(c.error) <= 0.20 for c in rows)


def test_tensor_parallel_across_nodes_pays_the_network_all_reduce():
    """TP 16 over two 8-GPU nodes: 19.9 us (nccl-tests, two ranks over InfiniBand) + 14 NVLink LL hops of
    0.936 us = 33.0 us an all-reduce, at the network port's 50 GB/s; inside one node nothing changes."""
    from dsadvisor.physics.timing import Rates, across_nodes

    rates = Rates(bandwidth=1.0, linear_flops=None, attention_flops=None, link_bandwidth=450e9, link_latency=14.5e-6,
                  decode_link_latency=5e-6, decode_link_bandwidth=245e9)
    assert across_nodes(rates, 8, 8) is rates
    two = across_nodes(rates, 16, 8)
    assert two.link_latency == pytest.approx(33.0e-6, rel=0.01) and two.link_bandwidth == 50e9
    assert two.decode_link_latency is None  # no NVLink kernel across nodes
    four = across_nodes(rates, 32, 8)
    assert four.link_latency == pytest.approx(33.0e-6 + 19.9e-6, rel=0.01)


def test_two_node_sglang_r1_is_slower_than_in_node_but_still_a_named_miss(comps):
    """The 16 x H100 SGLang TP 16 rows: tt-inference-server 356 estimated at 43-44 % of the measured step (28 %
    before the network all-reduce), sglang issue 4417 at 29-33 %. What is left is not modelled (docs/method.md)."""
    rows = [c for _, c in comps if c.engine == "sglang" and c.device == "H100-SXM" and c.gpus == 16]
    assert len(rows) == 4
    for c in rows:
        assert 0.25 <= c.estimated / c.measured <= 0.50, c
    assert sum(0.40 <= c.estimated / c.measured for c in rows) == 2


def test_calibration_prints_the_all_published_summary(catalog, script, capsys):
    lines = script.published_summary(script.collect(catalog), catalog)
    text = "\n".join(lines)
    assert "all published rows" in text and "held-out" in text and "multi-GPU" in text


def test_published_rows_lists_every_compared_row_with_its_release(catalog, script):
    """`calibration.py --published-rows`: one line per compared row, each paired with its own row (the PR 7676 fit
    row is an RTX 4090 Q4_0 prompt of a 2024-06-24 build), the worst miss first within a group."""
    lines = script.published_rows(catalog)
    assert len(lines) == sum(len(script.comparable(p)) for p in PUBLISHED.glob("*.jsonl"))
    pr7676 = [line for line in lines if "pull/7676" in line]
    assert len(pr7676) == 1 and " fit " in pr7676[0] and "RTX-4090 x1" in pr7676[0] and "q4_0 prefill" in pr7676[0]
    assert "[2024-06-24]" in pr7676[0]
    errors = [abs(float(line.split("%")[0])) for line in lines
              if "llama.cpp    datacenter  " in line and " decode " in line]
    assert errors == sorted(errors, reverse=True) and len(errors) >= 10


def test_tensorrt_llm_r1_rows(comps):
    """NVIDIA's R1 guide: max-throughput on 8 x H200 (attention DP, concurrency 1024) within 27 % and on 8 x B200
    (concurrency 3072) within 15 %; the MTP min-latency rows are a named miss, estimated 1.6-1.9x too fast
    (docs/method.md). The H200 floor moved from 10 % with the MoE exchange under attention DP (timing.moe_exchange_s):
    the step's 2 x 61 all-reduces of the whole batch (23 ms) had hidden a gap elsewhere; TensorRT-LLM all-gathers
    and reduce-scatters (7.3 ms), and aiconfigurator 0.12.0 with NVIDIA's kernel tables estimates 69.9 ms (-21 %).
    The B200 row was +59.5 % with the all-reduces."""
    trt = {(c.device, c.batch): c for _, c in comps if c.engine == "tensorrt-llm"}
    assert abs(trt[("H200-SXM", 1024)].error) <= 0.27
    assert abs(trt[("B200", 3072)].error) <= 0.15
    for gpu in ("H200-SXM", "B200"):
        ratio = trt[(gpu, 1)].measured / trt[(gpu, 1)].estimated
        assert 1.5 <= ratio <= 2.0, (gpu, ratio)


def test_llamacpp_f16_gemm_runs_at_the_geforce_fp16_accumulate_rate(catalog, comps):
    """llama.cpp's cuBLAS F16 GEMM accumulates in fp16: on a GeForce card it gets the fp16-accumulate rate (twice
    fp16_tflops); vLLM (fp32 accumulate) and professional cards (no split) keep fp16_tflops. The published RTX
    3090/4090 F16 prompts were 2.6-2.8x slow before, +30..+43 % with that rate, within 12 % since llama.cpp's
    run-4 refit (F16 at 0.57 of the rate plus 12.6 us per matmul tile); within 13 % as the builds ran, without flash
    attention (PR 4766's RTX 4090 +12.9 %, XiongjieDai's RTX 3090 / 4090 -7.0 / +0.9 %)."""
    from dsadvisor.physics.rates import _linear_rate

    lcpp, vllm, fp16 = catalog.engines["llama.cpp"], catalog.engines["vllm"], catalog.quantizations["fp16"]
    g4090, a6000 = catalog.gpus["RTX-4090"], catalog.gpus["RTX-A6000"]
    assert _linear_rate(g4090, lcpp, fp16) == pytest.approx(330.3e12 * lcpp.speed.linear_efficiency)
    assert _linear_rate(g4090, vllm, fp16) == pytest.approx(g4090.fp16_tflops * 1e12 * vllm.speed.linear_efficiency)
    assert _linear_rate(a6000, lcpp, fp16) == pytest.approx(a6000.fp16_tflops * 1e12 * lcpp.speed.linear_efficiency)
    rows = [c for _, c in comps if c.engine == "llama.cpp" and c.quant == "fp16" and c.quantity == "prefill"
            and c.device in ("RTX-3090", "RTX-4090")]
    assert len(rows) == 3 and all(abs(c.error) <= 0.13 for c in rows)


def test_round_seven_rows_parse_name_a_source_and_are_held_out():
    """Round 7 (benchmarks/data/published/README.md): every new row parses, opens at an https source, states its
    engine release and workload, and is held out (the rule written before any was compared)."""
    rows = [r for p in PUBLISHED.glob("*.jsonl") for r in read_rows(p) if r.get("round") == 7]
    assert len(rows) >= 26  # 13 SGLang cookbook rows, 6 vLLM CI latency rows, 7 GPUStack H100 rows
    for r in rows:
        assert r["source"].startswith("https://") and r["conditions"] and r["engine_version"], r
        assert r["part"] == "held-out", r
        w = r["served"]
        assert w["isl"] > 0 and w["osl"] > 0 and w["concurrency"] == r["batch"], r
        assert r["tokens"] == w["isl"] + w["osl"], r
