"""Which engine runs on which AMD chip: an engine's ``rocm_gfx`` (the gfx targets its own ROCm build is made for,
catalog/engines/engines.yaml) against a device's ``gfx_arch``, as ``min_compute_capability`` against an NVIDIA
GPU's compute capability (engines.base.ServingEngine.unsupported)."""

from __future__ import annotations

from dataclasses import replace

import pytest

# Typed from the sources the engine entries cite, not read from the catalog: a list edited without its source
# fails here. vLLM: docker/Dockerfile.rocm_base PYTORCH_ROCM_ARCH; SGLang: python/sglang/kernels/aot/setup_rocm.py.
VLLM_GFX = {"gfx90a", "gfx942", "gfx950", "gfx1100", "gfx1101", "gfx1150", "gfx1151", "gfx1200", "gfx1201"}
SGLANG_GFX = {"gfx942", "gfx950", "gfx1250"}

# The Radeon cards, typed from AMD's product pages (via the listings each entry cites): memory GB, bandwidth GB/s,
# CUs, boost MHz, board power W, gfx target, matrix FLOP per clock per CU (fp16, int8).
RADEON = {
    "RX-7900-XTX": (24, 960, 96, 2500, 355, "gfx1100", 512, 512),
    "RX-7900-XT": (20, 800, 84, 2400, 315, "gfx1100", 512, 512),
    "RX-9070-XT": (16, 640, 64, 2970, 304, "gfx1201", 1024, 2048),
}


def _engine(catalog, name):
    from dsadvisor.engines import serving_engine

    return serving_engine(catalog.engine(name))


def _amd_gpus(catalog):
    return [g for g in catalog.gpus.values() if g.vendor == "amd" and g.category != "cpu"]


def test_the_lists_are_the_cited_ones(catalog):
    assert set(catalog.engine("vllm").rocm_gfx.gfx) == VLLM_GFX
    assert set(catalog.engine("sglang").rocm_gfx.gfx) == SGLANG_GFX
    for name in ("vllm", "sglang"):
        assert "github.com" in catalog.engine(name).rocm_gfx.source


def test_every_amd_gpu_names_its_target(catalog):
    amd = _amd_gpus(catalog)
    assert len(amd) >= 4
    for gpu in amd:
        assert gpu.gfx_arch and gpu.gfx_arch.startswith("gfx"), gpu.id


def test_sglang_is_refused_on_strix_halo_with_the_reason(catalog):
    why = _engine(catalog, "sglang").unsupported(catalog.gpus["Ryzen-AI-Max-395-128GB"], catalog.quantization("bf16"))
    assert why is not None
    assert "gfx1151" in why and "gfx942" in why and "not a supported SGLang target" in why


@pytest.mark.parametrize("engine, allowed", [("vllm", VLLM_GFX), ("sglang", SGLANG_GFX)])
def test_each_amd_gpu_runs_what_the_cited_list_allows(catalog, engine, allowed):
    eng, bf16 = _engine(catalog, engine), catalog.quantization("bf16")
    for gpu in _amd_gpus(catalog):
        why = eng.unsupported(gpu, bf16)
        if gpu.gfx_arch in allowed:
            assert why is None, (gpu.id, why)
        else:
            assert why is not None and gpu.gfx_arch in why, (gpu.id, why)


def test_instinct_runs_sglang_and_vllm(catalog):
    bf16 = catalog.quantization("bf16")
    for gpu_id in ("MI300X", "MI325X", "MI355X"):
        for engine in ("sglang", "vllm"):
            assert _engine(catalog, engine).unsupported(catalog.gpus[gpu_id], bf16) is None, (gpu_id, engine)


@pytest.mark.parametrize("gfx, runs", [("gfx1100", False), ("gfx942", True), ("gfx1030", False)])
def test_the_rule_reads_the_devices_target(catalog, gfx, runs):
    """The same MI300X entry with another target: the answer follows the target (and the memo keys on it)."""
    gpu = replace(catalog.gpus["MI300X"], gfx_arch=gfx)
    why = _engine(catalog, "sglang").unsupported(gpu, catalog.quantization("bf16"))
    assert (why is None) == runs, why


def test_an_amd_gpu_of_unknown_target_is_not_refused(catalog):
    gpu = replace(catalog.gpus["Ryzen-AI-Max-395-128GB"], gfx_arch=None)
    assert _engine(catalog, "sglang").unsupported(gpu, catalog.quantization("bf16")) is None


def test_engines_without_a_list_run_on_every_amd_gpu(catalog):
    """llama.cpp and Ollama (HIP for the ROCm targets, Vulkan for the rest) and transformers (PyTorch) say no list."""
    bf16 = catalog.quantization("bf16")
    for engine in ("llama.cpp", "ollama", "transformers"):
        assert catalog.engine(engine).rocm_gfx is None
        for gpu in _amd_gpus(catalog):
            why = _engine(catalog, engine).unsupported(gpu, bf16)
            assert why is None or "gfx" not in why, (engine, gpu.id, why)


def test_check_with_sglang_on_strix_halo_fails_the_hardware_rule(catalog):
    from dsadvisor import api
    from dsadvisor.advice.rules import Constraints

    verdict = api.check(catalog, "deepseek-r1-distill-qwen-14b", "Strix Halo",
                        constraints=Constraints(engines=("sglang",)))
    assert not verdict.passed
    assert any(r.rule == "DSA004" and r.status == "fail" and "gfx1151" in r.message for r in verdict.results), verdict.results
    ok = api.check(catalog, "deepseek-r1-distill-qwen-14b", "MI300X", constraints=Constraints(engines=("sglang",)))
    assert ok.passed


@pytest.mark.parametrize("bad", [["942"], ["GFX942"], []])
def test_the_schema_refuses_a_target_not_named_as_rocm_names_it(bad):
    from dsadvisor.catalog.schema import RocmTargets, validate

    with pytest.raises(Exception):
        validate(RocmTargets, {"gfx": bad, "note": "words", "source": "a file"})


def test_the_schema_refuses_an_unknown_key():
    from dsadvisor.catalog.schema import RocmTargets, validate

    with pytest.raises(Exception, match="arch"):
        validate(RocmTargets, {"gfx": ["gfx942"], "note": "words", "source": "a file", "arch": "x"})
    assert validate(RocmTargets, {"gfx": ["gfx942", "gfx90a"], "note": "words", "source": "a file"}).gfx[1] == "gfx90a"


def test_a_device_target_is_checked_too(catalog):
    from dsadvisor.catalog.schema import Gpu, validate
    import dataclasses

    data = {f.name: getattr(catalog.gpus["MI300X"], f.name) for f in dataclasses.fields(Gpu)}
    data["gfx_arch"] = "MI300"
    with pytest.raises(Exception, match="gfx"):
        validate(Gpu, data)


@pytest.mark.parametrize("gpu_id", sorted(RADEON))
def test_radeon_datasheet(catalog, gpu_id):
    gb, gbs, cus, mhz, watts, gfx, fp16_clk, int8_clk = RADEON[gpu_id]
    g = catalog.gpus[gpu_id]
    assert (g.memory_gb, g.bandwidth_gbs, g.tdp_w, g.gfx_arch, g.vendor) == (gb, gbs, watts, gfx, "amd")
    assert g.fp16_tflops == g.bf16_tflops == pytest.approx(cus * fp16_clk * mhz / 1e6, abs=0.1)  # AMD: 122.8 for 122.88
    assert g.int8_tops == pytest.approx(cus * int8_clk * mhz / 1e6, abs=0.1)
    assert g.compute_capability is None and "fp8" not in g.dtypes  # fp8 not measured on RDNA 4 by any engine here


def test_radeon_rates_match_the_published_peaks(catalog):
    """AMD's own figures: the 7900 XTX's 122.8 TFLOPS half precision, the 9070 XT's 1,557 int4 sparse TOPS
    (= 2 x 2 x the dense int8 rate)."""
    assert catalog.gpus["RX-7900-XTX"].fp16_tflops == pytest.approx(122.8, abs=0.1)
    assert 4 * catalog.gpus["RX-9070-XT"].int8_tops == pytest.approx(1557, abs=1)


@pytest.mark.parametrize("name, gpu_id", [
    ("RX 7900 XTX", "RX-7900-XTX"), ("7900 XTX", "RX-7900-XTX"), ("AMD Radeon RX 7900 XTX", "RX-7900-XTX"),
    ("RX 7900 XT", "RX-7900-XT"), ("7900 XT", "RX-7900-XT"), ("Radeon RX 7900 XT", "RX-7900-XT"),
    ("RX 9070 XT", "RX-9070-XT"), ("9070 XT", "RX-9070-XT"), ("AMD Radeon RX 9070 XT", "RX-9070-XT"),
])
def test_radeon_names(catalog, name, gpu_id):
    from dsadvisor.catalog.hardware import resolve_gpu

    assert resolve_gpu(catalog.gpus, name).id == gpu_id


@pytest.mark.parametrize("gpu_id", sorted(RADEON))
def test_radeon_engines_follow_the_cited_lists(catalog, gpu_id):
    gpu, bf16 = catalog.gpus[gpu_id], catalog.quantization("bf16")
    assert _engine(catalog, "sglang").unsupported(gpu, bf16) is not None
    assert _engine(catalog, "tensorrt-llm").unsupported(gpu, bf16) is not None  # CUDA only
    for engine in ("vllm", "llama.cpp", "ollama"):
        assert _engine(catalog, engine).unsupported(gpu, bf16) is None, engine
    assert _engine(catalog, "llama.cpp").unsupported(gpu, catalog.quantization("q4_k_m")) is None
