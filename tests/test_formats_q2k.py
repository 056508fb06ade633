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
