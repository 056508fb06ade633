"""Artifacts (checkpoints that exist), quality loss per model, and the plans that name them (issue 11)."""

from __future__ import annotations

import json

import pytest

from dsadvisor.catalog.schema import Artifact, validate
from dsadvisor.errors import CatalogError


def plan_json(run, *args):
    r = run("plan", *args, "--format", "json")
    assert r.code == 0, r.err
    return r.json()


# ------------------------------------------------------------------ the catalog's artifacts

def test_r1_artifacts_start_with_the_official_fp8_weights(catalog):
    arts = catalog.artifacts_of("deepseek-r1")
    assert arts[0].official and arts[0].repo == "deepseek-ai/DeepSeek-R1" and arts[0].format == "fp8"
    repos = {a.repo for a in arts}
    assert {"cognitivecomputations/DeepSeek-R1-AWQ", "ISTA-DASLab/DeepSeek-R1-GPTQ-4b-128g",
            "nvidia/DeepSeek-R1-FP4"} <= repos


def test_every_artifact_is_sourced_and_sized_as_its_architecture(catalog):
    from dsadvisor.physics.artifacts import computed_bytes, size_problems

    assert size_problems(catalog) == []
    for a in catalog.artifacts.values():
        assert a.source.startswith("https://"), a.id  # a page a user can open
        if a.size_bytes:
            assert 0.85 <= a.size_bytes / computed_bytes(catalog, a) <= 1.15, a.id


def test_a_size_that_contradicts_the_architecture_names_file_entry_and_field(catalog, tmp_path):
    from dataclasses import replace

    from dsadvisor.physics.artifacts import checked

    bad = replace(catalog.artifacts["r1-gptq-ista"], size_bytes=100_000_000_000)
    spoiled = replace(catalog, artifacts={**catalog.artifacts, bad.id: bad}, memo={})
    with pytest.raises(CatalogError) as exc:
        checked(spoiled)
    (line,) = exc.value.problems
    assert "r1.yaml: artifacts (id r1-gptq-ista): field size_bytes: 100,000,000,000 bytes contradicts" in line


@pytest.mark.parametrize("field, value, words", [
    ("ollama_tag", "deepseek-r1:7b", "exactly one of repo"),
    ("file", "../x.gguf", "must be a file name inside repo"),
    ("repo", "acme/x$(touch y)", "is not a Hugging Face repo id"),
])
def test_artifact_fields_that_reach_a_shell_are_checked(field, value, words):
    from pydantic import ValidationError

    data = {"id": "a", "model": "m", "format": "bf16", "repo": "acme/x", "engines": ["vllm"], "source": "xx",
            field: value}
    with pytest.raises(ValidationError, match=words.replace("$", r"\$").replace("(", r"\(")):
        validate(Artifact, data)


# ------------------------------------------------------------------ quality loss

def test_native_formats_are_lossless(catalog):
    r1 = catalog.model("deepseek-r1-0528")
    for fmt in ("fp8", "fp8-marlin", "bf16"):
        loss = catalog.loss(r1, catalog.quantization(fmt))
        assert loss.percent == 0 and loss.basis == "native", fmt
    distill = catalog.model("deepseek-r1-distill-qwen-32b")
    assert catalog.loss(distill, catalog.quantization("bf16")).percent == 0


def test_int8_weight_only_has_no_figure_so_its_loss_is_unknown_not_zero(catalog):
    # the bug: int8-wo had no quality-loss figure and counted as lossless, beating fp8
    distill = catalog.model("deepseek-r1-distill-qwen-32b")
    loss = catalog.loss(distill, catalog.quantization("int8-wo"))
    assert loss.percent is None and not loss.known
    assert "unknown" in loss.describe()


def test_losses_come_from_the_closest_measurement(catalog):
    q = catalog.quantization
    r1_0528, r1 = catalog.model("deepseek-r1-0528"), catalog.model("deepseek-r1")
    assert catalog.loss(r1_0528, q("gptq-int4")).percent == pytest.approx(0.18)  # ISTA's 99.82 % recovery
    assert catalog.loss(r1_0528, q("gptq-int4")).basis == "this checkpoint"
    assert catalog.loss(r1, q("nvfp4")).percent == pytest.approx(0.46)  # NVIDIA's FP4 card
    assert catalog.loss(r1, q("gptq-int4")).percent == pytest.approx(3.48)  # the larger of R1's GPTQ checkpoints
    distill = catalog.model("deepseek-r1-distill-qwen-32b")
    assert catalog.loss(distill, q("fp8")).basis == "this family"  # Neural Magic's distill suite
    assert catalog.loss(catalog.model("deepseek-r1-distill-qwen-1.5b"), q("gptq-int4")).percent == 6
    assert catalog.loss(catalog.model("deepseek-v2-lite-chat"), q("fp8")).basis == "other models"


def test_unknown_loss_ranks_below_known_and_convert_below_existing():
    from dsadvisor.advice.search import tier
    from dsadvisor.catalog.store import Loss

    native, known, unknown = Loss(0.0, "native"), Loss(1.0, "this family"), Loss(None, "unknown")
    assert tier(native, True) > tier(known, True) > tier(known, False) > tier(unknown, True) > tier(unknown, False)


def test_a_known_loss_beats_an_unknown_one_in_the_search(catalog):
    from dsadvisor.advice.rules import Constraints
    from dsadvisor.advice.search import Hardware, recommend

    k = Constraints(quants=("int8-wo", "int8"), engines=("vllm",))
    rec = recommend(catalog, [Hardware(catalog.gpus["H100-SXM"])], k, [catalog.model("deepseek-r1-distill-qwen-32b")])
    (v,) = rec.ranked
    assert v.estimate.quant_id == "int8" and v.loss.known


# ------------------------------------------------------------------ plans name real checkpoints

def test_r1_0528_on_8_h200_serves_the_official_fp8_repo_with_no_quantization_flag(run):
    d = plan_json(run, "deepseek-r1-0528", "--gpu", "H200", "--gpus", "8")
    assert d["deployment"]["quantization"] == "fp8"
    cmd = d["commands"][0]
    assert cmd.startswith("vllm serve deepseek-ai/DeepSeek-R1-0528 --tensor-parallel-size 8 ")
    assert "--quantization" not in cmd and "<" not in cmd


def test_32b_distill_on_one_h100_serves_bf16_or_a_published_checkpoint(run):
    d = plan_json(run, "deepseek-r1-distill-qwen-32b", "--gpu", "H100")
    assert d["deployment"]["quantization"] in ("bf16", "fp8", "int8")
    assert "<" not in d["commands"][0]  # no placeholder: the checkpoint exists


def test_local_bf16_fine_tune_that_fits_stays_bf16(run, tmp_path, catalog):
    from dsadvisor.catalog.schema import as_dict

    arch = catalog.architecture(catalog.model("DeepSeek-R1-Distill-Qwen-7B"))
    config = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "torch_dtype": "bfloat16",
              **as_dict(arch, include={"num_hidden_layers", "hidden_size", "intermediate_size", "vocab_size",
                                         "num_attention_heads", "num_key_value_heads",
                                         "max_position_embeddings", "tie_word_embeddings"})}
    (tmp_path / "config.json").write_text(json.dumps(config))
    d = plan_json(run, "--config", str(tmp_path / "config.json"), "--gpu", "H100", "--engine", "vllm")
    assert d["deployment"]["quantization"] == "bf16"
    assert d["commands"][0].startswith(f"vllm serve {tmp_path} ") and "<" not in d["commands"][0]


def test_a_published_quantized_checkpoint_is_named_not_a_placeholder(run):
    d = plan_json(run, "deepseek-r1", "--gpu", "H100", "--gpus", "8", "--quant", "gptq", "--engine", "vllm")
    cmd = d["commands"][0]
    assert cmd.startswith("vllm serve ISTA-DASLab/DeepSeek-R1-GPTQ-4b-128g")
    assert "--quantization" not in cmd  # vLLM reads compressed-tensors from the checkpoint's config
    assert any("ISTA-DASLab/DeepSeek-R1-GPTQ-4b-128g" in n for n in d["notes"])


def test_a_users_replacement_of_a_model_drops_its_bundled_checkpoints(tmp_path):
    from dsadvisor.catalog.store import load_catalog
    from dsadvisor.physics.artifacts import checked

    from .conftest import GOOD_MODEL

    f = tmp_path / "mine.yaml"
    f.write_text("models:\n" + GOOD_MODEL.replace("acme-7b", "deepseek-r1-distill-qwen-14b"), encoding="utf-8")
    cat = checked(load_catalog([f], use_env=False))  # the bundled 14B's tag would contradict the new shape
    assert not [a for a in cat.artifacts_of("deepseek-r1-distill-qwen-14b") if a.ollama_tag]
    assert cat.artifacts_of("deepseek-r1-distill-qwen-7b")  # other models keep theirs


# ---------------------------------------------------------------- the community checkpoints of every family
@pytest.mark.parametrize("model, fmt, engine, repo", [
    ("deepseek-r1-distill-qwen-14b", "q4_k_m", "llama.cpp", "bartowski/DeepSeek-R1-Distill-Qwen-14B-GGUF"),
    ("deepseek-r1-distill-qwen-32b", "q4_k_m", "llama.cpp", "bartowski/DeepSeek-R1-Distill-Qwen-32B-GGUF"),
    ("deepseek-coder-v2-lite-instruct", "q4_k_m", "llama.cpp", "bartowski/DeepSeek-Coder-V2-Lite-Instruct-GGUF"),
    ("deepseek-v3", "awq-int4", "vllm", "cognitivecomputations/DeepSeek-V3-AWQ"),
    ("deepseek-v3.2", "awq-int4", "vllm", "QuantTrio/DeepSeek-V3.2-AWQ"),
    ("deepseek-v3-0324", "nvfp4", "tensorrt-llm", "nvidia/DeepSeek-V3-0324-FP4"),
    ("deepseek-r1-distill-qwen-32b", "gptq-int4", "vllm", "RedHatAI/DeepSeek-R1-Distill-Qwen-32B-quantized.w4a16"),
])
def test_each_family_names_the_checkpoint_that_exists(catalog, model, fmt, engine, repo):
    art = catalog.artifact(model, fmt, engine)
    assert art is not None and art.repo == repo
    assert art.source.startswith("https://")



def test_gguf_files_are_sized_as_their_folders_list_them(catalog):
    """A GGUF entry names its file, and its stated size is within 1 % of the catalog's k-quant tensor mix
    (Q2_K included since it carries llama.cpp's mix: it was 14-20 % under)."""
    from dsadvisor.physics.artifacts import computed_bytes

    ggufs = [a for a in catalog.artifacts.values() if a.file and a.file.endswith(".gguf") and a.format.startswith("q")
             and a.id.startswith(("r1-distill", "coder-v2-lite"))]
    assert len(ggufs) >= 20
    for a in ggufs:
        assert a.size_bytes and abs(a.size_bytes / computed_bytes(catalog, a) - 1) < 0.01, a.id


def test_a_llama_cpp_deployment_of_a_distill_carries_its_gguf(catalog):
    """recommend picks the existing GGUF for llama.cpp (no "convert it yourself") once one is catalogued."""
    from dsadvisor.advice.check import check, hardware
    from dsadvisor.advice.rules import Constraints

    v = check(catalog, "deepseek-r1-distill-qwen-14b", hardware(catalog, "RTX 3060"),
              Constraints(engines=("llama.cpp",), quants=("q4_k_m",)))
    assert v.artifact is not None and v.artifact.file == "DeepSeek-R1-Distill-Qwen-14B-Q4_K_M.gguf"
    assert v.convert is None


def test_a_single_gguf_file_is_downloaded_by_its_name(run):
    """A GGUF at the top of its repository (bartowski's) is fetched by its own name, not as a folder."""
    r = run("plan", "deepseek-r1-distill-qwen-14b", "--gpu", "RTX 3060", "--engine", "llama.cpp", "-f", "json")
    doc = r.json()
    assert "-m DeepSeek-R1-Distill-Qwen-14B-GGUF/DeepSeek-R1-Distill-Qwen-14B-Q4_K_M.gguf" in doc["commands"][0]
    note = next(n for n in doc["notes"] if "hf download" in n)
    assert ("hf download bartowski/DeepSeek-R1-Distill-Qwen-14B-GGUF --include 'DeepSeek-R1-Distill-Qwen-14B-Q4_K_M.gguf' "
            "--local-dir DeepSeek-R1-Distill-Qwen-14B-GGUF") in note


def test_a_small_mac_is_never_told_to_lower_its_gpu_memory_limit(run):
    """On a 36 GB M4 Max the default wired limit (~29 GB) is above 36 - 16 GB: no sysctl that would lower it."""
    doc = run("plan", "deepseek-r1-distill-qwen-32b", "--gpu", "M4 Max 32-core", "-f", "json").json()
    for note in doc["notes"]:
        if "iogpu.wired_limit_mb=" in note:
            limit_mb = int(note.split("iogpu.wired_limit_mb=")[1].split()[0])
            assert limit_mb * 2**20 > 29e9, note
