"""GGUF formats beyond the k-quant mixes first catalogued (issue 12, llama.cpp run 12): each sized by the tensor mix
llama_tensor_get_type (src/llama-quant.cpp) gives it, and IQ4_XS timed on the H200.

Held-out size check: llama.cpp's quantize README measures every type on Llama-3.1-8B (tools/quantize/README.md,
"size (GiB)"), the shapes of DeepSeek-R1-Distill-Llama-8B (hidden 4096, 32 layers, 8 KV heads, MLP 14336, vocab
128256); the catalog's tensor_bits were read off the source, not fitted to these sizes.
"""

import json
from pathlib import Path

import pytest

from dsadvisor.physics.calibration import compare_llamacpp
from dsadvisor.physics.memory import weight_bytes
from dsadvisor.physics.params import count_params
from dsadvisor.physics.rates import dequant_rate, kernel_format

DATA = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "llamacpp-h200" / "h200-lcpp.jsonl"
NEW = ("q4_k_s", "q5_k_s", "q5_0", "q4_1", "q3_k_l", "q3_k_s", "iq4_xs", "iq4_nl", "iq3_m", "iq3_xxs", "iq2_m")
# GiB in llama.cpp's quantize README (Llama-3.1-8B table)
README_GIB = {"q4_k_s": 4.36, "q5_k_s": 5.21, "q3_k_l": 4.02, "q3_k_s": 3.41, "iq4_xs": 4.17, "iq4_nl": 4.38,
              "iq3_m": 3.52, "iq3_xxs": 3.04, "iq2_m": 2.74}
# ggml block sizes (ggml-common.h) in bits per weight
IQ4_XS, Q5_K, Q6_K = 136 * 8 / 256, 176 * 8 / 256, 210 * 8 / 256


def _bytes(catalog, model, fmt):
    arch = catalog.architecture(catalog.models[model])
    return weight_bytes(count_params(arch), catalog.quantizations[fmt], arch).total


@pytest.mark.parametrize("fmt", sorted(README_GIB))
def test_llama_8b_files_compute_within_1_percent_of_llamacpps_measured_size(catalog, fmt):
    assert _bytes(catalog, "deepseek-r1-distill-llama-8b", fmt) / 2**30 == pytest.approx(README_GIB[fmt], rel=0.01)


def test_iq4_xs_8b_bytes_by_hand(catalog):
    """R1-Distill-Llama-8B IQ4_XS tensor by tensor as llama-quantize wrote it on the H200 (run 12, no importance
    matrix): attn_v Q5_K (GQA 4), ffn_down Q5_K in the first 4 of 32 layers, output Q6_K, the rest IQ4_XS."""
    h, layers, kv, mlp, vocab = 4096, 32, 1024, 14336, 128256
    bits = layers * (2 * h * h * IQ4_XS + h * kv * IQ4_XS + h * kv * Q5_K + 2 * h * mlp * IQ4_XS)
    bits += (4 * Q5_K + 28 * IQ4_XS) * h * mlp + vocab * h * (IQ4_XS + Q6_K)
    by_hand = bits / 8 + (2 * layers + 1) * h * 4 + 64 * 4  # norms and rope_freqs in f32
    measured = next(json.loads(x) for x in DATA.open() if '"run": 12' in x)["gguf_bytes"]
    assert by_hand == pytest.approx(measured, rel=2e-4)  # the GGUF's header and alignment aside
    assert _bytes(catalog, "deepseek-r1-distill-llama-8b", "iq4_xs") == pytest.approx(measured, rel=0.005)


@pytest.mark.parametrize("name, fmt", [("IQ4_XS", "iq4_xs"), ("iq4_xs", "iq4_xs"), ("Q4_K_S", "q4_k_s"),
                                       ("q4_k_s", "q4_k_s"), ("IQ3_M", "iq3_m"), ("gguf-q5_0", "q5_0"),
                                       ("Q3_K_L", "q3_k_l"), ("IQ2_M", "iq2_m")])
def test_names_users_type_resolve(catalog, name, fmt):
    assert catalog.quantization(name).id == fmt


def test_llamacpp_and_ollama_run_every_new_format_and_vllm_none(catalog):
    for engine in ("llama.cpp", "ollama"):
        assert set(NEW) <= set(catalog.engines[engine].formats)
    assert not set(NEW) & set(catalog.engines["vllm"].formats)  # vLLM's GGUF loading is not listed


def test_the_k_quant_siblings_take_their_mixes_kernel_rates(catalog):
    engine = catalog.engines["llama.cpp"]
    q = catalog.quantizations
    assert kernel_format(engine, q["q4_k_s"]) == "q4_k_m"
    assert dequant_rate(engine, q["q4_k_s"]) == dequant_rate(engine, q["q4_k_m"])
    # Q3_K_L is mostly Q3_K (VDR 1): the VDR-1 class, not the default; IQ types have VDR 2-4
    assert dequant_rate(engine, q["q3_k_l"]) == engine.speed.dequant_weights_per_s["vdr1"]
    assert dequant_rate(engine, q["iq3_m"]) == engine.speed.dequant_weights_per_s["default"]
    assert dequant_rate(engine, q["iq4_xs"]) > engine.speed.dequant_weights_per_s["default"]


@pytest.fixture(scope="module")
def iq4(catalog):
    return compare_llamacpp(catalog, [json.loads(x) for x in DATA.open() if '"iq4_xs"' in x])


@pytest.mark.parametrize(("quantity", "fit_bound", "held_bound"), [
    # run 12's fit row (R1-Distill-Llama-8B) and run 1's held-out row (R1-Distill-Qwen-7B), with
    # dequant_weights_per_s[iq4_xs] 4.7e12 (fitted on the fit row's decode; benchmarks/fit_llamacpp_gguf.py)
    ("weights", 0.01, 0.01),  # 0.0 / +0.2 %
    ("decode", 0.06, 0.12),  # +2.3 / -3.4 %; -8.2 / -5.7 % (+9.6 / +10.1 % at the Q4_K default)
    ("prefill", 0.15, 0.10),  # pp2048 +10.0 %; +4.5 %
    ("prefill_depth", 0.18, 0.12),  # +13.2 %; +7.1 %
    ("batched_decode", 0.15, 0.18),  # 4 sequences -8.4 % / 64 +8.4 %; 32 sequences -13.3 %
])
def test_iq4_xs_on_the_h200(iq4, quantity, fit_bound, held_bound):
    fit = [abs(c.error) for c in iq4 if c.quantity == quantity and not c.held_out]
    held = [abs(c.error) for c in iq4 if c.quantity == quantity and c.held_out]
    assert fit and held
    assert max(fit) <= fit_bound and max(held) <= held_bound


def test_plan_names_the_formats_gguf(run):
    out = run("plan", "deepseek-r1-distill-llama-8b", "--gpu", "RTX-4090", "--engine", "llama.cpp",
                  "--quant", "IQ4_XS")
    assert out.code == 0
    assert "DeepSeek-R1-Distill-Llama-8B-IQ4_XS.gguf" in out.out and "llama-server" in out.out
    assert run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "RTX-4090", "--engine", "llama.cpp",
               "--quant", "q4_k_s").code == 0  # exited 3, "unknown quantization format", before


def test_the_conversion_hint_asks_for_an_importance_matrix_where_llama_quantize_does():
    from dsadvisor.engines.common import convert_hint

    for fmt, needs in (("iq3_xxs", True), ("iq2_m", True), ("iq4_xs", False), ("q4_k_s", False)):
        hint = convert_hint("llama.cpp", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "bf16", fmt)
        assert "llama-quantize" in hint and fmt.upper() in hint
        assert ("--imatrix" in hint) == needs


def test_kernel_siblings_are_formats_the_engine_runs_and_have_no_figures_of_their_own(catalog):
    for engine_id in ("llama.cpp", "ollama"):
        s = catalog.engines[engine_id].speed
        assert s.format_kernels_as
        tables = (s.dequant_weights_per_s, s.mmq_format_factor, s.batched_weights_per_s_by_format,
                  s.dequant_column_weights_per_s_by_format, s.mmq_column_weights_per_s_by_format,
                  s.mmq_decode_weights_per_s_by_format, s.expert_pair_weights_per_s_by_format)
        for fmt, sibling in s.format_kernels_as.items():
            assert {fmt, sibling} <= set(catalog.engines[engine_id].formats)
            assert not any(fmt in t for t in tables), fmt  # a figure of its own would be hidden by the mapping
            assert any(sibling in t for t in tables), sibling


def test_bartowskis_qwen_7b_files_compute_within_1_percent(catalog):
    """A second held-out size check on another shape (R1-Distill-Qwen-7B, GQA 7, 28 layers): bartowski's imatrix
    files (catalog/artifacts/gguf-distills.yaml, exact bytes). IQ4_XS is the farthest (+0.86 %): with an importance
    matrix its first ffn_down layers stay IQ4_XS, the catalog's mix keeps llama-quantize's Q5_K without one."""
    from dsadvisor.physics.artifacts import size_problem

    files = [a for a in catalog.artifacts.values() if a.repo == "bartowski/DeepSeek-R1-Distill-Qwen-7B-GGUF"
             and a.format in NEW]
    assert {a.format for a in files} >= {"iq4_xs", "iq4_nl", "iq3_m", "iq2_m", "q4_k_s", "q5_k_s", "q3_k_l"}
    for a in files:
        assert _bytes(catalog, a.model, a.format) == pytest.approx(a.size_bytes, rel=0.01), a.id
        assert size_problem(catalog, a) is None


# LLaMA 3 8B, imatrix none (tools/perplexity/README.md scoreboard): perplexity 6.23316 at FP16 plus these
LLAMA3_DPPL = {"q8_0": 0.002650, "q6_k": 0.021748, "q5_k_m": 0.056974, "q5_k_s": 0.104964, "q5_0": 0.131591,
               "q4_k_m": 0.175482, "q4_k_s": 0.268895, "q4_0": 0.468514, "q3_k_m": 0.656864, "q2_k": 3.519934}


@pytest.mark.parametrize("fmt", sorted(LLAMA3_DPPL))
def test_every_gguf_format_carries_llama3_8bs_figure(catalog, fmt):
    """One table for every GGUF format: the older ones carried only Llama 2 70B / Qwen2 figures, which run lower, so
    Q5_K_S (1.68 % on LLaMA 3 8B) rated worse than Q4_K_M (1.2 % on Llama 2 70B, 2.82 % on LLaMA 3 8B)."""
    figures = [q.percent for q in catalog.quantizations[fmt].quality_loss if "LLaMA 3 8B" in (q.note or "") and "imatrix none" in (q.note or "")]
    assert figures == [pytest.approx(LLAMA3_DPPL[fmt] / 6.23316 * 100, abs=0.01)]


def test_a_distills_formats_rank_as_llama3_8b_measures_them(catalog):
    entry = catalog.models["deepseek-r1-distill-qwen-7b"]
    loss = {f: catalog.loss(entry, catalog.quantizations[f]).percent for f in LLAMA3_DPPL}
    by_loss = sorted(LLAMA3_DPPL, key=lambda f: (loss[f], LLAMA3_DPPL[f]))
    assert by_loss == sorted(LLAMA3_DPPL, key=LLAMA3_DPPL.get)
