"""benchmarks/moe_prefill_kernels.py: the estimator's prefill MoE time per layer against NVIDIA's fused-MoE kernel
tables (moe.csv) reads the tables and the estimator right, and the finding it prints (docs/method.md, "What the
fused-MoE kernel tables say about the first-token floor") holds on them."""

from __future__ import annotations

import csv

import pytest

from .conftest import DATA, load_script


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/moe_prefill_kernels.py")


@pytest.fixture(scope="module")
def rows(script, catalog):
    return script.comparison(catalog)


def _csv_row(system: str, kernel: str, dtype: str, tp: str, ep: str, tokens: int, hidden: str) -> dict:
    with (DATA / "aiconfigurator" / "moe.csv").open(encoding="utf-8") as f:
        found = [r for r in csv.DictReader(f) if r["system"] == system and r["kernel_source"] == kernel
                 and r["moe_dtype"] == dtype and r["moe_tp_size"] == tp and r["moe_ep_size"] == ep
                 and r["num_tokens"] == str(tokens) and r["hidden_size"] == hidden]
    assert len(found) == 1
    return found[0]


def test_kernel_times_are_the_tables(rows):
    """Each printed kernel time is moe.csv's row of that GPU, kernel, format, layout, shape and token count."""
    for shape, hidden in (("deepseek-v3", "7168"), ("qwen3-235b", "4096")):
        for r in [r for r in rows if r["shape"] == shape]:
            tp, ep = ("8", "1") if r["layout"] == "tp8" else ("1", "8")
            row = _csv_row(r["system"], r["kernel"], r["dtype"], tp, ep, 4096, hidden)
            assert r["kernel_ms"][4096] == float(row["latency_ms_power_law_1_2"])
            assert r["balanced_ms"][4096] == float(row["latency_ms_balanced"])


def test_line_fit_recovers_a_line(script):
    assert script.line_fit({1024: 0.3 + 1024e-4, 4096: 0.3 + 4096e-4, 16384: 0.3 + 16384e-4}) == \
        pytest.approx((0.3, 1e-4))


def test_estimator_layer_by_hand(script, catalog):
    """DeepSeek-V3's MoE layer on 8 x H200, SGLang, FP8: the routed GEMMs at the fp8 datasheet rate times SGLang's
    fp8 linear share times its expert share, the experts' bytes at 0.90 of HBM, and the floor."""
    gpu, speed = catalog.gpus["H200-SXM"], catalog.engines["sglang"].speed
    est = script.estimator_layer(catalog, "deepseek-v3", "h200_sxm", "SGLang", "fp8_block")
    rate = gpu.fp8_tflops * 1e12 * speed.linear_efficiency_by_dtype["fp8"] * speed.moe_expert_efficiency
    assert est["gemm_ms_per_token"] == pytest.approx(2 * 3 * 7168 * 2048 * 8 / 8 / rate * 1e3)
    assert est["read_ms"] == pytest.approx(256 * 3 * 7168 * 2048 / 8 / (gpu.bandwidth_gbs * 1e9 * 0.90) * 1e3)
    assert est["floor_ms"] == pytest.approx(speed.per_moe_layer_prefill_s * 1e3)


def test_kimi_reads_deepseek_rows_with_its_experts_bytes(rows):
    kimi = {(r["system"], r["kernel"], r["dtype"], r["layout"]): r for r in rows if r["shape"] == "kimi-k2.5"}
    deepseek = [r for r in rows if r["shape"] == "deepseek-v3"]
    assert kimi and len(kimi) == len(deepseek)
    for r in deepseek:
        k = kimi[(r["system"], r["kernel"], r["dtype"], r["layout"])]
        assert k["kernel_ms"] == r["kernel_ms"] and k["from_table"] == "deepseek-v3"
        assert k["read_ms"] == pytest.approx(1.5 * r["read_ms"])


def test_the_floor_is_not_in_the_kernel(rows):
    """The finding: on 8 GPUs the kernel's fixed part (its line's intercept over 1K-16K tokens) stays under 0.6 ms
    a layer for DeepSeek-V3 and 0.15 ms for Qwen3-235B, and the whole kernel at 1,024 tokens under the 2.5 ms
    floor alone, for every engine, GPU, format and layout NVIDIA timed."""
    for shape, most in (("deepseek-v3", 0.6), ("qwen3-235b", 0.15)):
        part = [r for r in rows if r["shape"] == shape]
        assert len(part) >= 10
        assert max(r["intercept_ms"] for r in part) < most
        assert all(r["kernel_ms"][1024] < r["floor_ms"] for r in part)


def test_ttft_residuals_by_hand(script, tmp_path):
    """Measured minus aiconfigurator's TTFT, median by (model, engine, prompt class): two short-prompt runs of one
    model (residuals 100 and 140 ms), a dense model's (20 ms), and a long-prompt run aiconfigurator did not answer."""
    path = tmp_path / "agg_ttft.csv"
    head = "id,model,backend,system,quant,isl,osl,concurrency,tp,attention_dp,moe_tp,moe_ep,moe_layers," \
           "measured_ttft_ms,aiconfigurator_ttft_ms\n"
    path.write_text(head + "a,moe,sglang,h200_sxm,fp8,1024,1024,4,8,,8,1,50,300,200\n"
                    "b,moe,sglang,h200_sxm,fp8,1024,1024,8,8,,8,1,50,340,200\n"
                    "c,dense,sglang,h200_sxm,fp8,1024,1024,4,8,,1,1,0,120,100\n"
                    "d,moe,sglang,h200_sxm,fp8,8192,1024,4,8,,8,1,50,500,\n", encoding="utf-8")
    got = script.ttft_residuals(path)
    assert [(r["model"], r["prompt"]) for r in got] == [("dense", "<=1K"), ("moe", "<=1K")]
    assert got[1]["runs"] == 2 and got[1]["residual_ms"] == pytest.approx(120) and got[1]["moe_layers"] == 50
    assert got[1]["measured_ms"] == pytest.approx(320) and got[0]["residual_ms"] == pytest.approx(20)


def test_ttft_file_holds_fit_runs_as_measured(script):
    """agg_ttft.csv (benchmarks/aiconfigurator_ttft.py) holds fit runs at concurrency 1-8, each with the TTFT
    silicon_sample.csv measured."""
    with (DATA / "aiconfigurator" / "silicon_sample_split.csv").open(encoding="utf-8") as f:
        split = {r["id"]: r for r in csv.DictReader(f)}
    with (DATA / "aiconfigurator" / "silicon_sample.csv").open(encoding="utf-8") as f:
        measured = {r["id"]: float(r["silicon_ttft_ms"]) for r in csv.DictReader(f)}
    with script.TTFT.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 50
    for r in rows:
        assert split[r["id"]]["split"] == "fit" and int(r["concurrency"]) <= 8
        assert float(r["measured_ttft_ms"]) == pytest.approx(measured[r["id"]], rel=1e-3)
