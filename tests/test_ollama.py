"""Ollama as a serving engine: its own entry and module, library tags, its settings (issue 11)."""

from __future__ import annotations

import pytest


def plan_json(run, *args):
    r = run("plan", *args, "--format", "json")
    assert r.code == 0, r.err
    return r.json()


def test_engine_ollama_is_ollama_not_llama_cpp(catalog):
    # the bug: `--engine ollama` silently became llama.cpp (an alias of it)
    assert catalog.engine("ollama").id == "ollama"
    assert "ollama" not in catalog.engine("llama.cpp").aliases
    from dsadvisor.engines import serving_engine

    assert type(serving_engine(catalog.engine("ollama"))).__name__ == "Ollama"


def test_14b_on_a_3060_pulls_the_library_tag_with_its_settings(run):
    d = plan_json(run, "deepseek-r1-distill-qwen-14b", "--gpu", "RTX 3060", "--engine", "ollama")
    assert d["deployment"]["engine"] == "ollama" and d["deployment"]["quantization"] == "q4_k_m"
    lines = d["commands"][0].split("\n")
    assert lines[1:] == ["ollama serve &", "sleep 2", "ollama pull deepseek-r1:14b", "ollama run deepseek-r1:14b"]
    ctx = d["deployment"]["context"]
    assert lines[0] == f"export OLLAMA_CONTEXT_LENGTH={ctx} OLLAMA_NUM_PARALLEL=1"
    assert any("deepseek-r1:14b is deepseek-r1-distill-qwen-14b in q4_k_m, 9.0 GB" in n for n in d["notes"])


def test_a_tag_names_model_engine_and_format(run):
    d = plan_json(run, "deepseek-r1:14b", "--gpu", "RTX 4090")
    assert d["model"] == "deepseek-r1-distill-qwen-14b"
    assert d["deployment"]["engine"] == "ollama" and "ollama pull deepseek-r1:14b" in d["commands"][0]
    pinned = plan_json(run, "deepseek-r1:32b-distill-qwen-q4_K_M", "--gpu", "RTX 4090", "--context", "4096")
    assert "ollama pull deepseek-r1:32b-distill-qwen-q4_K_M" in pinned["commands"][0]  # the tag named, not :32b


def test_an_unknown_tag_is_a_clear_error_with_suggestions(run):
    r = run("plan", "deepseek-r1:13b", "--gpu", "RTX 4090", "-f", "json")
    assert r.code == 3 and r.out == ""
    (line,) = r.err.strip().splitlines()
    assert "unknown Ollama tag 'deepseek-r1:13b'; did you mean" in line and "'deepseek-r1:14b'" in line


def test_parallel_slots_and_a_quantized_kv_cache(run):
    d = plan_json(run, "deepseek-r1-distill-qwen-7b", "--gpu", "RTX 4090", "--engine", "ollama", "--batch", "4",
                  "--context", "4096", "--kv-dtype", "q8_0-kv")
    env = dict(line.split("=", 1) for line in d["commands"][0].split("\n")[0].split()[1:])
    assert env == {"OLLAMA_CONTEXT_LENGTH": "4096", "OLLAMA_NUM_PARALLEL": "4", "OLLAMA_FLASH_ATTENTION": "1",
                   "OLLAMA_KV_CACHE_TYPE": "q8_0"}
    assert any("each of its 4 parallel slots (16384 tokens in all" in n for n in d["notes"])


def test_its_kv_cache_is_sized_per_parallel_slot(catalog):
    from dsadvisor.physics.estimate import Deployment, estimate

    model, gpu = catalog.model("deepseek-r1-distill-qwen-7b"), catalog.gpus["RTX-4090"]
    kv = [estimate(Deployment.of(catalog, model=model, gpu=gpu, quant=catalog.quantization("q4_k_m"),
                                 engine=catalog.engine("ollama"), context=4096, batch=b)).memory.kv_cache
          for b in (1, 4)]
    assert kv[1] == pytest.approx(4 * kv[0], rel=0.01)  # OLLAMA_NUM_PARALLEL x OLLAMA_CONTEXT_LENGTH


def test_a_model_with_no_tag_says_convert_it_yourself(run):
    d = plan_json(run, "deepseek-v2-lite-chat", "--gpu", "RTX 4090", "--engine", "ollama", "--quant", "q4_k_m")
    assert "ollama pull '<ollama-tag>'" in d["commands"][0]
    assert any("convert it yourself" in n and "ollama create" in n for n in d["notes"])


def test_ollama_tags_are_the_community_default_on_consumer_cards(run):
    # 14B on a 3060 and 32B on a 4090: Q4_K_M, as Ollama's own tags ship, not Q3_K_M
    for model, gpu in (("deepseek-r1-distill-qwen-14b", "RTX 3060"), ("deepseek-r1-distill-qwen-32b", "RTX 4090")):
        d = plan_json(run, model, "--gpu", gpu)
        assert d["deployment"]["quantization"] == "q4_k_m", (model, d["deployment"])


def test_official_safetensors_are_no_ollama_or_llama_cpp_checkpoint(catalog):
    # bf16 "native" on Ollama/llama.cpp needs a GGUF: the official repository is not one
    official = catalog.artifacts_of("deepseek-r1-distill-qwen-14b")[0]
    assert official.official and not {"ollama", "llama.cpp"} & set(official.engines)
    from dsadvisor.advice.search import availability

    model = catalog.model("deepseek-r1-distill-qwen-14b")
    art, convert = availability(catalog, model, catalog.quantization("bf16"), catalog.engine("ollama"))
    assert art is None and "convert it yourself" in convert
def test_its_speed_is_llama_cpps_until_measured(catalog):
    # Ollama runs the ggml kernels llama.cpp runs: a refit of one must move the other
    from dataclasses import fields

    o, l = catalog.engine("ollama").speed, catalog.engine("llama.cpp").speed
    for f in fields(o):
        if f.name not in ("note", "source"):
            assert getattr(o, f.name) == getattr(l, f.name), f.name
