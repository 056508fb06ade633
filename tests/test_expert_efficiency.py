"""Prefill routed-expert efficiency by compute dtype and GPU generation (``moe_expert_efficiency_by_dtype``): the
Blackwell figures come from NVIDIA's kernel tables through benchmarks/aiconfigurator_experts.py, and a prompt's
routed-expert GEMMs take exactly the time that share implies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dsadvisor.physics.estimate import Deployment, estimate, pin_layout, rates_for
from dsadvisor.physics.rates import engine_for as _engine_for
from dsadvisor.physics.params import count_params

from .conftest import load_script


def r1(catalog, gpu: str, engine: str, quant: str = "fp8") -> Deployment:
    d = Deployment.of(catalog, model=catalog.model("deepseek-r1"), gpu=catalog.gpus[gpu],
                      quant=catalog.quantizations[quant], engine=catalog.engines[engine], gpus=8)
    return replace(pin_layout(d, tp=8, ep=True), batch=1, context=8192 + 256, prompt_tokens=8192)


def test_the_catalog_holds_what_the_kernel_tables_give(catalog):
    found = load_script("benchmarks/aiconfigurator_experts.py").efficiencies()
    assert found == {(e, dtype): catalog.engines[e].speed.moe_expert_efficiency_by_dtype[f"{dtype}@10"]
                     for e, dtype in found}
    # the figures the kernels imply differ by engine: SGLang's FlashInfer FP8 experts reach less of the linear
    # rate than TensorRT-LLM's DeepGEMM, NVFP4 experts more than FP8 ones
    assert found[("sglang", "fp8")] < 0.42 < found[("tensorrt-llm", "fp8")] < found[("tensorrt-llm", "fp4")]


def test_the_launchs_moe_backend_takes_its_kernels_share(catalog):
    """``fp8@10+trtllm``: TensorRT-LLM FP8 prompts whose launch names moe_config.backend TRTLLM run trtllm-gen's FP8
    kernel (FlashInfer's table, the same method): the script's figure, on Blackwell only; other backends and formats
    keep the engine's."""
    found = load_script("benchmarks/aiconfigurator_experts.py").backend_efficiencies()
    assert found == {(e, key): catalog.engines[e].speed.moe_expert_efficiency_by_dtype[key] for e, key in found}
    assert found[("tensorrt-llm", "fp8@10+trtllm")] == 0.30
    trt, fp8, fp4 = catalog.engines["tensorrt-llm"], catalog.quantizations["fp8"], catalog.quantizations["nvfp4"]
    assert _engine_for(trt, catalog.gpus["B300"], fp8, "trtllm").speed.moe_expert_efficiency == 0.30
    assert _engine_for(trt, catalog.gpus["B200"], fp8, "deepgemm").speed.moe_expert_efficiency == 0.47
    assert _engine_for(trt, catalog.gpus["H200-SXM"], fp8, "trtllm").speed.moe_expert_efficiency == 0.42
    assert _engine_for(trt, catalog.gpus["GB200"], fp4, "trtllm").speed.moe_expert_efficiency == 0.59


def test_the_share_applies_on_blackwell_only(catalog):
    trt, fp8, fp4 = catalog.engines["tensorrt-llm"], catalog.quantizations["fp8"], catalog.quantizations["nvfp4"]
    assert _engine_for(trt, catalog.gpus["H200-SXM"], fp8).speed.moe_expert_efficiency == 0.42
    assert _engine_for(trt, catalog.gpus["B200"], fp8).speed.moe_expert_efficiency == 0.47
    assert _engine_for(trt, catalog.gpus["B300"], fp8).speed.moe_expert_efficiency == 0.47  # compute capability 10.3
    assert _engine_for(trt, catalog.gpus["GB200"], fp4).speed.moe_expert_efficiency == 0.59


def test_a_long_prompt_pays_the_routed_flops_at_that_share(catalog):
    # R1 FP8, one 8,192-token prompt on 8 x B200 (TP 8, EP): compute-bound, so the routed experts' FLOPs
    # (2 x routed weights a token uses x tokens, split over 8 GPUs) take 1/0.47 of the linear rate instead of 1/0.42
    d = r1(catalog, "B200", "tensorrt-llm")
    speed = d.engine.speed
    old = replace(d, engine=replace(d.engine, speed=replace(speed, moe_expert_efficiency_by_dtype={})))
    rate = rates_for(d.gpu, d.engine, d.quant).linear_flops
    routed = 2.0 * count_params(d.architecture).active_routed * 8192
    expected = routed / 8 / rate * (1 / 0.47 - 1 / 0.42)
    assert estimate(d).ttft_s - estimate(old).ttft_s == pytest.approx(expected, rel=1e-6)
    assert expected < -0.002  # more than 2 ms faster
