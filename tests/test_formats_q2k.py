"""GGUF Q2_K sized by llama.cpp's tensor mix (llama-quant.cpp, LLAMA_FTYPE_MOSTLY_Q2_K), not the Q2_K block alone.

Published files (Hugging Face folders, decimal GB): unsloth/DeepSeek-R1-Distill-Llama-8B-GGUF Q2_K 3.18 GB
https://huggingface.co/unsloth/DeepSeek-R1-Distill-Llama-8B-GGUF/tree/70661aa9b9e6c69734b394916ddbc540fd4731bf ;
unsloth/DeepSeek-R1-Distill-Llama-70B-GGUF Q2_K 26.4 GB
https://huggingface.co/unsloth/DeepSeek-R1-Distill-Llama-70B-GGUF/blob/475560cd5d7127b481560c0ccb9c9f13c8ab0906/DeepSeek-R1-Distill-Llama-70B-Q2_K.gguf ;
unsloth/DeepSeek-R1-Distill-Qwen-7B-GGUF Q2_K 3.02 GB
https://huggingface.co/unsloth/DeepSeek-R1-Distill-Qwen-7B-GGUF/tree/a0e93ce6804eb82fedfd4eed8991948654eec8eb
"""

import pytest

from dsadvisor.physics.memory import weight_bytes
from dsadvisor.physics.params import count_params

# ggml block sizes: bytes per 256-weight super-block (ggml-common.h) -> bits per weight
Q2_K, Q3_K, Q4_K, Q6_K = 84 * 8 / 256, 110 * 8 / 256, 144 * 8 / 256, 210 * 8 / 256


def _q2k_bytes(catalog, model):
    arch = catalog.architecture(catalog.models[model])
    return weight_bytes(count_params(arch), catalog.quantizations["q2_k"], arch).total


@pytest.mark.parametrize("model, listed", [
    ("deepseek-r1-distill-llama-8b", 3.18e9),
    ("deepseek-r1-distill-llama-70b", 26.4e9),
    ("deepseek-r1-distill-qwen-7b", 3.02e9),
])
def test_q2_k_files_compute_within_3_percent_of_their_listed_size(catalog, model, listed):
    assert abs(listed / _q2k_bytes(catalog, model) - 1) < 0.03


def test_the_block_alone_would_undersize_the_8b_by_a_sixth(catalog):
    """What the mix fixes: 2.625 bits on every weight gives ~2.65 GB for a file listed at 3.18 GB."""
    arch = catalog.architecture(catalog.models["deepseek-r1-distill-llama-8b"])
    flat = count_params(arch).total * Q2_K / 8
    assert 3.18e9 / flat - 1 > 0.15


def test_llama_8b_q2_k_bytes_by_hand(catalog):
    """Llama-3.1-8B shapes (hidden 4096, 32 layers, 8 of 32 heads for k/v, MLP 14336, vocab 128256), each tensor
    at the type llama_tensor_get_type gives it for Q2_K: q, k, gate, up, token_embd Q2_K; o and down Q3_K;
    v Q4_K (GQA 4); output Q6_K. Norms in f32."""
    h, layers, kv, mlp, vocab = 4096, 32, 1024, 14336, 128256
    bits = layers * (h * h * Q2_K + h * kv * Q2_K + h * kv * Q4_K + h * h * Q3_K
                     + 2 * h * mlp * Q2_K + h * mlp * Q3_K)
    bits += vocab * h * Q2_K + vocab * h * Q6_K
    norms = (2 * layers + 1) * h * 4
    by_hand = bits / 8 + norms
    assert by_hand == pytest.approx(3.17e9, rel=0.005)  # and 3.18 GB listed
    # the catalog's single attention class (3.14 bits) stands in for q/k/v/o: within 0.1 % of the tensor-by-tensor sum
    assert _q2k_bytes(catalog, "deepseek-r1-distill-llama-8b") == pytest.approx(by_hand, rel=0.001)


def test_catalogued_q2_k_ggufs_agree_with_the_mix(catalog):
    from dsadvisor.physics.artifacts import size_problem

    q2k = [a for a in catalog.artifacts.values() if a.format == "q2_k" and a.file]
    assert {a.model for a in q2k} >= {"deepseek-r1-distill-llama-8b", "deepseek-r1-distill-llama-70b"}
    assert all(size_problem(catalog, a) is None for a in q2k)


# ------------------------------------------------------------------ the mix, not the nominal 2.63, wherever bytes count

def test_a_flat_format_of_q2_ks_nominal_bits_is_another_size(catalog):
    """recommend drops a format dominated by another of the same size and compute dtype. Q2_K's nominal 2.63
    bits are its Q2_K block alone (its files average 3.1-3.2): a flat 2.63-bit format is smaller, so both stay."""
    from dataclasses import replace

    from dsadvisor.advice.rules import Constraints
    from dsadvisor.advice.search import candidate_formats

    q2k = catalog.quantizations["q2_k"]
    model = catalog.model("deepseek-r1-distill-llama-8b")

    def kept(**as_q3):  # Q3_K_M (which llama.cpp runs) made over into another format of Q2_K's nominal bits
        q3 = replace(catalog.quantizations["q3_k_m"], bits_per_weight=q2k.bits_per_weight,
                     compute_dtype=q2k.compute_dtype, **as_q3)
        cat = replace(catalog, quantizations={**catalog.quantizations, "q3_k_m": q3}, memo={})
        return {q.id for q in candidate_formats(cat, cat.gpus["RTX-4090"], Constraints(), model)} & {"q2_k", "q3_k_m"}

    assert kept(tensor_bits={}) == {"q2_k", "q3_k_m"}  # flat 2.63 bits: smaller than Q2_K's mix, both stay
    assert len(kept(tensor_bits=dict(q2k.tensor_bits))) == 1  # Q2_K's own mix: the same size, one goes


def test_attention_head_and_mtp_bytes_take_the_classes(catalog):
    """The attention share of the weights (split apart under tensor parallel), the output head an MTP draft reads,
    and the MTP modules a checkpoint carries: each at the mix's bits for its class."""
    from dataclasses import replace

    from dsadvisor.physics.memory import attention_weight_bytes, head_bits, mtp_module_bytes, weight_bytes

    q2k = catalog.quantizations["q2_k"]
    assert attention_weight_bytes(8e6, q2k) == 8e6 * q2k.tensor_bits["attention"] / 8  # 3.14 bits, not 2.63
    assert head_bits(q2k) == q2k.tensor_bits["lm_head"] == pytest.approx(Q6_K)
    fp8 = catalog.quantizations["fp8"]
    assert "lm_head" in fp8.kept_16bit and head_bits(fp8) == 16  # as before: a flat format's own figures
    assert attention_weight_bytes(8e6, fp8) == 8e6 * fp8.bits_per_weight / 8
    arch = catalog.architecture(catalog.models["deepseek-v3"])
    p = count_params(arch)
    mtp = mtp_module_bytes(p, q2k, arch)
    layers = p.attention + p.dense_mlp + p.routed_experts + p.shared_experts  # the MTP module is one such layer
    body = weight_bytes(p, q2k, arch).quantized - (p.embedding * q2k.tensor_bits["embedding"]
                                                   + p.lm_head * q2k.tensor_bits["lm_head"]) / 8
    assert mtp == pytest.approx(p.mtp * body / layers, rel=1e-6) and mtp > p.mtp * 2.7 / 8
    assert mtp_module_bytes(p, fp8, arch) == p.mtp * fp8.bits_per_weight / 8
    assert mtp_module_bytes(p, replace(q2k, tensor_bits={}), arch) == p.mtp * q2k.bits_per_weight / 8


def test_the_estimate_says_what_the_mix_averages(run):
    d = run("estimate", "deepseek-r1-distill-llama-8b", "--gpu", "RTX-4090", "--quant", "q2_k", "--engine",
            "llama.cpp", "-f", "json").json()
    [fact] = [f for f in d["basis"]["facts"] if f.startswith("format q2_k")]
    # 3.16 bits: the 3.17 GB the mix computes over 8.03B weights (the file is listed at 3.18 GB; 2.63 bits: 2.64 GB)
    assert "2.63 bits per weight (its tensor classes average 3.16 for this model)" in fact
