"""The engines' support matrix (catalog/engines/engines.yaml ``support``, read by
``engines.base.ServingEngine.unsupported``): which engine runs which format and KV cache on which
hardware, with the engine's own reason, enforced alike by recommend, check, plan and estimate."""

from __future__ import annotations

import pytest

MODEL = "deepseek-r1-distill-qwen-14b"


def _engine(catalog, name):
    from dsadvisor.engines import serving_engine

    return serving_engine(catalog.engine(name))


def _q(catalog, name):
    return catalog.quantization(name)


# ----------------------------------------------------------------- the matrix itself

@pytest.mark.parametrize("gpu, fmt, runs", [
    ("V100-SXM-32GB", "awq-int4", False),  # vLLM's AWQ: Turing and newer
    ("V100-SXM-32GB", "gptq-int4", True),  # vLLM's GPTQ: Volta too
    ("V100-SXM-32GB", "int8", False),  # INT8 W8A8: Turing and newer
    ("T4", "awq-int4", True),
    ("T4", "fp8-marlin", False),  # Marlin: Ampere and newer
    ("A100-SXM-80GB", "fp8-marlin", True),
    ("A100-SXM-80GB", "fp8", False),  # FP8 W8A8: Ada and newer
    ("H100-SXM", "fp8", True),
    ("Raspberry-Pi-4B-8GB", "awq-int4", False),  # Arm CPU: no AWQ
    ("Raspberry-Pi-4B-8GB", "gptq-int4", False),
])
def test_vllm_quantization_by_hardware_follows_its_table(catalog, gpu, fmt, runs):
    why = _engine(catalog, "vllm").unsupported(catalog.gpus[gpu], _q(catalog, fmt))
    assert (why is None) == runs, why


def test_the_reason_is_the_engines_own_and_names_the_hardware(catalog):
    why = _engine(catalog, "vllm").unsupported(catalog.gpus["V100-SXM-32GB"], _q(catalog, "awq-int4"))
    assert "vLLM runs AWQ on NVIDIA GPUs from Turing (SM 7.5)" in why
    assert "compute capability 7.0" in why


def test_no_engine_but_llama_cpp_runs_anything_on_a_raspberry_pi(catalog):
    pi = catalog.gpus["Raspberry-Pi-4B-8GB"]
    for eng in ("vllm", "sglang", "tensorrt-llm"):
        for fmt in catalog.quantizations.values():
            if "weights" in fmt.applies_to and fmt.id in catalog.engine(eng).formats:
                assert _engine(catalog, eng).unsupported(pi, fmt) is not None, (eng, fmt.id)
    assert _engine(catalog, "llama.cpp").unsupported(pi, _q(catalog, "q4_k_m")) is None


def test_sglang_on_cpu_needs_an_x86_server_and_serves_bf16_int8_fp8_there(catalog):
    from dataclasses import replace

    pi = catalog.gpus["Raspberry-Pi-4B-8GB"]
    assert "Intel AMX" in _engine(catalog, "sglang").unsupported(pi, _q(catalog, "bf16"))
    xeon = replace(pi, id="xeon", name="Xeon", vendor="intel", dtypes=["fp32", "bf16", "int8"],
                   cpu_isa=["avx512", "amx"])
    assert _engine(catalog, "sglang").unsupported(xeon, _q(catalog, "bf16")) is None
    assert "BF16, W8A8 INT8 and FP8" in _engine(catalog, "sglang").unsupported(xeon, _q(catalog, "awq-int4"))


def test_bf16_kv_cache_on_a_card_without_bf16_is_refused(catalog):
    why = _engine(catalog, "vllm").unsupported(catalog.gpus["T4"], _q(catalog, "fp16"), kv="bf16")
    assert "has no bf16" in why
    assert _engine(catalog, "vllm").unsupported(catalog.gpus["T4"], _q(catalog, "fp16"), kv="fp16") is None


def test_every_support_limit_cites_a_source_and_names_known_formats(catalog):
    for eng in catalog.engines.values():
        for limit in eng.support:
            assert limit.source and limit.reason, eng.id
            assert set(limit.formats) <= set(catalog.quantizations), (eng.id, limit.formats)


# ------------------------------------------------- the same answer in every command

def test_recommend_on_a_v100_never_offers_vllm_awq(run):
    r = run("recommend", "--gpu", "V100", "--vram", "32", "--top", "50", "-f", "json")
    assert r.code == 0, r.err
    for v in r.json()["ranked"]:
        d = v["estimate"]["deployment"]
        assert not (d["quantization"] == "awq-int4" and d["engine"] in ("vllm", "sglang")), v["model"]


def test_a_raspberry_pi_never_gets_vllm(run):
    r = run("recommend", "--gpu", "Raspberry Pi 4", "--top", "50", "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["ranked"]
    # the ggml engines only (llama.cpp, and Ollama, which ships for Linux on arm64)
    assert {v["estimate"]["deployment"]["engine"] for v in r.json()["ranked"]} <= {"llama.cpp", "ollama"}


def test_check_plan_and_estimate_refuse_vllm_awq_on_a_v100_with_the_same_reason(run):
    reason = "vLLM runs AWQ on NVIDIA GPUs from Turing (SM 7.5)"
    hw = ("--gpu", "V100", "--vram", "32", "--quant", "awq-int4", "--engine", "vllm")
    check = run("check", MODEL, *hw)
    assert check.code == 1 and reason in check.err and "DSA004" in check.err
    plan = run("plan", MODEL, *hw)  # bad input for plan, as for estimate: nothing asked for runs that format here
    assert plan.code == 2 and reason in plan.err
    est = run("estimate", MODEL, "--gpu", "V100", "--vram", "32", "--quant", "awq-int4", "--engine", "vllm")
    assert est.code == 2 and reason in est.err
    assert "transformers runs awq-int4 there" in est.err  # what would run it instead


def test_gptq_stands_in_for_awq_on_a_v100(run):
    r = run("check", MODEL, "--gpu", "V100", "--vram", "32", "--quant", "gptq-int4", "--engine", "vllm")
    assert r.code == 0, r.err


def test_the_t4_plan_keeps_an_fp16_kv_cache(run):
    r = run("plan", "deepseek-r1-distill-qwen-7b", "--gpu", "T4", "--concurrency", "1", "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["deployment"]["kv_dtype"] == "fp16"
    table = run("plan", "deepseek-r1-distill-qwen-7b", "--gpu", "T4", "--concurrency", "1")
    assert "fp16 KV" in table.out and "bf16 KV" not in table.out


def test_a_closest_miss_is_never_an_engine_that_does_not_run_here(run):
    # the datacenter default of 32 requests: the search's closest miss used to be TensorRT-LLM (compute
    # capability 8.0, which a T4 lacks), so plan refused; it now sizes vLLM on the T4
    r = run("plan", "deepseek-r1-distill-qwen-7b", "--gpu", "T4", "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["deployment"]["engine"] != "tensorrt-llm" and r.json()["deployment"]["kv_dtype"] != "bf16"


def test_an_h100_keeps_bf16_kv(run):
    r = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "H100", "-f", "json")
    assert r.json()["deployment"]["kv_dtype"] == "bf16"


def test_bf16_kv_asked_on_a_t4_is_one_clear_line(run):
    r = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "T4", "--quant", "fp16", "--kv-dtype", "bf16")
    assert r.code == 2
    assert "T4 has no bf16: the KV cache is fp16 there" in r.err


# ----------------------------------------------------------------- the memo (ServingEngine.unsupported)

def _kv_choices(catalog):
    kv_formats = [q for q in catalog.quantizations.values() if "kv_cache" in q.applies_to]
    return [None, "auto", "bf16", "fp16", *kv_formats]


def _attention_kinds(catalog):
    shapes = {}
    for m in catalog.models.values():
        arch = catalog.architecture(m)
        if arch is not None:
            shapes.setdefault(arch.attention, arch)
    return [None, *shapes.values()]


def test_the_memo_gives_the_uncached_verdict_for_every_catalog_entry(catalog):
    """Every engine x device x format x attention x KV cache of the bundled catalog: the memoised answer
    (asked twice, so the second comes from the memo) is the one worked out afresh."""
    # each attention kind with no KV cache named, each KV cache with no shape: every field on its own
    pairs = [(arch, None) for arch in _attention_kinds(catalog)] + [(None, kv) for kv in _kv_choices(catalog)[1:]]
    weights = [q for q in catalog.quantizations.values() if "weights" in q.applies_to]
    asked = 0
    for spec in catalog.engines.values():
        eng = type(_engine(catalog, spec.id))(spec)  # the engine's own class, with an empty memo
        for gpu in catalog.gpus.values():
            for q in weights:
                for arch, kv in pairs:
                    fresh = eng.unsupported_uncached(gpu, q, arch, kv)
                    assert eng.unsupported(gpu, q, arch, kv) == fresh
                    assert eng.unsupported(gpu, q, arch, kv) == fresh
                    asked += 1
    assert asked > 10_000


@pytest.mark.parametrize("field, value", [
    ("compute_capability", "7.0"),  # a Volta-class part: no AWQ, no Marlin on vLLM
    ("dtypes", ["fp32", "fp16"]),  # no bf16 nor fp8
    ("category", "cpu"),
    ("vendor", "amd"),
    ("name", "Renamed A100"),  # the reason names the device
])
def test_a_device_differing_in_one_read_field_gets_its_own_verdict(catalog, field, value):
    """The memo is keyed by value (``support_key``): a device that differs from an asked one in any field
    the support matrix reads is answered afresh, never with the other's verdict."""
    import dataclasses

    a100 = catalog.gpus["A100-SXM-80GB"]
    other = dataclasses.replace(a100, **{field: value})
    for name in ("vllm", "sglang", "llama.cpp", "tensorrt-llm"):
        eng = _engine(catalog, name)
        for q in catalog.quantizations.values():
            if "weights" not in q.applies_to:
                continue
            eng.unsupported(a100, q)  # fills the memo with the A100's answer first
            assert eng.unsupported(other, q) == eng.unsupported_uncached(other, q)


def test_one_implementation_per_engine_entry_and_none_shared_across_catalogs(catalog):
    """``serving_engine`` makes one implementation per catalog entry (its memo lives there); another
    catalog's entry of the same id, even an equal one, gets its own."""
    import dataclasses

    from dsadvisor.engines import serving_engine

    spec = catalog.engine("vllm")
    assert serving_engine(spec) is serving_engine(spec)
    twin = dataclasses.replace(spec)
    assert serving_engine(twin).spec is twin
    assert serving_engine(spec).spec is spec


def test_recommend_works_out_each_support_question_once(catalog, monkeypatch):
    """A count, not a clock: one recommend run asks the support matrix thousands of times (every model
    x format x engine), and works out each distinct question once."""
    import dataclasses

    from dsadvisor import engines
    from dsadvisor.advice.rules import Constraints
    from dsadvisor.advice.search import Hardware, recommend
    from dsadvisor.engines.base import ServingEngine, support_key

    worked: list[tuple] = []
    real = ServingEngine.unsupported_uncached

    def counted(self, gpu, quant, arch=None, kv=None):
        worked.append((self.spec.id, support_key(gpu, quant, arch, kv)))
        return real(self, gpu, quant, arch, kv)

    monkeypatch.setattr(ServingEngine, "unsupported_uncached", counted)
    monkeypatch.setattr(engines, "_MADE", {})  # fresh implementations: their memos start empty
    fresh = dataclasses.replace(catalog, memo={})
    rec = recommend(fresh, [Hardware(fresh.gpus["A100-SXM-80GB"])], Constraints())
    assert rec.ranked
    assert worked and len(worked) == len(set(worked))


def test_vllm_cannot_load_janus_or_deepseek_vl(run):
    """vLLM has no MultiModalityCausalLM class (registry.py): `plan janus-pro-7b` printed `vllm serve
    deepseek-ai/Janus-Pro-7B`, which stops on an unsupported architecture. Now DSA004 rules vLLM out for the janus
    and vl families, the plan takes SGLang (which loads Janus-Pro), and a pinned --engine vllm is refused."""
    for model in ("janus-pro-7b", "deepseek-vl-7b-chat"):
        plan = run("plan", model, "--gpu", "A100", "--vram", "80", "-f", "json")
        if model == "deepseek-vl-7b-chat":  # no engine serves it (test_plan_says_no_engine_serves_deepseek_vl_7b)
            assert plan.code == 1 and "no engine in the catalog can serve" in plan.err
        else:
            assert plan.code == 0, plan.err
            assert not plan.json()["commands"][0].startswith("vllm serve")
        est = run("estimate", model, "--gpu", "A100", "--vram", "80", "--engine", "vllm", "-f", "json")
        assert est.code == 2 and est.out == "" and est.err.count("\n") == 1
        # SGLang loads Janus-Pro but not DeepSeek-VL (test_engines_that_lack_the_vision_model_class_are_ruled_out)
        assert "MultiModalityCausalLM" in est.err
        assert ("try --engine sglang" in est.err) == (model == "janus-pro-7b")
        chk = run("check", model, "--gpu", "A100", "--vram", "80", "--engine", "vllm")
        assert chk.code == 1 and "DSA004" in chk.err
    # VL2 and OCR have vLLM classes: still planned on vLLM
    vl2 = run("plan", "deepseek-vl2-tiny", "--gpu", "A100", "--vram", "80", "--engine", "vllm", "-f", "json")
    assert vl2.code == 0 and vl2.json()["commands"][0].startswith("vllm serve"), vl2.err


@pytest.mark.parametrize("model,engine,said", [
    # TensorRT-LLM's PyTorch backend: no class for any DeepSeek vision architecture (supported-models table;
    # modeling_auto.py raises "Unknown architecture for AutoModelForCausalLM")
    ("janus-pro-7b", "tensorrt-llm", "Unknown architecture"),
    ("deepseek-vl-7b-chat", "tensorrt-llm", "Unknown architecture"),
    ("deepseek-vl2-small", "tensorrt-llm", "Unknown architecture"),
    ("deepseek-ocr", "tensorrt-llm", "Unknown architecture"),
    # SGLang's MultiModalityCausalLM is Janus-Pro's: no HybridVisionTower, DeepSeek-VL 7B's vision tower
    ("deepseek-vl-7b-chat", "sglang", "HybridVisionTower"),
])
def test_engines_that_lack_the_vision_model_class_are_ruled_out(run, model, engine, said):
    """`plan janus-pro-7b --gpu L40S` printed `trtllm-serve '<FP8-checkpoint-of deepseek-ai/Janus-Pro-7B>'` and
    `plan deepseek-vl-7b-chat --gpu H100` `python -m sglang.launch_server --model-path deepseek-ai/deepseek-vl-7b-chat`:
    neither engine has the model class, so neither server starts. Now each is refused as vLLM is for Janus."""
    est = run("estimate", model, "--gpu", "L40S", "--engine", engine, "-f", "json")
    assert est.code == 2 and est.out == "" and est.err.count("\n") == 1 and said in est.err, est.err
    chk = run("check", model, "--gpu", "L40S", "--engine", engine)
    assert chk.code == 1 and "DSA004" in chk.err
    plan = run("plan", model, "--gpu", "L40S", "-f", "json")
    if model == "deepseek-vl-7b-chat":  # no engine left at all (test_plan_says_no_engine_serves_deepseek_vl_7b)
        assert plan.code == 1 and "no engine in the catalog can serve" in plan.err
    else:
        assert plan.code == 0 and plan.json()["deployment"]["engine"] != engine, plan.err


def test_every_cannot_load_family_is_a_catalog_family(catalog):
    families = {m.family for m in catalog.models.values()}
    for engine in catalog.engines.values():
        for limit in engine.cannot_load:
            assert set(limit.families) <= families, (engine.id, limit.families)


@pytest.mark.parametrize("model,args,engine,quant", [
    # a T4 has no bf16: the 16-bit checkpoint loads as fp16 (vLLM casts it below compute capability 8.0)
    ("deepseek-r1-distill-qwen-1.5b", ("--gpu", "T4"), "vllm", "fp16"),
    # vLLM does not run on Metal: the first engine that runs the 16-bit weights there
    ("deepseek-r1-distill-qwen-7b", ("--gpu", "M4 Max", "--ram", "64"), "llama.cpp", "fp16"),
    # vLLM's CPU backend needs a known instruction set; an EPYC has one
    ("deepseek-r1-distill-qwen-7b", ("--gpu", "cpu", "--ram", "64"), "llama.cpp", "bf16"),
    ("deepseek-r1-distill-qwen-7b", ("--gpu", "EPYC 9654", "--ram", "384"), "vllm", "bf16"),
    # vLLM cannot load Janus (no MultiModalityCausalLM class)
    ("janus-pro-7b", ("--gpu", "A100", "--vram", "80"), "sglang", "bf16"),
    ("deepseek-r1-distill-qwen-7b", ("--gpu", "H100"), "vllm", "bf16"),
    ("deepseek-r1", ("--gpu", "H200", "--gpus", "8"), "vllm", "fp8"),
])
def test_estimate_defaults_to_what_runs_on_the_device(run, model, args, engine, quant):
    """With no --engine and no --quant, `estimate MODEL --gpu T4` and `--gpu 'M4 Max' --ram 64` exited 2 (bf16 on a
    GPU without it; vLLM on Metal) although check and plan found a deployment there."""
    r = run("estimate", model, *args, "-f", "json")
    assert r.code == 0, r.err
    assert (r.json()["deployment"]["engine"], r.json()["deployment"]["quantization"]) == (engine, quant)


def test_a_format_the_user_names_is_still_judged_on_vllm(run):
    """A format limit is the answer to the format asked for: AWQ on a V100 stays vLLM's refusal (exit 2)."""
    r = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "V100", "--vram", "32", "--quant", "awq-int4",
            "-f", "json")
    assert r.code == 2 and "vLLM runs AWQ" in r.err


def test_no_engine_for_the_format_names_the_formats_that_run(run):
    """A Raspberry Pi 4 has no fp16 arithmetic: the error said "try another --quant" and named none."""
    r = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "Raspberry Pi 4B", "-f", "json")
    assert r.code == 2 and r.out == "" and r.err.count("\n") == 1
    assert "try --quant q8_0 or " in r.err
    ok = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "Raspberry Pi 4B", "--quant", "q8_0", "-f", "json")
    assert ok.code == 0, ok.err


def test_vllm_fp8_kv_cache_needs_ampere(run):
    """vLLM 0.24 refuses an FP8 KV cache on a T4 (vllm-project/vllm#47549): the plan printed `--kv-cache-dtype fp8`
    for a T4. A KV format is now judged by the engine's support limits like a weight format."""
    r = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "T4", "--quant", "fp16", "--kv-dtype", "fp8",
            "-f", "json")
    assert r.code == 2 and "FP8 KV cache does not run before Ampere" in r.err and "compute capability 7.5" in r.err
    plan = run("plan", "deepseek-r1-distill-qwen-7b", "--gpu", "T4", "-f", "json")
    assert plan.code == 0, plan.err
    assert "--kv-cache-dtype fp8" not in plan.json()["commands"][0]
    r = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "A100", "--vram", "40", "--kv-dtype", "fp8", "-f", "json")
    assert r.code == 0 and r.json()["deployment"]["kv_dtype"] == "fp8-kv", r.err  # Ampere keeps it


def test_vllm_on_a_cpu_has_no_fp8_kv_cache(run):
    """vLLM's CPU backend sets any quantized KV cache back to the model's dtype (platforms/cpu.py at f6ff3f0f): `plan
    deepseek-r1-distill-qwen-7b --gpu 'EPYC 9654' --engine vllm --kv-dtype fp8-kv --concurrency 8 --context 32768`
    exported VLLM_CPU_KVCACHE_SPACE=8 for an fp8 cache of 7.52 GB, which holds half the tokens once vLLM keeps it in
    bf16. Now fp8 KV is refused on a CPU (estimate, check, plan) and kept on GPUs."""
    cpu = ("--gpu", "EPYC 9654", "--engine", "vllm", "--kv-dtype", "fp8-kv")
    est = run("estimate", "deepseek-r1-distill-qwen-7b", *cpu, "-f", "json")
    assert est.code == 2 and est.out == "" and "quantizes no KV cache" in est.err and est.err.count("\n") == 1
    chk = run("check", "deepseek-r1-distill-qwen-7b", *cpu)
    assert chk.code == 1 and "DSA004" in chk.err
    plan = run("plan", "deepseek-r1-distill-qwen-7b", "--gpu", "EPYC 9654", "--engine", "vllm", "--concurrency", "8",
               "--context", "32768", "-f", "json")
    assert plan.code == 0 and plan.json()["deployment"]["kv_dtype"] == "bf16", plan.err
    assert "--kv-cache-dtype" not in plan.json()["commands"][0]
    gpu = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "H100", "--engine", "vllm", "--kv-dtype", "fp8-kv",
              "-f", "json")
    assert gpu.code == 0 and gpu.json()["deployment"]["kv_dtype"] == "fp8-kv"


@pytest.mark.parametrize("engine", ["llama.cpp", "ollama"])
@pytest.mark.parametrize("model", ["deepseek-vl-7b-chat", "deepseek-vl2"])
def test_no_gguf_of_deepseek_vl_can_be_made(catalog, engine, model):
    """llama.cpp's converter registers no MultiModalityCausalLM (DeepSeek-VL) or DeepseekVLV2ForCausalLM, and
    Ollama's converter neither: plan offered a "convert it yourself" GGUF nobody can make."""
    from dsadvisor.engines import serving_engine

    why = serving_engine(catalog.engine(engine)).cannot_load(catalog.model(model))
    assert why is not None and ("MultiModalityCausalLM" in why or "DeepseekVLV2ForCausalLM" in why)


def test_plan_says_no_engine_serves_deepseek_vl_7b(run):
    """`plan deepseek-vl-7b-chat --gpu L40S` printed a llama.cpp command for a GGUF that cannot be made; now one
    line on stderr, exit 1 (plan: nothing to launch), naming the engines; recommend ranks it nowhere."""
    for args in (("--gpu", "L40S"), ("--gpu", "H100", "--engine", "llama.cpp"), ("--gpu", "RTX 4090", "-f", "json")):
        r = run("plan", "deepseek-vl-7b-chat", *args)
        assert r.code == 1 and r.out == ""
        [line] = r.err.strip().splitlines()
        assert line.startswith("dsadvisor: error: no engine in the catalog can serve deepseek-vl-7b-chat: ")
        assert all(n in line for n in ("vLLM", "SGLang", "TensorRT-LLM", "llama.cpp", "Ollama"))
    r = run("recommend", "--gpu", "L40S", "--family", "vl", "--allow-unknown", "-f", "json")
    assert r.code == 0, r.err
    assert "deepseek-vl-7b-chat" not in {row["model"] for row in r.json()["ranked"]}
    # DeepSeek-VL2 still has one: vLLM's DeepseekVLV2ForCausalLM
    assert run("plan", "deepseek-vl2", "--gpu", "L40S").code == 0


def test_vllm_cpu_backend_has_no_sparse_attention(run):
    """`recommend --gpu 'EPYC 9654' --engine vllm` ranked deepseek-v3.2 2nd; vLLM's CPU backend raises "Sparse
    Attention is not supported on CPU." for V3.2's indexer-selected MLA (platforms/cpu.py get_attn_backend_cls)."""
    r = run("recommend", "--gpu", "EPYC 9654", "--engine", "vllm", "--top", "50", "-f", "json")
    assert r.code == 0, r.err
    ranked = {row["model"] for row in r.json()["ranked"]}
    assert not ranked & {"deepseek-v3.2", "deepseek-v3.2-exp"} and "deepseek-r1-0528" in ranked
    p = run("plan", "deepseek-v3.2", "--gpu", "EPYC 9654", "--engine", "vllm")
    assert p.code == 1 and "Sparse Attention is not supported on CPU" in p.err and p.err.count("\n") == 1
    # on a GPU vLLM still runs it, and on the CPU llama.cpp does (its deepseek32 graph)
    assert run("plan", "deepseek-v3.2", "--gpu", "H200", "--gpus", "8", "--engine", "vllm").code == 0
    assert run("plan", "deepseek-v3.2", "--gpu", "EPYC 9654", "-f", "json").json()["deployment"]["engine"] == "llama.cpp"
