"""Expert-parallel decode on Blackwell: TensorRT-LLM's FP8 MoE kernel there (DeepGEMM) reads its whole experts at
0.76 of HBM where Hopper's CUTLASS kernel reads them at the 0.90 every decode step's bytes take (docs/method.md,
"Decode step", MoE layer; benchmarks/aiconfigurator_decode.py, expert_reads)."""

from __future__ import annotations

import statistics

import pytest

from .conftest import load_script
from dsadvisor.physics.estimate import Deployment, decode_step, pin_layout
from dsadvisor.records import replace


@pytest.fixture(scope="module")
def fits():
    return load_script("benchmarks/aiconfigurator_decode.py")


def test_the_blackwell_expert_read_constants_refit_from_nvidias_moe_table(catalog, fits):
    """engines.yaml's fp8@10 floor and read share are the line fit of DeepGEMM's expert-parallel rows (B200 +
    GB200) to their printed digits; the same fit of Hopper's CUTLASS rows gives the figures every other decode
    step's bytes take (0.90, 32 us): the Blackwell kernel, not the method, differs."""
    speed = catalog.engines["tensorrt-llm"].speed
    floor, share, errs = fits.expert_read_fit(*fits.EXPERT_READ_KERNELS[("tensorrt-llm", "fp8", "blackwell")],
                                              fits.GENERATIONS["blackwell"])
    assert speed.moe_expert_read_efficiency_by_dtype["fp8@10"] == round(share, 2)
    assert speed.per_moe_layer_decode_ep_s_by_dtype["fp8@10"] == pytest.approx(floor, abs=0.05e-5)
    assert statistics.median(errs) < 0.06 and len(errs) == 90
    floor, share, errs = fits.expert_read_fit(*fits.EXPERT_READ_KERNELS[("tensorrt-llm", "fp8", "hopper")],
                                              fits.GENERATIONS["hopper"])
    assert share == pytest.approx(speed.bandwidth_efficiency, abs=0.01)
    assert floor == pytest.approx(speed.per_moe_layer_decode_ep_s, abs=1.5e-6)
    assert statistics.median(errs) < 0.06


def _dep8(catalog, gpu: str, batch: int, **pins) -> Deployment:
    d = Deployment.of(catalog, model=catalog.model("deepseek-r1"), gpu=catalog.gpus[gpu],
                      quant=catalog.quantizations["fp8"], engine=catalog.engines["tensorrt-llm"], gpus=8,
                      batch=batch, context=2048, kv_dtype="fp8-kv")
    return pin_layout(d, **(pins or dict(tp=8, ep=True, dp_attention=8)))


def _without(d: Deployment) -> Deployment:
    speed = d.engine.speed
    ep = {k: v for k, v in speed.per_moe_layer_decode_ep_s_by_dtype.items() if k != "fp8@10"}
    return replace(d, engine=replace(d.engine, speed=replace(speed, moe_expert_read_efficiency_by_dtype={},
                                                             per_moe_layer_decode_ep_s_by_dtype=ep)))


def test_a_b200_dep8_step_reads_its_experts_at_the_kernels_share_by_hand(catalog):
    """R1 FP8, 8 x B200, attention DP 8 + EP 8, 384 sequences (48 a rank; 12 tokens an expert): every routed expert
    is touched; each GPU reads 1/8 of 58 layers x 256 experts x 3 x 7168 x 2048 one-byte weights. At 0.76 of
    8 TB/s instead of 0.90 that adds 6.54e11 / 8 / 8e12 x (1/0.76 - 1/0.90) = 2.09 ms, and the floor 58 x 4 us."""
    d = _dep8(catalog, "B200", 384)
    routed = 58 * 256 * 3 * 7168 * 2048 * (1 - (1 - 8 / 256) ** 384)
    by_hand = routed / 8 / 8000e9 * (1 / 0.76 - 1 / 0.90) + 58 * (36e-6 - 32e-6)
    assert by_hand == pytest.approx(2.32e-3, rel=0.01)
    assert decode_step(d) - decode_step(_without(d)) == pytest.approx(by_hand, rel=0.01)


def test_hopper_and_tensor_parallel_experts_keep_the_decode_share(catalog):
    """The H200 runs Hopper's CUTLASS kernel (0.90, the step's own share): nothing added. Experts split by tensor
    parallel keep it on the B200 too (the table's TP rows, 112 us + 0.67, are not used: docs/method.md)."""
    h200 = _dep8(catalog, "H200-SXM", 384)
    assert decode_step(h200) == decode_step(_without(h200))
    tp = _dep8(catalog, "B200", 64, tp=8, ep=False)
    assert decode_step(tp) == decode_step(_without(tp))
    nvfp4 = replace(_dep8(catalog, "B200", 384), quant=catalog.quantizations["nvfp4"])
    assert decode_step(nvfp4) == decode_step(_without(nvfp4))


def test_the_dep8_moe_layer_lands_on_the_tables_time(catalog, fits):
    """At 256 and 512 tokens into the layer (32 and 64 sequences a rank) the estimate's MoE layer on the B200 (floor +
    the experts' bytes at the share + their FLOPs at the fp8 rate) is within 3 % of DeepGEMM's measured time
    (277 / 286 us against 272.7 / 281.2 us); with Hopper's floor and share it was 13 % short (237 / 246 us)."""
    speed, b200 = catalog.engines["tensorrt-llm"].speed, catalog.gpus["B200"]
    measured = {r["num_tokens"]: float(r["latency_ms_balanced"]) * 1e-3 for r in fits.rows("moe.csv")
                if r["system"] == "b200_sxm" and r["kernel_source"] == "deepgemm" and r["moe_ep_size"] == "8"
                and r["moe_tp_size"] == "1" and r["hidden_size"] == "7168" and r["inter_size"] == "2048"}
    flops_rate = b200.fp8_tflops * 1e12 * speed.linear_efficiency_by_dtype["fp8@10"]
    for tokens in (256, 512):
        weights = 32 * 3 * 7168 * 2048
        flops = 2 * tokens * 8 * 3 * 7168 * 2048 / 8
        estimate = (speed.per_moe_layer_decode_ep_s_by_dtype["fp8@10"] + flops / flops_rate
                    + weights / (b200.bandwidth_gbs * 1e9 * speed.moe_expert_read_efficiency_by_dtype["fp8@10"]))
        before = (speed.per_moe_layer_decode_ep_s + flops / flops_rate
                  + weights / (b200.bandwidth_gbs * 1e9 * speed.bandwidth_efficiency))
        assert estimate / measured[str(tokens)] == pytest.approx(1, abs=0.03)
        assert before / measured[str(tokens)] < 0.88


def test_the_recipes_trtllm_gen_decode_kernel_is_slower_under_ep_and_not_used(catalog, fits):
    """The generation side's moe_config.backend TRTLLM (trtllm-gen, FlashInfer's table) reads whole experts at 0.67
    of HBM over a 53 us floor, against DeepGEMM's 0.76 and 36 us (docs/method.md, sixth pass: not taken, since the
    TP side's lower floor unmasks an MTP acceptance below MT-Bench's): the printed figures, and the catalog keeps
    DeepGEMM's."""
    floor, share, errs = fits.expert_read_fit(*fits.TRTLLM_GEN_FP8, fits.GENERATIONS["blackwell"])
    assert (round(floor * 1e6, 1), round(share, 3)) == (52.9, 0.671) and len(errs) == 90
    speed = catalog.engines["tensorrt-llm"].speed
    assert speed.moe_expert_read_efficiency_by_dtype["fp8@10"] > share
    assert speed.per_moe_layer_decode_ep_s_by_dtype["fp8@10"] < floor
    assert any("52.9 us + 0.671" in line for line in fits.recipe_backend_reads())
