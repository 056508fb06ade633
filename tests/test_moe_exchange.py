"""The MoE exchange of attention data parallel (issue 13): each MoE layer gathers every rank's tokens and
reduce-scatters the outputs up to top_k expert-parallel ranks, and beyond sends each rank's own tokens to the
ranks holding their experts (all-to-all), instead of all-reducing the whole batch over every GPU twice a layer.
Expected times are computed here by hand from the measurements docs/method.md cites ("The MoE exchange")."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from dsadvisor.physics.estimate import Deployment, decode_step, rates_for
from dsadvisor.physics.params import moe_layer_count
from dsadvisor.physics.timing import (Layout, across_nodes, moe_exchange_s, ranks_reached, uses_alltoall)

HIDDEN, EXPERTS, TOP_K = 7168, 256, 8  # DeepSeek-R1


def _rates(catalog, gpu, quant="fp8"):
    return rates_for(catalog.gpus[gpu], catalog.engines["tensorrt-llm"], catalog.quantizations[quant])


def _dep(w):
    return Layout(tp=w, ep=True, dp_attention=w)



@pytest.mark.parametrize("ep", [8, 16, 32, 64])
def test_ranks_a_token_reaches(catalog, ep):
    arch = catalog.architecture(catalog.model("deepseek-r1"))
    # a rank holds 256/ep experts; it is missed when all 8 distinct picks fall among the other 256 - 256/ep
    missed = math.comb(EXPERTS - EXPERTS // ep, TOP_K) / math.comb(EXPERTS, TOP_K)
    assert ranks_reached(arch, ep) == pytest.approx(ep * (1 - missed))
    assert ranks_reached(arch, ep) < TOP_K


def test_gather_up_to_top_k_ranks_alltoall_beyond(catalog):
    arch = catalog.architecture(catalog.model("deepseek-r1"))
    assert not uses_alltoall(arch, _dep(8))  # TensorRT-LLM: moe_ep_size <= top_k -> allgather/reducescatter
    assert uses_alltoall(arch, _dep(16))
    assert not uses_alltoall(arch, Layout(tp=16, dp_attention=16))  # MoE tensor parallel: gathered


def test_dep8_h200_exchange_is_a_gather_and_a_reduce_scatter(catalog):
    arch = catalog.architecture(catalog.model("deepseek-r1"))
    tokens = 8 * 128
    # NCCL all_gather / reduce_scatter on 8 H200s: 12.8 us + 7/8 x bytes / 255 GB/s; block-FP8 tokens go out
    # in bf16 (TensorRT-LLM quantizes only NVFP4 and per-tensor FP8 before the all-gather), outputs in bf16
    one = 12.8e-6 + 7 / 8 * tokens * HIDDEN * 2 / 255e9
    assert moe_exchange_s(arch, _dep(8), _rates(catalog, "H200-SXM"), tokens, "fp8") == pytest.approx(2 * one)
    fp4 = 12.8e-6 + 7 / 8 * tokens * HIDDEN * 0.5625 / 255e9 + one
    assert moe_exchange_s(arch, _dep(8), _rates(catalog, "H200-SXM"), tokens, "fp4") == pytest.approx(fp4)


def test_dep32_gb200_exchange_is_an_alltoall_of_the_ranks_own_tokens(catalog):
    arch = catalog.architecture(catalog.model("deepseek-r1"))
    per_rank = 128
    reached = 32 * (1 - math.comb(248, 8) / math.comb(256, 8))  # 7.27 ranks
    # prepare, dispatch, combine: 13.4 us each; FP8 dispatch (1 byte + a 4-byte scale per 128) and bf16 combine
    # at 474 GB/s (53 % of GB200's 900 GB/s NVLink)
    sent = per_rank * reached * HIDDEN * (1 + 4 / 128 + 2)
    want = 3 * 13.4e-6 + sent / 474e9
    assert moe_exchange_s(arch, _dep(32), _rates(catalog, "GB200"), 32 * per_rank, "fp8") == pytest.approx(want)


def test_alltoall_across_nodes_sends_the_remote_share_through_the_network_port(catalog):
    """DEP16 on two 8-GPU B200 nodes: half of the ranks a token reaches are on the other node, at 50 GB/s
    (InfiniBand NDR); each phase at least NCCL's cross-node latency (19.9 us + 14 intra-node LL hops of
    0.52 us x 1.8)."""
    arch = catalog.architecture(catalog.model("deepseek-r1"))
    network = across_nodes(_rates(catalog, "B200"), 16, 8)
    per_rank = 64
    reached = 16 * (1 - math.comb(240, 8) / math.comb(256, 8))
    sent = per_rank * reached * HIDDEN * (1 + 4 / 128 + 2)
    want = 3 * (19.9e-6 + 14 * 0.52e-6 * 1.8) + sent / 2 / 50e9
    assert moe_exchange_s(arch, _dep(16), network, 16 * per_rank, "fp8") == pytest.approx(want)


def _step(catalog, gpu, width, per_rank, quant="fp8"):
    d = Deployment.of(catalog, model=catalog.model("deepseek-r1"), gpu=catalog.gpus[gpu],
                      quant=catalog.quantizations[quant], engine=catalog.engines["tensorrt-llm"], gpus=width,
                      gpus_per_node=72, kv_dtype="fp8-kv", context=2048, prompt_tokens=1024, layout=_dep(width))
    return decode_step(replace(d, batch=per_rank * width))


@pytest.mark.parametrize("quant", ["fp8", "nvfp4"])
def test_wide_ep_step_grows_with_width_by_the_alltoall_at_most(catalog, quant):
    """GB200 NVL72, 128 requests a rank: a wider instance reads fewer weights a GPU and moves each rank's own
    tokens; before, the whole instance batch was all-reduced over every GPU (DEP8 48, DEP16 69, DEP32 119 ms)."""
    arch = catalog.architecture(catalog.model("deepseek-r1"))
    rates = _rates(catalog, "GB200", quant)
    dtype = catalog.quantizations[quant].compute_dtype
    steps = {w: _step(catalog, "GB200", w, 128, quant) for w in (16, 32, 64)}
    for narrow, wide in ((16, 32), (32, 64)):
        more = moe_layer_count(arch) * (moe_exchange_s(arch, _dep(wide), rates, wide * 128, dtype)
                                        - moe_exchange_s(arch, _dep(narrow), rates, narrow * 128, dtype))
        assert 0 < more < 0.1 * steps[narrow]  # the all-to-all grows only with the ranks a token reaches
        assert steps[wide] <= steps[narrow] + more


def test_dense_tensor_parallel_keeps_its_allreduce(catalog):
    """Without attention DP nothing changes: two all-reduces a layer of the batch over the group."""
    arch = catalog.architecture(catalog.model("deepseek-r1"))
    rates = _rates(catalog, "H200-SXM")
    from dsadvisor.physics.timing import _allreduce_s, _collectives_s

    got = _collectives_s(arch, 61, 64, Layout(tp=8, ep=True), rates, decode=True, act_bytes=2, compute_dtype="fp8")
    assert got == _allreduce_s(61, 64 * HIDDEN * 2, Layout(tp=8, ep=True), rates, decode=True)


@pytest.mark.parametrize("gpu, width", [("H200-SXM", 8), ("GB200", 32)])
def test_a_dep_decode_step_pays_the_exchange_instead_of_the_allreduces(catalog, gpu, width):
    """The same decode step (bytes, FLOPs, batch) as DEP and as plain TP + EP over the same GPUs differs only by the
    collectives: DEP pays 58 MoE exchanges (attention TP 1: no attention all-reduce), TP two all-reduces of the
    whole batch in each of the 61 layers."""
    from dsadvisor.physics.timing import _allreduce_s, decode_step_s

    arch = catalog.architecture(catalog.model("deepseek-r1"))
    engine, rates = catalog.engines["tensorrt-llm"], _rates(catalog, gpu)
    batch = 128 * width
    common = dict(read_bytes_per_gpu=40e9, linear_flops=2.0 * 37e9 * batch, batch=batch, context=2048,
                  compute_dtype="fp8")
    dep = decode_step_s(arch, engine, rates, _dep(width), **common)
    tep = decode_step_s(arch, engine, rates, Layout(tp=width, ep=True), **common)
    exchange = 58 * moe_exchange_s(arch, _dep(width), rates, batch, "fp8")
    allreduces = _allreduce_s(61, batch * HIDDEN * 2, Layout(tp=width, ep=True), rates, decode=True)
    assert dep - tep == pytest.approx(exchange - allreduces)
    assert exchange < allreduces  # each rank's share, not the whole batch twice a layer
