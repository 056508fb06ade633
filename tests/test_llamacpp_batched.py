"""llama.cpp's batched decode physics read off its kernels timed alone on the H200 (run 5,
benchmarks/data/llamacpp-h200/h200-kernels.jsonl; benchmarks/fit_llamacpp_kernels.py): per-format MMQ rates and
unpacking pass, routed experts' tiles, 16-bit GEMMs under the weight read, the pinned logits copy and the cost per
sequence and layer. Each asserts what the model adds, against the constants in engines.yaml."""

from __future__ import annotations

import json
import statistics
from dataclasses import replace
from pathlib import Path

import pytest

from dsadvisor.physics.estimate import Deployment, estimate, on_device, rates_for
from dsadvisor.physics.tiles import dense_tiles

KERNELS = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "llamacpp-h200" / "h200-kernels.jsonl"
QWEN7 = "deepseek-r1-distill-qwen-7b"


@pytest.fixture(scope="module")
def lcpp(catalog):
    return catalog.engines["llama.cpp"]


def _step(catalog, engine, model=QWEN7, batch=1, quant="q4_k_m", gpu="H200-SXM"):
    d = Deployment.of(catalog, model=catalog.models[model], gpu=catalog.gpus[gpu], quant=catalog.quantizations[quant],
                      engine=engine, context=640, prompt_tokens=512, batch=batch)
    return estimate(d).decode_step_s


def _kernel_rows():
    return [json.loads(line) for line in KERNELS.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("ggml_type,fmt", [("q8_0", "q8_0"), ("q4_K", "q4_k_m"), ("q5_K", "q5_k_m"),
                                           ("q6_K", "q6_k"), ("q3_K", "q3_k_m")])
def test_mmq_constants_reproduce_the_timed_kernels(catalog, lcpp, ggml_type, fmt):
    """t = matmul_tile_s + W x (bytes/bandwidth + 1/pass rate) + J x W x 2 / MMQ rate gives R1-Distill-Qwen-7B's
    MLP matmuls at 9-128 columns within 12 % of their measured time, for every format."""
    gpu = catalog.gpus["H200-SXM"]
    quant = catalog.quantizations[fmt]
    rates = rates_for(gpu, lcpp, quant)
    s = lcpp.speed
    bytes_per_weight = {"q8_0": 34 / 32, "q4_K": 144 / 256, "q5_K": 176 / 256, "q6_K": 210 / 256,
                        "q3_K": 110 / 256}[ggml_type]
    errors = []
    for r in _kernel_rows():
        if r["label"] in ("q7-gate", "q7-down") and r["type"] == ggml_type and r["n"] > 8:
            w = r["m"] * r["k"]
            cols = dense_tiles(r["n"], s.mmq_tile_column_step, s.mmq_max_tile_columns)[1]
            t = (s.matmul_tile_s + w * (bytes_per_weight / rates.bandwidth + 1 / s.batched_weights_per_s_by_format[fmt])
                 + 2 * w * cols / rates.linear_flops)
            errors.append(abs(t / (r["us"] * 1e-6) - 1))
    assert len(errors) == 2 * 9 and max(errors) < 0.12


def test_mmq_rates_differ_by_format_as_measured(catalog, lcpp):
    """Q8_0's MMQ is the fastest and Q3_K's the slowest per column (kernels: 240 / 190 / 163 / 156 TFLOP/s)."""
    gpu, q = catalog.gpus["H200-SXM"], catalog.quantizations
    rate = {f: rates_for(gpu, lcpp, q[f]).linear_flops for f in ("q8_0", "q4_k_m", "q6_k", "q3_k_m")}
    assert rate["q8_0"] > rate["q4_k_m"] > rate["q6_k"] > rate["q3_k_m"]
    assert rate["q4_k_m"] == pytest.approx(190e12, rel=0.03)


def test_the_unpacking_pass_stays_on_the_generation_it_was_measured_on(catalog, lcpp):
    assert on_device(lcpp, catalog.gpus["H200-SXM"]).speed.batched_weights_per_s_by_format
    assert not on_device(lcpp, catalog.gpus["RTX-4090"]).speed.batched_weights_per_s_by_format


def test_f16_batched_steps_read_the_weights_once(catalog, lcpp):
    """cuBLAS hides a 16-bit GEMM's FLOPs under its weight read (kernels: 18944 x 3584 F16 takes 46-56 us at every
    N from 1 to 128): from 17 to 64 sequences of the 7B in F16 a step adds only their attention, logits and
    per-sequence cost (both above mmf's 16 columns: the same fixed cost a matmul)."""
    b17, b64 = _step(catalog, lcpp, batch=17, quant="fp16"), _step(catalog, lcpp, batch=64, quant="fp16")
    s = lcpp.speed
    per_sequence = 28 * s.per_sequence_layer_decode_s + 152064 * 4 / s.logits_host_bytes_per_s
    # the 47 further sequences' flash attention over their 768 (padded) cached tokens, 28 query heads a layer
    attention = 47 * 28 * 768 * 28 * s.fattn_head_token_s["f16"]
    rest = b64 - b17 - 47 * per_sequence - attention
    assert abs(rest) < 0.1e-3  # no FLOPs added: the 64-column GEMMs run under the weight read
    summed = replace(lcpp, speed=replace(s, batched_16bit_hides_flops=False))
    assert _step(catalog, summed, batch=64, quant="fp16") - b64 > 1e-3  # the 7B's 64-column FLOPs, ~1.6 ms


def test_cublas_above_16_columns_costs_each_matmul_a_fixed_time(catalog, lcpp):
    """Run 10: above 16 columns each 16-bit weight matmul costs f16_gemm_matmul_s beyond the one-column kernel,
    no pass over the weights: R1-Distill-Qwen-7B runs 28 x 7 projections and its head, 197 matmuls a step."""
    s = lcpp.speed
    assert s.f16_gemm_matmul_s > 0
    none = replace(lcpp, speed=replace(s, f16_gemm_matmul_s=0.0, batched_16bit_weights_per_s=None))
    for b in (17, 64, 128):
        added = _step(catalog, lcpp, batch=b, quant="fp16") - _step(catalog, none, batch=b, quant="fp16")
        assert added == pytest.approx(197 * s.f16_gemm_matmul_s)
    # at 16 columns mmf, not cuBLAS: the constant does not enter
    assert _step(catalog, lcpp, batch=16, quant="fp16") == pytest.approx(_step(catalog, none, batch=16, quant="fp16"))


def test_cublas_fixed_cost_is_what_the_small_matrices_take(catalog, lcpp):
    """The k/v and q/o projections (1-17M weights: their bytes take 1-8 us) take 3-6 us more above 16 columns
    than at one (run 10 kernels, F16 and BF16): the fixed cost is theirs within 2 us."""
    path = KERNELS.with_name("h200-kernels-run10.jsonl")
    t: dict = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if r["label"] in ("l8-kv", "l8-qo", "q7-kv"):
            t.setdefault((r["label"], r["type"]), {})[r["n"]] = r["us"] * 1e-6
    assert len(t) == 5
    for times in t.values():
        above = statistics.median(v - times[1] for n, v in times.items() if n > 16)
        assert abs(above - lcpp.speed.f16_gemm_matmul_s) < 2e-6


def test_the_cublas_fixed_cost_stays_on_the_generation_it_was_measured_on(catalog, lcpp):
    """Off the H200's generation the 16-bit GEMM keeps the pass over the weights fitted on the rows."""
    assert on_device(lcpp, catalog.gpus["H200-SXM"]).speed.f16_gemm_matmul_s > 0
    ada = on_device(lcpp, catalog.gpus["RTX-4090"]).speed
    assert ada.f16_gemm_matmul_s == 0 and ada.batched_16bit_weights_per_s


def test_each_further_sequence_costs_its_layers(catalog, lcpp):
    without = replace(lcpp, speed=replace(lcpp.speed, per_sequence_layer_decode_s=0.0))
    for b in (1, 9, 64):
        added = _step(catalog, lcpp, batch=b) - _step(catalog, without, batch=b)
        assert added == pytest.approx(28 * (b - 1) * lcpp.speed.per_sequence_layer_decode_s)


def test_routed_expert_tiles_run_at_their_measured_share_in_decode_only(catalog, lcpp):
    """MUL_MAT_ID's 8-16-column expert tiles reach ~0.2 of the dense MMQ column rate in decode steps; prompts (48
    columns an expert) keep moe_expert_efficiency."""
    assert lcpp.speed.moe_expert_decode_efficiency < lcpp.speed.moe_expert_efficiency
    model = "deepseek-moe-16b-base"
    as_prompt = replace(lcpp, speed=replace(lcpp.speed, moe_expert_decode_efficiency=None))
    assert _step(catalog, lcpp, model, batch=64) > _step(catalog, as_prompt, model, batch=64) * 1.1
    assert _step(catalog, lcpp, model, batch=8) == _step(catalog, as_prompt, model, batch=8)  # vector kernel


def test_the_logits_copy_runs_at_the_pinned_rate():
    """llama.cpp's output buffer is the device's host (pinned) buffer type; the kernels measured 5.4e10 B/s into
    pinned memory and 1.0e10 into pageable."""
    rows = [r for r in _kernel_rows() if r["type"] == "copy" and r["n"] >= 16]
    pinned = statistics.median(r["bytes"] / r["us"] * 1e6 for r in rows if r["pinned"])
    pageable = statistics.median(r["bytes"] / r["us"] * 1e6 for r in rows if not r["pinned"])
    assert pinned > 4 * pageable
    assert pinned == pytest.approx(5.4e10, rel=0.05)


def test_the_engine_memo_keeps_the_pass_apart_by_generation(catalog, lcpp):
    """The per-engine memo (physics.rates.engine_for) keys on the compute capability too: an RTX 4090 estimate
    first must not take the H200's measured pass away from a later H200 estimate."""
    from dsadvisor.physics import rates

    rates._ENGINES_FOR.clear()
    _step(catalog, lcpp, batch=64, gpu="RTX-4090")
    fresh = replace(lcpp)  # another identity: not memoised
    assert _step(catalog, lcpp, batch=64) == _step(catalog, fresh, batch=64)
