"""--ram: system memory. It sizes a unified-memory device, and bounds what llama.cpp keeps in CPU memory."""

from __future__ import annotations


def test_ram_sizes_a_unified_memory_device(run):
    pi = run("estimate", "deepseek-r1-distill-qwen-1.5b", "--gpu", "Raspberry Pi 4B", "--ram", "4",
             "--quant", "q4_k_m", "--engine", "llama.cpp", "--context", "2048", "-f", "json")
    assert pi.code == 0, pi.err
    # the 4 GB board, not the catalog's 8 GB one: 4 GiB x 0.8 (the Pi's OS share, hardware.capacity_bytes)
    assert pi.json()["memory"]["gpu_capacity_bytes"] == int(4 * 2**30 * 0.8) == 3_435_973_836
    mac = run("check", "deepseek-r1-distill-llama-70b", "--gpu", "M3 Max", "--ram", "128", "--quant", "q4_k_m")
    assert mac.code == 0 and mac.json()["estimate"]["deployment"]["gpu"] == "M3-Max-128GB", mac.err


def test_ram_and_vram_that_disagree_on_one_memory_are_refused(run):
    r = run("recommend", "--gpu", "M3 Max", "--vram", "96", "--ram", "128")
    assert r.code == 2 and r.out == ""
    assert r.err.count("\n") == 1 and "one unified memory" in r.err


def test_ram_alone_names_no_device(run):
    r = run("recommend", "--ram", "64")
    assert r.code == 2 and "--ram is system memory" in r.err


def test_offloaded_layers_must_fit_in_system_memory(run):
    args = ("plan", "DeepSeek-R1-Distill-Qwen-32B", "--gpu", "RTX 3060", "--engine", "llama.cpp",
            "--quant", "q4_k_m", "--offload", "-f", "json")
    roomy = run(*args, "--ram", "32")
    assert roomy.code == 0, roomy.err
    need = roomy.json()["host_memory_bytes"]  # 28 layers of weights and KV cache: about 9.2 GB
    assert 9.0e9 < need < 9.3e9
    tight = run(*args, "--ram", "8")
    assert tight.code == 1 and tight.out == ""
    assert tight.err.count("\n") == 1 and "9.2 GB" in tight.err and "the 8 GB of system memory" in tight.err


def test_ram_is_checked_like_every_number(run):
    for bad in ("-1", "0", "nan", "1e30"):
        r = run("plan", "deepseek-r1-distill-qwen-7b", "--gpu", "L4", "--ram", bad)
        assert r.code == 2 and "--ram" in r.err and r.out == "", (bad, r.err)


def test_gpu_auto_judges_offloaded_layers_against_this_machines_memory(run, monkeypatch):
    from dsadvisor.catalog.hardware import DetectedGpu

    monkeypatch.setattr("dsadvisor.catalog.hardware.detect_gpus", lambda: [DetectedGpu("NVIDIA GeForce RTX 3060", 12288, 12000)])
    args = ("plan", "DeepSeek-R1-Distill-Qwen-32B", "--gpu", "auto", "--engine", "llama.cpp", "--quant", "q4_k_m",
            "--offload", "-f", "json")
    monkeypatch.setattr("dsadvisor.catalog.hardware.system_memory_bytes", lambda: 8 * 10**9)
    small = run(*args)
    assert small.code == 1 and "the 8 GB of system memory" in small.err
    monkeypatch.setattr("dsadvisor.catalog.hardware.system_memory_bytes", lambda: 64 * 10**9)
    assert run(*args).code == 0
    assert run(*args, "--ram", "8").code == 1  # an explicit --ram wins over the detected figure


def test_system_memory_is_read_from_the_os():
    from dsadvisor.catalog.hardware import system_memory_bytes

    found = system_memory_bytes()
    assert found is None or 2**26 < found < 2**50


def test_ram_that_contradicts_the_size_in_the_name_is_refused(run):
    """Used to reach `abs(None - ram)`: a traceback."""
    r = run("recommend", "--gpu", "Apple M2 Ultra 192GB", "--ram", "32")
    assert r.code == 2 and r.out == "" and r.err.count("\n") == 1 and "one unified memory" in r.err


def test_a_mac_by_chip_and_ram_gets_a_ranking(run):
    """`--gpu 'Apple M4 Max' --ram 64` (refused before the 48 and 64 GB entries existed) ranks deployments."""
    r = run("recommend", "--gpu", "Apple M4 Max", "--ram", "64", "-f", "json")
    assert r.code == 0, r.err
    ranked = r.json()["ranked"]
    assert ranked and {x["estimate"]["deployment"]["gpu"] for x in ranked} == {"M4-Max-64GB"}
    # Metal: the ggml engines only (llama.cpp, and Ollama, which runs the same kernels)
    assert {x["estimate"]["deployment"]["engine"] for x in ranked} <= {"llama.cpp", "ollama"}


def test_cpu_and_ram_gets_a_ranking_of_llama_cpp(run):
    """`--gpu cpu --ram 64`: a ranked answer on system memory, all llama.cpp. Before, vLLM AWQ ranked first
    (its GPU-measured 0.90 bandwidth efficiency applied to a CPU); a CPU decodes at about 0.56 of its peak,
    and vLLM's and SGLang's CPU backends need an instruction set this unnamed CPU may not have."""
    r = run("recommend", "--gpu", "cpu", "--ram", "64", "-f", "json")
    assert r.code == 0, r.err
    ranked = r.json()["ranked"]
    assert ranked and {x["estimate"]["deployment"]["gpu"] for x in ranked} == {"CPU"}
    # only the ggml engines on an unknown CPU (llama.cpp, and Ollama, which runs the same kernels)
    assert {x["estimate"]["deployment"]["engine"] for x in ranked} <= {"llama.cpp", "ollama"}
    assert "llama.cpp" in {x["estimate"]["deployment"]["engine"] for x in ranked}
    assert all(x["estimate"]["memory"]["gpu_capacity_bytes"] == int(64 * 2**30 * 0.85) for x in ranked)


def test_cpu_needs_its_memory_size(run):
    r = run("recommend", "--gpu", "cpu")
    assert r.code == 2 and r.out == "" and "--ram" in r.err and r.err.count("\n") == 1


def test_engines_cpu_backends_need_their_instruction_set(run, catalog):
    from dsadvisor.engines import serving_engine

    vllm, sglang, llama = (serving_engine(catalog.engine(e)) for e in ("vllm", "sglang", "llama.cpp"))
    cpu, epyc, xeon = (catalog.gpus[g] for g in ("CPU", "EPYC-9654", "Xeon-Platinum-8480"))
    assert "instruction set unknown" in vllm.cpu_unsupported(cpu) and vllm.cpu_unsupported(epyc) is None
    assert "AMX" in sglang.cpu_unsupported(epyc) and sglang.cpu_unsupported(xeon) is None
    assert llama.cpu_unsupported(cpu) is None
    r = run("check", "deepseek-r1-distill-qwen-7b", "--gpu", "cpu", "--ram", "64", "--engine", "vllm")
    assert r.code == 1 and "vLLM's CPU backend is built for x86 with AVX2/AVX-512 or Arm with NEON" in r.err


def test_a_cpu_plan_keeps_every_layer_in_system_memory(run):
    """On a CPU there is no GPU to offload to: -ngl 0 (it printed -ngl 29, every layer "on the GPU")."""
    r = run("plan", "deepseek-r1-distill-qwen-7b", "--gpu", "EPYC 9654", "--engine", "llama.cpp", "-f", "json")
    assert r.code == 0, r.err
    plan = r.json()
    assert "-ngl 0 " in plan["commands"][0] and plan["gpu_layers"] == 0 and plan["host_memory_bytes"] == 0
    assert any("CPU-only llama.cpp build" in n and "avx512" in n for n in plan["notes"])
    assert plan["kubernetes"] is None  # nvidia.com/gpu limits make no sense here


def test_every_m3_max_memory_size_is_a_device(run, catalog):
    """The M3 Max ships with 36, 48, 64, 96 or 128 GB; `--gpu 'M3 Max' --ram 64` was refused ("give --ram")."""
    for ram, gpu, bandwidth in (("36", "M3-Max-36GB", 300), ("48", "M3-Max-48GB", 400),
                                ("64", "M3-Max-64GB", 400), ("96", "M3-Max-96GB", 300)):
        r = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "M3 Max", "--ram", ram,
                "--quant", "q4_k_m", "--engine", "llama.cpp", "-f", "json")
        assert r.code == 0, r.err
        assert r.json()["deployment"]["gpu"] == gpu
    gpus = catalog.gpus
    assert [gpus[g].bandwidth_gbs for g in ("M3-Max-36GB", "M3-Max-48GB", "M3-Max-64GB")] == [300, 400, 400]


def test_ram_no_member_of_a_unified_family_has_is_named_in_the_error(run):
    """`--gpu 'M4 Max' --ram 100` said "give --ram (e.g. ... --ram 36)" although --ram was given."""
    r = run("recommend", "--gpu", "M4 Max", "--ram", "100", "-f", "json")
    assert r.code == 2 and r.out == "" and r.err.count("\n") == 1
    assert "36, 48, 64 and 128 GB, not 100" in r.err and "give --ram" not in r.err
    assert "--ram 100" in r.err and "--vram" not in r.err
    # the suggestion it makes runs
    s = run("recommend", "--gpu", "M4-Max-36GB", "--ram", "100", "--top", "1", "-f", "json")
    assert s.code == 0, s.err
