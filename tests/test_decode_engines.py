"""Per-engine decode constants (issue 12): each engine's own all-reduce and MoE kernel, and expert parallel
modelled apart from tensor parallel. Expected values are worked by hand from the constants in
catalog/engines/engines.yaml (docs/method.md, "Decode step")."""

from __future__ import annotations

import csv
from dataclasses import replace

import pytest

from dsadvisor.physics.estimate import Deployment, choose_layout, estimate, pin_layout, rates_for
from dsadvisor.physics.timing import Layout, _allreduce_s

from .conftest import ROOT


def _dep(catalog, model, gpu, quant, engine, **kw):
    return Deployment.of(catalog, model=catalog.models[model], gpu=catalog.gpus[gpu],
                         quant=catalog.quantizations[quant], engine=catalog.engines[engine], **kw)


def test_trtllm_expert_parallel_decodes_r1_faster_than_tensor_parallel(catalog):
    """Served runs: R1 FP8 on 8 x H200 under TensorRT-LLM at concurrency 4 takes 7-9 ms a token with expert
    parallel and 14 ms with experts split by TP. The bytes are the same; the fused-MoE kernel's floor is not:
    58 MoE layers x (90 - 32) us = 3.364 ms."""
    d = _dep(catalog, "deepseek-r1", "H200-SXM", "fp8", "tensorrt-llm", gpus=8, batch=4, context=2048)
    ep = estimate(pin_layout(d, tp=8, ep=True))
    tp = estimate(pin_layout(d, tp=8, ep=False))
    assert ep.ep and not tp.ep
    assert tp.decode_step_s - ep.decode_step_s == pytest.approx(58 * (90e-6 - 32e-6), rel=1e-9)


def test_fp4_experts_use_trtllms_min_latency_moe_kernel(catalog):
    """NVFP4 on B200: 11 us (TP) and 34 us (EP) a MoE layer, not the fp8-block kernel's 90 and 32."""
    d = _dep(catalog, "deepseek-r1", "B200", "nvfp4", "tensorrt-llm", gpus=8, batch=4, context=2048)
    ep = estimate(pin_layout(d, tp=8, ep=True))
    tp = estimate(pin_layout(d, tp=8, ep=False))
    assert ep.decode_step_s - tp.decode_step_s == pytest.approx(58 * (34e-6 - 11e-6), rel=1e-9)


def test_default_expert_parallel_follows_the_faster_moe_kernel(catalog):
    arch = catalog.architecture(catalog.models["deepseek-r1"])
    assert choose_layout(arch, catalog.engines["tensorrt-llm"], 8, 8).ep  # EP floor 32 us < TP 90 us
    assert not choose_layout(arch, catalog.engines["sglang"], 8, 8).ep  # 87 > 20: SGLang's default, TP experts
    assert not choose_layout(arch, catalog.engines["vllm"], 8, 8).ep
    # data-parallel attention hands tokens to the experts' owners: expert parallel on every engine
    d = _dep(catalog, "deepseek-r1", "H200-SXM", "fp8", "sglang", gpus=8)
    assert pin_layout(d, dp_attention=8).layout.ep


def test_decode_all_reduce_is_the_engines_kernel_on_nvlink_and_nccl_for_prefill(catalog):
    """vLLM on 8 x H100 (NVLink): a decode all-reduce of 64 x 7168 x 2 bytes costs 5.3 us + 7/4 x 917,504 B /
    245 GB/s; the same message in a prefill keeps NCCL's 14.5 us and the link's 450 GB/s."""
    gpu, engine = catalog.gpus["H100-SXM"], catalog.engines["vllm"]
    rates = rates_for(gpu, engine, catalog.quantizations["fp8"])
    layout, message = Layout(tp=8), 64 * 7168 * 2
    decode = _allreduce_s(1, message, layout, rates, decode=True)
    prefill = _allreduce_s(1, message, layout, rates)
    assert decode == pytest.approx(2 * (5.3e-6 + 1.75 * message / 245e9), rel=1e-9)
    assert prefill == pytest.approx(2 * (14.5e-6 + 1.75 * message / (gpu.interconnect.bandwidth_gbs * 1e9)), rel=1e-9)
    # over PCIe the engines' peer-to-peer kernel is not assumed
    pcie = replace(gpu, interconnect=replace(gpu.interconnect, kind="pcie"))
    assert rates_for(pcie, engine, catalog.quantizations["fp8"]).decode_link_latency is None


def test_a_prefill_all_reduce_beyond_the_custom_kernel_runs_at_nccls_measured_rate(catalog):
    """A 1,024-token prefill of a 8,192-wide model on 8 x B200 all-reduces 16 MiB, past the engines' 8 MiB
    custom kernel: NCCL as measured (67.7 us + 7/4 x bytes / 673 GB/s), not the NVLink datasheet's 900 GB/s,
    about twice as long; 8 MiB and under keeps the link model, as does a GPU NVIDIA did not measure."""
    from dsadvisor.physics.timing import across_nodes

    b200, engine, fp8 = catalog.gpus["B200"], catalog.engines["vllm"], catalog.quantizations["fp8"]
    rates, layout = rates_for(b200, engine, fp8), Layout(tp=8)
    big, small = 1024 * 8192 * 2, 8 * 2**20
    assert _allreduce_s(1, big, layout, rates) == pytest.approx(2 * (67.7e-6 + 1.75 * big / 673e9), rel=1e-9)
    assert _allreduce_s(1, big, layout, rates) > 1.9 * 2 * (14.5e-6 + 1.75 * big / 900e9)
    assert _allreduce_s(1, small, layout, rates) == pytest.approx(2 * (14.5e-6 + 1.75 * small / 900e9), rel=1e-9)
    assert across_nodes(rates, 16, 8).nccl_allreduce == ()  # across nodes: the network's NCCL, not NVLink's
    h800 = rates_for(catalog.gpus["H800-SXM"], engine, fp8)
    assert h800.nccl_allreduce == ()


def test_engines_differ_in_per_layer_decode_cost(catalog):
    """Llama-70B shape at TP 1 on an H200, one sequence in bf16 (both engines multiply at 0.80): the same bytes
    and FLOPs, 80 layers x (66 - 55) us apart."""
    kw = dict(gpus=1, batch=1, context=2048)
    vllm = estimate(_dep(catalog, "deepseek-r1-distill-llama-70b", "H200-SXM", "bf16", "vllm", **kw))
    trt = estimate(_dep(catalog, "deepseek-r1-distill-llama-70b", "H200-SXM", "bf16", "tensorrt-llm", **kw))
    assert vllm.decode_step_s - trt.decode_step_s == pytest.approx(80 * (66e-6 - 55e-6), rel=1e-6)


def test_squared_layouts_are_read_as_the_node_they_ran_on(serving_calibration):
    """silicon_sample writes an 8-GPU tp8_ep8 run as tp_size 64 with moe 8 x 8; read it as 8 GPUs."""
    module = serving_calibration
    row = dict(tp_size="64", attention_dp_size="", moe_tp_size="8", moe_ep_size="8")
    assert module.layout_of(row) == (8, 1, True)
    assert module.layout_of({**row, "tp_size": "1", "attention_dp_size": "64"}) == (1, 8, True)
    assert module.layout_of({**row, "tp_size": "8", "moe_tp_size": "1"}) == (8, 1, True)  # spelled as run
    assert module.layout_of({**row, "tp_size": "64", "moe_tp_size": "64", "moe_ep_size": "1"}) == (64, 1, False)
    # InferenceX's vLLM DP-attention lane on 4 GPUs (--tensor-parallel-size 1 --data-parallel-size 4, expert
    # parallel), spelled tp 4 x attention DP 4 with 16 expert-parallel ranks
    dp_lane = dict(tp_size="4", attention_dp_size="4", moe_tp_size="1", moe_ep_size="16")
    assert module.layout_of(dp_lane) == (1, 4, True)
    assert module.layout_of({**dp_lane, "moe_ep_size": "4"}) == (4, 4, True)  # not squared: as spelled
    with open(ROOT / "benchmarks" / "data" / "aiconfigurator" / "silicon_sample.csv", encoding="utf-8") as f:
        squared = [r for r in csv.DictReader(f) if r["mode"] == "agg" and module.layout_of(r)[:2] !=
                   (int(r["tp_size"] or 1), int(r["attention_dp_size"] or 1))]
    lane = [r for r in squared if r["moe_tp_size"] == "1"]  # the DP lane: Kimi-K2.5 and MiniMax-M2.5 on vLLM
    # 333 before the ids that name their TP were read as spelled (NVIDIA's Qwen3-235B tp4 with moe 2 x 2: 4 rows)
    assert len(squared) - len(lane) == 329 and all("_c" in r["id"] for r in squared)
    qwen = dict(id="qwen3_235b_h100_sxm_trtllm_agg_128x128_c16_tp4_epnone_16", tp_size="4", attention_dp_size="",
                moe_tp_size="2", moe_ep_size="2")
    assert module.layout_of(qwen) == (4, 1, True)
    assert len(lane) == 97 and {r["backend"] for r in lane} == {"vllm"}


def test_unmeasured_multi_node_tp_and_int4_moe_say_so(catalog):
    """The published rows the decode model misses or models from one source (docs/method.md): TP across nodes,
    4-bit MoE kernels."""
    d = _dep(catalog, "deepseek-r1-0528", "H100-SXM", "fp8", "sglang", gpus=16, context=2176)
    spans = [w for w in estimate(pin_layout(d, tp=16)).basis.warnings if "spans nodes" in w]
    assert len(spans) == 1 and "InfiniBand" in spans[0] and "Ethernet" in spans[0]  # the fabric it assumes, and why
    assert not any("spans nodes" in w for w in estimate(d).basis.warnings)  # TP 8 x PP 2: each TP group in a node
    awq = estimate(_dep(catalog, "deepseek-r1-0528", "H100-SXM", "awq-int4", "vllm", gpus=8, context=2176))
    assert any("4-bit MoE kernel" in a for a in awq.basis.assumptions)  # vLLM's: modelled (PR 13321's table)
    assert not any("4-bit MoE kernel" in w for w in awq.basis.warnings)
    sglang = estimate(_dep(catalog, "deepseek-r1-0528", "H100-SXM", "awq-int4", "sglang", gpus=8, context=2176))
    assert any("4-bit MoE kernel" in w for w in sglang.basis.warnings)  # SGLang's: not measured
    fp8 = estimate(_dep(catalog, "deepseek-r1-0528", "H200-SXM", "fp8", "vllm", gpus=8, context=2176))
    assert not any("4-bit MoE kernel" in w for w in fp8.basis.warnings)
