"""Engine releases (physics.versions, engines.yaml speed.versions): a deployment that names an older llama.cpp build
is estimated with the behaviours of before each change its data lists, the basis says which, and the one new
constant (the per-layer cost without CUDA graphs) is the measured difference of its six fit rows."""

from __future__ import annotations

import statistics
from dataclasses import replace
from pathlib import Path

import pytest

from dsadvisor.physics.calibration import read_rows
from dsadvisor.physics.estimate import Deployment, estimate
from dsadvisor.physics.versions import dequantize_pass_s, older

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "benchmarks" / "data" / "published"


def test_versions_compare_as_dates_or_release_numbers():
    assert older("2023-12-22", "2024-05-08", "date") and not older("2024-05-08", "2024-05-08", "date")
    assert not older("not stated (2025-03)", "2024-05-08", "date")  # no build date: the current engine
    assert older("0.4.1.post2", "0.4.3", "release") and not older("0.5.7", "0.4.3", "release")
    assert not older("not stated", "0.4.3", "release")


def _llamacpp(catalog, gpu: str, quant: str, version: str | None, **kw) -> Deployment:
    return Deployment.of(catalog, model=catalog.models["deepseek-coder-6.7b-base"], gpu=catalog.gpus[gpu],
                         quant=catalog.quantizations[quant], engine=catalog.engines["llama.cpp"], context=640,
                         prompt_tokens=512, engine_version=version, **kw)


def test_builds_before_cuda_graphs_pay_a_launch_per_layer(catalog):
    """32 layers x 22 us more a decode step on an Ampere or newer GPU; Metal and the current build unchanged."""
    new = estimate(_llamacpp(catalog, "RTX-4090", "q4_0", None))
    old = estimate(_llamacpp(catalog, "RTX-4090", "q4_0", "2023-12-22"))
    # (the matmul rate of the step changes too: the old build multiplies in fp16, the new one at MMQ's int8 share,
    # which the FA-less refit of PR 7676 raised from 0.29 to 0.32 (benchmarks/fit_published_prompts.py): 1.1 %)
    assert old.decode_step_s - new.decode_step_s == pytest.approx(32 * 2.2e-5, rel=0.02)
    assert any("CUDA graphs" in f and "2023-12-22" in f for f in old.basis.facts)
    assert not any("before CUDA graphs" in f for f in new.basis.facts)
    assert any("speed modelled for" in f for f in new.basis.facts)  # every estimate says what it models
    assert estimate(_llamacpp(catalog, "RTX-4090", "q4_0", "2025-09-05")).decode_step_s == new.decode_step_s
    apple = [estimate(_llamacpp(catalog, "M2-Ultra-192GB", "q4_0", v)).decode_step_s for v in (None, "2023-08-30")]
    assert apple[0] == apple[1]


def _mmq_change(catalog):
    """llama.cpp's change to MMQ for quantized prompts (PR 8075): before it, the dequantize-to-fp16 path."""
    changes = catalog.engines["llama.cpp"].speed.versions.changes
    return next(c for c in changes if c.quantized_prefill_dequantized_before)


def test_builds_before_mmq_dequantize_quantized_prompts_to_fp16(catalog):
    """Before PR 8075 a quantized prompt runs the F16 GEMM of the same model plus a pass writing every weight as
    fp16 per micro-batch: the prompt of Q4_0 weights = the F16 prompt + that pass, on a GeForce card too."""
    per_sm = _mmq_change(catalog).dequant_fp16_weights_per_sm_s_before["q4_0"]
    for gpu in ("RTX-4090", "RTX-A6000", "H100-PCIe"):
        q4 = estimate(_llamacpp(catalog, gpu, "q4_0", "2023-12-22"))
        f16 = estimate(_llamacpp(catalog, gpu, "fp16", "2023-12-22"))
        d = _llamacpp(catalog, gpu, "q4_0", "2023-12-22")
        arch = catalog.architecture(d.model)
        # every weight but the token table and the output matrix (only the last token reaches it)
        weights = q4.params_total - 2 * arch.vocab_size * arch.hidden_size
        bandwidth = catalog.gpus[gpu].bandwidth_gbs * 1e9 * catalog.engines["llama.cpp"].speed.bandwidth_efficiency
        kernel = catalog.gpus[gpu].sm_count * per_sm  # Q4_0's to-fp16 kernel: weights a second
        extra = dequantize_pass_s(catalog.quantizations["q4_0"].bits_per_weight, weights, 512, 512, bandwidth,
                                  kernel)
        assert q4.ttft_s - f16.ttft_s == pytest.approx(extra, rel=0.005)
        # HBM cards run the pass at the kernel's rate, slower than their bandwidth; the RTX 4090 at its bandwidth
        read_write = weights * (catalog.quantizations["q4_0"].bits_per_weight / 8 + 2) / bandwidth
        assert (extra > read_write * 1.2) == (gpu == "H100-PCIe")
        now = estimate(_llamacpp(catalog, gpu, "q4_0", "2024-06-24"))
        assert now.ttft_s != q4.ttft_s  # from PR 8075 on: MMQ


def test_the_graph_less_cost_is_the_mean_measured_difference_of_its_fit_rows(catalog):
    rows = [r for r in read_rows(PUBLISHED / "llamacpp-published.jsonl") if r.get("round") == 4 and r["part"] == "fit"]
    assert len(rows) == 6 and all(r["part"] == "fit" for r in rows)
    by_gpu: dict[str, dict[str, float]] = {}
    for r in rows:
        by_gpu.setdefault(r["gpu"], {})[r["engine_version"]] = r["tokens_per_s"]
    layers = 32  # LLaMA 2 7B
    per_layer = statistics.mean((1 / v["2024-04-19"] - 1 / v["2024-05-08"]) / layers for v in by_gpu.values())
    change = catalog.engines["llama.cpp"].speed.versions.changes[0]
    assert change.since == "2024-05-08" and change.per_layer_decode_s_before == pytest.approx(per_layer, abs=5e-7)


def test_every_published_row_names_its_engine_version():
    for path in PUBLISHED.glob("*.jsonl"):
        for r in read_rows(path):
            if "cpu_moe_layers" not in r:
                assert r.get("engine_version"), r


def test_december_2023_workstation_decode_within_15_percent(catalog):
    """XiongjieDai's RTX A6000 / 6000 Ada rows (./main, builds b1685/b1691): 8-23 % too fast as the current build,
    within 13 % as the build they ran (context shift and no CUDA graphs)."""
    from dsadvisor.physics.calibration import compare_published

    rows = [r for r in read_rows(PUBLISHED / "llamacpp-published.jsonl")
            if r.get("engine_build", "").startswith(("b1685", "b1691")) and r["metric"] == "decode"]
    comps = compare_published(catalog, rows)
    assert len(comps) == 4 and all(abs(c.error) <= 0.15 for c in comps)
    current = compare_published(catalog, [dict(r, engine_version=None) for r in rows])
    assert max(abs(c.error) for c in current) > 0.15


def test_a_deployment_without_a_version_is_the_engine_as_it_is(catalog):
    d = _llamacpp(catalog, "H200-SXM", "q4_k_m", None)
    assert estimate(d).decode_step_s == estimate(replace(d, engine_version="2026-01-01")).decode_step_s


def test_builds_before_flash_attention_by_default_run_attention_as_f16_gemms(catalog):
    """Before PR 15434 (2025-08-30) a prompt's attention is two batched cuBLAS GEMMs (KQ, KQV) over the whole
    rectangle of queries x keys (the mask applies after the product), at the device's F16 GEMM rate (GeForce:
    fp16 accumulate; Metal: its F16 matmul share), plus the KQ matrix written and read: 16 bytes per (query, key,
    head) at the bandwidth. 512 tokens of LLaMA 7B in one micro-batch: 512 x 512 x 32 heads x 32 layers. The
    current build runs flash attention over the causal half at the attention rate."""
    from dsadvisor.physics.versions import KQ_BYTES_PER_ELEMENT

    speed = catalog.engines["llama.cpp"].speed
    for gpu in ("RTX-4090", "M2-Ultra-192GB"):
        before = estimate(_llamacpp(catalog, gpu, "q4_0", "2025-01-01"))
        after = estimate(_llamacpp(catalog, gpu, "q4_0", "2025-09-05"))
        g = catalog.gpus[gpu]
        bandwidth = g.bandwidth_gbs * 1e9 * min(speed.bandwidth_efficiency, g.bandwidth_efficiency or 1.0)
        elements = 512 * 512 * 32 * 32
        kq = KQ_BYTES_PER_ELEMENT * elements / bandwidth
        f16 = (g.fp16_acc16_tflops or g.fp16_tflops) * 1e12 * speed.linear_efficiency_by_vendor.get(
            g.vendor, speed.linear_efficiency)
        gemms = 2 * elements * (128 + 128) / f16
        # the current build's flash attention at attention_efficiency: its rates by kind are the H200's generation's
        share = speed.attention_efficiency
        flash = elements / 2 * 2 * (128 + 128) / ((g.bf16_tflops or g.fp16_tflops) * 1e12 * share)
        assert before.ttft_s - after.ttft_s == pytest.approx(kq + gemms - flash, rel=1e-6)
        assert before.decode_step_s == after.decode_step_s  # one query a step: nothing worth counting


def test_attention_without_flash_attention_counts_every_key_of_each_micro_batch():
    """Micro-batches of 512 over a 1,024-token prompt: the first multiplies 512 queries by 512 keys, the second
    by 1,024 (its own and the cached ones), 2 x 512 x 1,536 KQ elements a head: 1.5x the causal half of 1,024^2."""
    from dsadvisor.physics.versions import kq_elements, kq_gemm_flops

    assert kq_elements(1024, 512) == 512 * 512 + 512 * 1024
    assert kq_elements(1024, 0) == 1024 * 1024  # no micro-batch: the whole prompt at once
    assert kq_gemm_flops(32, (128, 128), 32, 1024, 512) == 2 * kq_elements(1024, 512) * 32 * 256 * 32


def test_2024_builds_read_at_most_sm_count_times_the_vector_ceiling(catalog):
    """Builds before 2025-09-05 decode through matrix-vector kernels that keep a fixed number of bytes in flight per
    SM: the step reads at most sm_count x vector_bytes_per_sm_s (docs/method.md, round 6). It binds on the H100
    PCIe (114 SMs) and RTX 3090 (82); the RTX 4090's 128 SMs clear its bandwidth share; the current build, Metal and
    a GPU without an SM count in the catalog read at the bandwidth share."""
    from dsadvisor.physics.estimate import decode_rates, rates_for
    from dsadvisor.physics.versions import at_version

    engine = catalog.engines["llama.cpp"]
    quant = catalog.quantizations["q4_k_m"]
    ceiling = {c.since: c.vector_bytes_per_sm_s_before for c in engine.speed.versions.changes}["2025-09-05"]
    for gpu_id, bound in (("H100-PCIe", True), ("RTX-3090", True), ("RTX-4090", False), ("M2-Ultra-192GB", False)):
        gpu = catalog.gpus[gpu_id]
        rates = rates_for(gpu, engine, quant)
        old = decode_rates(gpu, at_version(engine, gpu, "2024-05-10"), rates).bandwidth
        assert old == (gpu.sm_count * ceiling if bound else rates.bandwidth), gpu_id
        assert decode_rates(gpu, at_version(engine, gpu, "2025-09-05"), rates).bandwidth == rates.bandwidth
    unknown = replace(catalog.gpus["H100-PCIe"], sm_count=None)
    rates = rates_for(unknown, engine, quant)
    assert decode_rates(unknown, at_version(engine, unknown, "2024-05-10"), rates).bandwidth == rates.bandwidth
    slow = estimate(_llamacpp(catalog, "H100-PCIe", "q4_k_m", "2024-05-10"))
    assert slow.decode_step_s > estimate(_llamacpp(catalog, "H100-PCIe", "q4_k_m", "2025-09-05")).decode_step_s


def test_the_vector_ceiling_is_what_its_fit_rows_give(catalog, capsys):
    """benchmarks/fit_vector_ceiling.py refits it on the six 2024 fit decode rows (issue 6763, PR 6766): the
    catalog holds its result rounded to 0.1 GB/s, and with it the H100 PCIe and RTX 3090 fit rows are within 3 %."""
    from .conftest import load_script

    load_script("benchmarks/fit_vector_ceiling.py").main()
    out = capsys.readouterr().out
    fitted = float(out.split("vector_bytes_per_sm_s_before: ")[1].split()[0])
    held = {c.since: c.vector_bytes_per_sm_s_before
            for c in catalog.engines["llama.cpp"].speed.versions.changes}["2025-09-05"]
    assert held == pytest.approx(fitted, abs=0.05e9)
    errors = [float(line.split("with the ceiling")[1].split("%")[0]) for line in out.splitlines()
              if "with the ceiling" in line and ("H100-PCIe" in line or "RTX-3090" in line)]
    assert len(errors) == 4 and max(abs(e) for e in errors) <= 3.0


def test_the_2024_dequantize_rates_are_the_h200_measurement_of_b228aba(catalog):
    """Q4_0 / Q4_K_M: the quantized prompt minus the F16 prompt of the same build on the same H200 (LLaMA-7B shape,
    the fit rows) is the to-fp16 pass; its per-SM rate is the constant, and the held-out Llama-3-8B rows imply the
    same within 8 %. Q8_0's pass runs near the bandwidth (no per-SM figure)."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from fit_may2024_dequant import DATA, implied_rates

    rates = implied_rates(catalog, read_rows(DATA))
    change = _mmq_change(catalog)
    assert set(change.dequant_fp16_weights_per_sm_s_before) == {"q4_0", "q4_k_m"}
    for quant, value in change.dequant_fp16_weights_per_sm_s_before.items():
        assert statistics.mean(rates[("fit", quant)]) == pytest.approx(value, rel=0.01)
        assert all(abs(r / value - 1) < 0.08 for r in rates[("held-out", quant)])
    h200 = catalog.gpus["H200-SXM"]
    q8_bandwidth = statistics.mean(rates[("fit", "q8_0")]) * h200.sm_count * (8.5 / 8 + 2)
    assert q8_bandwidth > 0.8 * h200.bandwidth_gbs * 1e9


def _hopper_change(catalog):
    """llama.cpp's Hopper prompt change: before it, the build's own kernels around the modelled ones."""
    return next(c for c in catalog.engines["llama.cpp"].speed.versions.changes if c.prefill_rate_share_before)


def test_the_2024_hopper_prompt_share_is_the_h200_measurement_of_b228aba(catalog):
    """The share is the fit F16 rows' estimate-without-it over their measured time (LLaMA-7B shape, pp512 and
    pp2048, within 0.5 %); the held-out Llama-3-8B F16 rows would set it within 8 % of that."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from fit_may2024_dequant import DATA, prompt_share

    shares = prompt_share(catalog, read_rows(DATA))
    value = _hopper_change(catalog).prefill_rate_share_before
    assert len(shares["fit"]) == 2 and statistics.mean(shares["fit"]) == pytest.approx(value, rel=0.005)
    assert all(abs(x / value - 1) < 0.08 for x in shares["held-out"])


def test_the_hopper_share_slows_old_builds_prompts_on_hopper_only(catalog):
    """A 2024 build's F16 prompt on an H100 takes 1 / share of the same estimate without the share; on Ampere and
    Ada, and for the current build on Hopper, the share does not apply. A quantized prompt's dequantizing pass is
    not scaled: the Q4_0 minus F16 prompt on the H100 is the same with and without the share."""
    change = _hopper_change(catalog)
    assert change.min_compute_capability == "9.0" and change.vendors == ["nvidia"]
    engine = catalog.engines["llama.cpp"]
    versions = engine.speed.versions
    without = replace(engine, speed=replace(engine.speed, versions=replace(versions, changes=[
        replace(c, prefill_rate_share_before=None) for c in versions.changes])))

    def ttft(gpu, quant, version, eng=engine):
        return estimate(replace(_llamacpp(catalog, gpu, quant, version), engine=eng)).ttft_s

    share = change.prefill_rate_share_before
    assert ttft("H100-PCIe", "fp16", "2024-05-10") == pytest.approx(
        ttft("H100-PCIe", "fp16", "2024-05-10", without) / share, rel=1e-9)
    d = _llamacpp(catalog, "H100-PCIe", "q4_0", "2024-05-10")
    arch, gpu = catalog.architecture(d.model), catalog.gpus["H100-PCIe"]
    weights = estimate(d).params_total - 2 * arch.vocab_size * arch.hidden_size
    bandwidth = gpu.bandwidth_gbs * 1e9 * engine.speed.bandwidth_efficiency
    dequant = dequantize_pass_s(catalog.quantizations["q4_0"].bits_per_weight, weights, 512, 512, bandwidth,
                                gpu.sm_count * _mmq_change(catalog).dequant_fp16_weights_per_sm_s_before["q4_0"])
    assert ttft("H100-PCIe", "q4_0", "2024-05-10") - dequant == pytest.approx(
        (ttft("H100-PCIe", "q4_0", "2024-05-10", without) - dequant) / share, rel=1e-6)
    for gpu in ("A100-PCIe-80GB", "RTX-4090"):
        assert ttft(gpu, "fp16", "2024-05-10") == ttft(gpu, "fp16", "2024-05-10", without)
    assert ttft("H100-PCIe", "fp16", None) == ttft("H100-PCIe", "fp16", None, without)
