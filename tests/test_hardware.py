"""The hardware, quantization and engine catalogs, and GPU resolution (dsadvisor.catalog.hardware)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dsadvisor.catalog import hardware
from dsadvisor.errors import InputError, UnknownNameError
from dsadvisor.catalog.hardware import (
    DetectedGpu,
    capacity_bytes,
    custom_gpu,
    detect_gpus,
    parse_nvidia_smi_csv,
    resolve_gpu,
)
from dsadvisor.catalog.schema import CatalogFile, validate

from .test_described_catalog import S000, S002, S004

CATALOG = Path(__file__).resolve().parents[1] / "catalog"
HARDWARE_FILES = ["datacenter", "workstation", "consumer", "edge", "cpu"]


def _load(path: Path) -> CatalogFile:
    return validate(CatalogFile, yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def gpus():
    table = {}
    for name in HARDWARE_FILES:
        for g in _load(CATALOG / "hardware" / f"{name}.yaml").gpus:
            assert g.id not in table, f"duplicate GPU id {g.id}"
            table[g.id] = g
    return table


@pytest.fixture(scope="module")
def quants():
    return {q.id: q for q in _load(CATALOG / "quantization" / "formats.yaml").quantizations}


@pytest.fixture(scope="module")
def engines():
    return {e.id: e for e in _load(CATALOG / "engines" / "engines.yaml").engines}


# ------------------------------------------------------------------ catalog

def test_every_device_of_the_reference_is_there(gpus):
    expected = {
        "A100-SXM-40GB", "A100-PCIe-40GB", "A100-SXM-80GB", "A100-PCIe-80GB",
        "H100-SXM", "H100-PCIe", "H100-NVL", "H200-SXM", "L40S", "L4", "A10G", "A10", "T4",
        "V100-SXM-16GB", "V100-SXM-32GB", "V100-PCIe-16GB", "V100-PCIe-32GB",
        "RTX-3060", "RTX-3090", "RTX-4090", "RTX-5090", "RTX-A4000", "RTX-A6000", "RTX-6000-Ada",
        "Jetson-AGX-Orin-64GB", "Jetson-Orin-NX-16GB", "Jetson-AGX-Xavier-32GB",
        "M2-24GB", "M2-Pro-32GB", "M2-Max-96GB", "M2-Ultra-192GB", "M3-Max-96GB", "M3-Max-128GB",
        "M4-Max-36GB", "M4-Max-128GB", "Gaudi2", "Raspberry-Pi-4B-8GB", "Snapdragon-865",
        "Snapdragon-8-Gen-2",
    }
    assert expected <= set(gpus), expected - set(gpus)


def test_each_file_holds_its_category(gpus):
    for name, cats in {"datacenter": {"datacenter"}, "workstation": {"workstation"},
                       "consumer": {"consumer", "apple"}, "edge": {"edge", "mobile", "cpu"}, "cpu": {"cpu"}}.items():
        for g in _load(CATALOG / "hardware" / f"{name}.yaml").gpus:
            assert g.category in cats, f"{g.id} ({g.category}) in {name}.yaml"


def test_exact_names_name_one_card(gpus):
    owner = {}
    for g in gpus.values():
        for n in {g.id, g.name, *g.aliases}:
            key = re.sub(r"[\s_\-]+", "", n.lower())
            assert owner.setdefault(key, g.id) == g.id, f"{n!r} names both {owner[key]} and {g.id}"
    family = {}  # nvidia-smi prints one name for both sizes of some cards (RTX 3080, RTX 4060 Ti): one family only
    for g in gpus.values():
        for n in g.nvidia_smi_names:
            key = re.sub(r"[\s_\-]+", "", n.lower())
            assert owner.get(key, g.id) == g.id, f"{n!r} names {owner[key]} and {g.id}"
            assert family.setdefault(key, g.family) == g.family, f"{n!r} names {family[key]} and {g.family}"


def test_every_entry_is_sourced_and_linked(gpus):
    for g in gpus.values():
        assert g.source and g.interconnect is not None and g.interconnect.source, g.id
        if g.vendor == "nvidia" and g.category in {"datacenter", "workstation", "consumer"}:
            assert g.nvidia_smi_names, f"{g.id} needs its nvidia-smi name"


def test_dtypes_follow_the_architecture(gpus):
    for g in gpus.values():
        cc = float(g.compute_capability) if g.compute_capability else None
        if "fp8" in g.dtypes and g.vendor == "nvidia":
            assert cc is not None and cc >= 8.9, f"{g.id}: fp8 tensor cores need Ada/Hopper/Blackwell"
        if g.fp8_tflops:
            assert "fp8" in g.dtypes, g.id
    for no_bf16 in ("T4", "V100-SXM-16GB", "V100-SXM-32GB", "V100-PCIe-16GB", "V100-PCIe-32GB", "Jetson-AGX-Xavier-32GB"):
        assert "bf16" not in gpus[no_bf16].dtypes and gpus[no_bf16].bf16_tflops is None, no_bf16
    for fp8 in ("H100-SXM", "H100-PCIe", "H100-NVL", "H200-SXM", "L40S", "L4", "RTX-4090", "RTX-5090", "RTX-6000-Ada"):
        assert "fp8" in gpus[fp8].dtypes, fp8
    for ampere in ("A100-SXM-80GB", "A10", "RTX-3090", "RTX-A6000", "Jetson-AGX-Orin-64GB"):
        assert "fp8" not in gpus[ampere].dtypes, ampere


def test_datasheet_figures(gpus):
    assert gpus["RTX-A4000"].bandwidth_gbs == 448  # peers list 768, the A6000's
    assert gpus["RTX-A6000"].bandwidth_gbs == 768
    assert gpus["H100-PCIe"].bandwidth_gbs == 2000
    assert gpus["H100-SXM"].bandwidth_gbs == 3350
    assert gpus["H100-NVL"].memory_gb == 94
    assert gpus["A100-SXM-80GB"].bandwidth_gbs == 2039 and gpus["A100-PCIe-80GB"].bandwidth_gbs == 1935
    assert gpus["V100-PCIe-16GB"].fp16_tflops == 112 and gpus["V100-SXM-16GB"].fp16_tflops == 125
    # GeForce: the fp32-accumulate rate inference kernels use
    assert gpus["RTX-4090"].fp16_tflops == pytest.approx(165.2)
    assert gpus["RTX-3090"].fp16_tflops == 71
    assert gpus["RTX-5090"].compute_capability == "12.0"


def test_links(gpus):
    assert gpus["H100-SXM"].interconnect.kind == "nvlink"
    assert gpus["H100-PCIe"].interconnect.kind == "pcie" and gpus["H100-PCIe"].interconnect.bandwidth_gbs == 64
    assert gpus["A100-PCIe-40GB"].interconnect.bandwidth_gbs == 32
    # per direction: NVLink beats PCIe by an order of magnitude, as marketed (900 vs 64 bidirectional x2)
    assert gpus["H100-SXM"].interconnect.bandwidth_gbs / gpus["H100-PCIe"].interconnect.bandwidth_gbs == pytest.approx(900 / 128)
    for g in gpus.values():
        if g.vendor == "apple" or g.category in {"edge", "mobile"}:
            assert g.unified_memory and g.interconnect.kind == "unified", g.id
        if g.vendor == "apple":
            assert g.usable_memory_fraction == 0.75, g.id


# ---------------------------------------------------------- resolution by name

# Written by hand from what nvidia-smi prints (public nvidia-smi output).
SMI_NAMES = [
    ("NVIDIA H100 80GB HBM3", "H100-SXM"),
    ("NVIDIA H100 PCIe", "H100-PCIe"),
    ("NVIDIA H100 NVL", "H100-NVL"),
    ("NVIDIA H200", "H200-SXM"),
    ("NVIDIA A100-SXM4-40GB", "A100-SXM-40GB"),
    ("NVIDIA A100-PCIE-40GB", "A100-PCIe-40GB"),
    ("NVIDIA A100-SXM4-80GB", "A100-SXM-80GB"),
    ("NVIDIA A100 80GB PCIe", "A100-PCIe-80GB"),
    ("NVIDIA L40S", "L40S"),
    ("NVIDIA L4", "L4"),
    ("NVIDIA A10G", "A10G"),
    ("NVIDIA A10", "A10"),
    ("Tesla T4", "T4"),
    ("Tesla V100-SXM2-16GB", "V100-SXM-16GB"),
    ("Tesla V100-SXM2-32GB", "V100-SXM-32GB"),
    ("Tesla V100-PCIE-16GB", "V100-PCIe-16GB"),
    ("Tesla V100-PCIE-32GB", "V100-PCIe-32GB"),
    ("NVIDIA GeForce RTX 3060", "RTX-3060"),
    ("NVIDIA GeForce RTX 3090", "RTX-3090"),
    ("NVIDIA GeForce RTX 4090", "RTX-4090"),
    ("NVIDIA GeForce RTX 5090", "RTX-5090"),
    ("NVIDIA RTX A4000", "RTX-A4000"),
    ("NVIDIA RTX A6000", "RTX-A6000"),
    ("NVIDIA RTX 6000 Ada Generation", "RTX-6000-Ada"),
    # read from public logs (nvidia-smi -L, PyTorch's collect_env) of these cards
    ("NVIDIA B200", "B200"),
    ("NVIDIA B300 SXM6 AC", "B300"),
    ("NVIDIA GB200", "GB200"),
    ("NVIDIA GB300", "GB300"),
    ("NVIDIA H20", "H20"),
    ("NVIDIA H800", "H800-SXM"),
    ("NVIDIA A800-SXM4-80GB", "A800-SXM-80GB"),
    ("NVIDIA A800 80GB PCIe", "A800-PCIe-80GB"),
    ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "RTX-PRO-6000-Blackwell"),
    ("NVIDIA RTX PRO 6000 Blackwell Server Edition", "RTX-PRO-6000-Blackwell"),
    ("NVIDIA GB10", "DGX-Spark"),
]


@pytest.mark.parametrize("smi_name,gpu_id", SMI_NAMES)
def test_nvidia_smi_names(gpus, smi_name, gpu_id):
    assert resolve_gpu(gpus, smi_name).id == gpu_id
    # as --gpu auto passes it: the detected total in GB (10^9), larger than the marketed GiB figure
    total_gb = gpus[gpu_id].memory_gb * 2**30 * 0.99 / 1e9
    assert resolve_gpu(gpus, smi_name, total_gb) is gpus[gpu_id]


def test_every_listed_smi_name_is_in_the_table(gpus):
    from .test_consumer_hardware import SHARED_SMI, SMI

    listed = {n for g in gpus.values() for n in g.nvidia_smi_names}
    assert listed == {n for n, _ in SMI_NAMES} | {n for n, _ in SMI} | set(SHARED_SMI)


@pytest.mark.parametrize("name", ["H100-PCIe", "H100 PCIe", "h100_pcie", "NVIDIA H100 PCIe", "H100 PCIe 80GB", "h100pcie"])
def test_pcie_is_never_sxm(gpus, name):
    g = resolve_gpu(gpus, name)
    assert (g.id, g.bandwidth_gbs) == ("H100-PCIe", 2000)


@pytest.mark.parametrize("name", ["H100", "H100-SXM", "H100 SXM5", "NVIDIA H100 80GB HBM3", "h100 80gb", "H100SXM"])
def test_sxm_is_never_pcie(gpus, name):
    g = resolve_gpu(gpus, name)
    assert (g.id, g.bandwidth_gbs) == ("H100-SXM", 3350)


def test_h100_alone_is_the_sxm_card(gpus):
    assert resolve_gpu(gpus, "H100").id == "H100-SXM"
    assert resolve_gpu(gpus, "H100", 80).id == "H100-SXM"
    assert resolve_gpu(gpus, "H100", 94).id == "H100-NVL"
    assert resolve_gpu(gpus, "H100 NVL").id == "H100-NVL"


def test_a100_by_memory(gpus):
    assert resolve_gpu(gpus, "A100", 40).id == "A100-SXM-40GB"
    assert resolve_gpu(gpus, "A100", 80).id == "A100-SXM-80GB"
    assert resolve_gpu(gpus, "A100-40GB").id == "A100-SXM-40GB"
    assert resolve_gpu(gpus, "A100 40GB").id == "A100-SXM-40GB"
    assert resolve_gpu(gpus, "a100 80 GB").id == "A100-SXM-80GB"
    assert resolve_gpu(gpus, "A100 PCIe", 40).id == "A100-PCIe-40GB"
    assert resolve_gpu(gpus, "A100-PCIe-80GB").id == "A100-PCIe-80GB"
    assert resolve_gpu(gpus, "A100", 42.9).id == "A100-SXM-40GB"  # 40,960 MiB read as 10^9-byte GB


def test_a100_alone_is_ambiguous(gpus):
    with pytest.raises(InputError, match=r"A100 comes in 40 and 80 GB: give --vram"):
        resolve_gpu(gpus, "A100")
    with pytest.raises(InputError, match=r"16 and 32"):
        resolve_gpu(gpus, "V100")


def test_contradictions_are_errors(gpus):
    with pytest.raises(InputError, match="no NVL"):
        resolve_gpu(gpus, "A100 NVL")
    with pytest.raises(InputError, match="says 40 GB"):
        resolve_gpu(gpus, "A100 40GB", 80)
    with pytest.raises(InputError, match="80 and 94 GB, not 40"):
        resolve_gpu(gpus, "H100", 40)


@pytest.mark.parametrize("name,gpu_id", [
    ("RTX 4090", "RTX-4090"), ("rtx4090", "RTX-4090"), ("4090", "RTX-4090"), ("GeForce RTX 4090", "RTX-4090"),
    ("RTX-4090", "RTX-4090"), ("A4000", "RTX-A4000"), ("RTX A4000", "RTX-A4000"), ("A6000", "RTX-A6000"),
    ("RTX 6000 Ada", "RTX-6000-Ada"), ("A10", "A10"), ("A10G", "A10G"), ("L4", "L4"), ("L40S", "L40S"),
    ("T4", "T4"), ("H200", "H200-SXM"), ("Gaudi2", "Gaudi2"), ("Intel Gaudi 2", "Gaudi2"),
    ("Jetson AGX Orin", "Jetson-AGX-Orin-64GB"), ("Jetson Orin NX", "Jetson-Orin-NX-16GB"),
    ("Jetson AGX Xavier", "Jetson-AGX-Xavier-32GB"), ("Jetson Orin Nano", "Jetson-Orin-Nano-8GB"),
    ("Jetson Orin Nano Super", "Jetson-Orin-Nano-8GB"), ("NVIDIA Jetson Orin Nano 8GB", "Jetson-Orin-Nano-8GB"), ("M2 Ultra", "M2-Ultra-192GB"), ("Apple M2 Max", "M2-Max-96GB"),
    ("M4 Max", None), ("M3 Max 128GB", "M3-Max-128GB"), ("Raspberry Pi 4B", "Raspberry-Pi-4B-8GB"),
    ("树莓派4B", "Raspberry-Pi-4B-8GB"), ("Snapdragon 865", "Snapdragon-865"), ("骁龙8 Gen2", "Snapdragon-8-Gen-2"),
    ("Snapdragon 8 Gen 2", "Snapdragon-8-Gen-2"),
])
def test_names_users_type(gpus, name, gpu_id):
    if gpu_id is None:
        with pytest.raises(InputError, match="36, 48, 64 and 128 GB: give --ram"):
            resolve_gpu(gpus, name)
    else:
        assert resolve_gpu(gpus, name).id == gpu_id


def test_no_substring_matches(gpus):
    assert resolve_gpu(gpus, "A10").id == "A10"  # not A100, not A10G
    with pytest.raises(UnknownNameError):
        resolve_gpu(gpus, "H10")
    with pytest.raises(UnknownNameError):
        resolve_gpu(gpus, "L40")


def test_modded_memory_is_a_noted_copy(gpus):
    g = resolve_gpu(gpus, "RTX 4090", 48)
    assert (g.id, g.memory_gb, g.memory_bytes, g.bandwidth_gbs) == ("RTX-4090", 48, None, 1008)
    assert "memory from --vram" in g.note
    assert gpus["RTX-4090"].memory_gb == 24  # the catalog entry is untouched
    h = resolve_gpu(gpus, "H100-SXM", 40)
    assert h.memory_bytes is None and capacity_bytes(h) < capacity_bytes(gpus["H100-SXM"])


def test_unknown_suggests(gpus):
    with pytest.raises(UnknownNameError) as info:
        resolve_gpu(gpus, "H1OO")
    assert info.value.suggestions and all(s.startswith("H100-") for s in info.value.suggestions)
    assert "did you mean 'H100-SXM'" in str(info.value)
    with pytest.raises(UnknownNameError) as info:
        resolve_gpu(gpus, "RTX 4095")
    assert "RTX 4090" in info.value.suggestions or "RTX-4090" in info.value.suggestions
    with pytest.raises(InputError):
        resolve_gpu(gpus, "  ")


# Names the described-model catalog uses in hardware_advice (tests/test_described_catalog.py).
@pytest.mark.parametrize("name,vram,gpu_id", [
    ("A100-40GB", 40, "A100-SXM-40GB"), ("A100", 40, "A100-SXM-40GB"), ("RTX 3060", None, "RTX-3060"),
    ("RTX 3060", 4, "RTX-3060"), ("RTX A4000", 12, "RTX-A4000"), ("H100", None, "H100-SXM"), ("T4", None, "T4"),
    ("Jetson AGX Xavier", None, "Jetson-AGX-Xavier-32GB"), ("Raspberry Pi 4B", None, "Raspberry-Pi-4B-8GB"),
    ("Snapdragon 865", None, "Snapdragon-865"), ("Snapdragon 8 Gen 2", None, "Snapdragon-8-Gen-2"),
    ("Gaudi2", None, "Gaudi2"), ("RTX A6000", None, "RTX-A6000"), ("V100", 16, "V100-SXM-16GB"),
])
def test_seed_hardware_names(gpus, name, vram, gpu_id):
    g = resolve_gpu(gpus, name, vram)
    assert g.id == gpu_id and (vram is None or g.memory_gb == vram)


# ------------------------------------------------------------------ capacity

def test_capacity(gpus):
    assert capacity_bytes(gpus["H100-SXM"]) == 85_017_493_504
    assert hardware.DRIVER_REPORTED_FRACTION == pytest.approx(0.9897, abs=1e-4)
    assert capacity_bytes(gpus["A100-SXM-40GB"]) == int(40 * 2**30 * hardware.DRIVER_REPORTED_FRACTION)
    assert capacity_bytes(gpus["H100-PCIe"]) == pytest.approx(85_017_493_504, rel=1e-9)
    assert capacity_bytes(gpus["M2-Ultra-192GB"]) == int(192 * 2**30 * 0.75)


def test_custom_gpu():
    g = custom_gpu(24)
    assert g.memory_gb == 24 and g.memory_bytes is None and g.source.startswith("user --vram; other figures assumed")
    assert g.bandwidth_gbs == hardware.CUSTOM_BANDWIDTH_GBS and "fp8" not in g.dtypes
    assert capacity_bytes(g) == int(24 * 2**30 * hardware.DRIVER_REPORTED_FRACTION)
    fast = custom_gpu(48, bandwidth_gbs=900, fp16_tflops=150, name="my card")
    assert (fast.bandwidth_gbs, fast.bf16_tflops, fast.name) == (900, 150, "my card")
    assert "bandwidth" not in fast.source
    assert custom_gpu(23.5).id == "custom-23.5GB"
    with pytest.raises(InputError):
        custom_gpu(0)


# ------------------------------------------------------------------ detection

def test_parse_nvidia_smi_csv():
    text = "NVIDIA H100 80GB HBM3, 81559, 80977\nNVIDIA GeForce RTX 4090, 24564, 23012\n"
    assert parse_nvidia_smi_csv(text) == [
        DetectedGpu("NVIDIA H100 80GB HBM3", 81559, 80977),
        DetectedGpu("NVIDIA GeForce RTX 4090", 24564, 23012),
    ]
    noisy = "name, memory.total [MiB], memory.free [MiB]\nTesla T4, 15360 MiB, 15101 MiB\n\nOrin (nvgpu), [N/A], [N/A]\n"
    assert parse_nvidia_smi_csv(noisy) == [DetectedGpu("Tesla T4", 15360, 15101)]
    assert parse_nvidia_smi_csv("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.") == []


def test_detect_without_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails as if not installed
    monkeypatch.setattr(hardware.shutil, "which", lambda exe: None)
    assert detect_gpus() == []


def test_detect_through_nvidia_smi(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)
    monkeypatch.setattr(hardware.shutil, "which", lambda exe: "/usr/bin/nvidia-smi")
    calls = []

    def fake_run(cmd, **kw):
        calls.append((cmd, kw))
        return subprocess.CompletedProcess(cmd, 0, stdout="NVIDIA H100 80GB HBM3, 81559, 81000\n", stderr="")

    monkeypatch.setattr(hardware.subprocess, "run", fake_run)
    assert detect_gpus() == [DetectedGpu("NVIDIA H100 80GB HBM3", 81559, 81000)]
    assert calls[0][1]["timeout"] == 5

    def failing_run(cmd, **kw):
        raise subprocess.TimeoutExpired(cmd, 5)

    monkeypatch.setattr(hardware.subprocess, "run", failing_run)
    assert detect_gpus() == []



@pytest.mark.parametrize("printed,exit_code,said", [
    (b"\xff\xfe NVIDIA H100 80GB HBM3, 81559, 81000\n", 3, "unknown GPU '\ufffd\ufffd NVIDIA H100 80GB HBM3'"),
    (b"NVIDIA H100 80GB HBM3, inf, inf\n", 5, "found no GPU"), (b"NVIDIA H100 80GB HBM3, 0, 0\n", 5, "found no GPU"),
    (b"NVIDIA H100 80GB HBM3, -5, -5\n", 5, "found no GPU"), (b"NVIDIA H100 80GB HBM3, 1e20, 5\n", 5, "found no GPU"),
], ids=["not-utf8", "inf", "zero", "negative", "huge"])
def test_an_nvidia_smi_that_prints_nonsense_is_no_gpu(tmp_path, printed, exit_code, said):
    """A fake nvidia-smi printing bytes that are not UTF-8 gave a 58-line UnicodeDecodeError traceback, and one
    printing 'inf' an OverflowError one; a 0, negative or absurd size was passed on as if typed and answered
    "--vram must be between 0.001 and 100000, not 0" (no --vram given). Rows that cannot be a GPU are skipped, as
    '[N/A]' rows are: no GPU found, exit 5, one line. Undecodable bytes are shown replaced (an unknown GPU, exit 3)."""
    fake = tmp_path / "nvidia-smi"
    fake.write_bytes(b"#!/bin/sh\nprintf '" + b"".join(b"\\%03o" % c for c in printed) + b"'\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    code = "import sys; sys.modules['pynvml'] = None; from dsadvisor.cli import main; main(sys.argv[1:])"
    r = subprocess.run([sys.executable, "-c", code, "estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "auto"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == exit_code and r.stdout == "" and r.stderr.count("\n") == 1, r.stderr[-600:]
    assert said in r.stderr


# ------------------------------------------------------------------ quantization formats

# llama.cpp quantize README and the AWQ paper: bf16/fp16 2 bytes; fp8 1; int8 ~1.0-1.06 with scales; GGUF Q8_0 8.5, Q6_K 6.59,
# Q5_K_M 5.69, Q4_K_M 4.89, Q4_0 4.55, Q3_K_M 3.66, Q2_K 2.63; GPTQ/AWQ group 128 ~4.25 bits.
# KV: fp8 halves bf16; llama.cpp q8_0 / q4_0 cache types 8.5 / 4.5 bits. Seed schemes: 4-bit, assumed 4.25.
BITS = {
    "bf16": 16, "fp16": 16, "fp8": 8, "fp8-fp4experts": 8, "int4-experts": 16, "fp8-marlin": 8, "int8": (8.0, 8.5), "int8-wo": (8.0, 8.5),
    "awq-int4": 4.25, "gptq-int4": 4.25,
    "q8_0": 8.5, "q6_k": 6.59, "q5_k_m": 5.69, "q4_k_m": 4.89, "q4_0": 4.55, "q3_k_m": 3.66, "q2_k": 2.63,
    "nvfp4": 4.5, "dynamic-4bit": 4.25, "qat-w4a8": 4.25,
    # Unsloth's dynamic GGUFs: DeepSeek-R1's file bits (llama.cpp prints "1.67 BPW" for UD-IQ1_S)
    "ud-iq1_s": 1.67, "ud-iq1_m": 1.94, "ud-iq2_xxs": 2.34, "ud-q2_k_xl": 2.70,
    # llama.cpp's quantize README (Llama-3.1-8B), Q5_0 / Q4_1 computed from their mix (run 12)
    "q5_k_s": 5.57, "q4_k_s": 4.67, "q3_k_l": 4.30, "q3_k_s": 3.64, "iq4_xs": 4.46, "iq4_nl": 4.68, "iq3_m": 3.76,
    "iq3_xxs": 3.25, "iq2_m": 2.93, "q5_0": 5.57, "q4_1": 5.1,
    "fp8-kv": 8, "q8_0-kv": 8.5, "q4_0-kv": 4.5,
}


def test_every_format_has_an_expected_size(quants):
    assert set(quants) == set(BITS)


@pytest.mark.parametrize("quant_id", sorted(BITS))
def test_bits_per_weight(quants, quant_id):
    expected, bits = BITS[quant_id], quants[quant_id].bits_per_weight
    if isinstance(expected, tuple):
        assert expected[0] <= bits <= expected[1]
    else:
        assert bits == pytest.approx(expected)


def test_int4_experts_are_kimis_group_of_32(quants):
    """4-bit integers with one 16-bit scale per 32 (Kimi-K2.5's quantization_config group_size 32) on the routed
    experts only; the rest of the checkpoint stays 16-bit."""
    q = quants["int4-experts"]
    assert q.expert_bits_per_weight == 4 + 16 / 32 and q.bits_per_weight == 16 and q.compute_dtype == "bf16"


def test_quality_losses_are_sourced(quants):
    for q in quants.values():
        for loss in q.quality_loss:
            assert loss.source and loss.note, q.id
    seeds = {loss.source for loss in quants["int8"].quality_loss}
    assert {S000, S002, S004} <= seeds
    assert {loss.percent for loss in quants["dynamic-4bit"].quality_loss} == {1.3, 15}
    assert "ImageNet" in quants["qat-w4a8"].quality_loss[0].note
    for gguf in ("q6_k", "q5_k_m", "q4_k_m", "q4_0", "q3_k_m", "q2_k"):
        assert len({loss.source for loss in quants[gguf].quality_loss}) >= 2, gguf


def test_fast_paths(quants):
    assert quants["fp8"].needs_dtypes == ["fp8"] and quants["fp8"].compute_dtype == "fp8"
    assert not quants["fp8"].weight_only
    assert quants["int8"].compute_dtype == "int8" and quants["int8"].needs_dtypes == ["int8"]
    for weight_only in ("awq-int4", "gptq-int4", "fp8-marlin", "int8-wo"):
        assert quants[weight_only].weight_only and quants[weight_only].compute_dtype == "bf16"
    for four_bit in ("awq-int4", "gptq-int4"):
        assert set(quants[four_bit].kept_16bit) == {"embeddings", "lm_head"}


# ------------------------------------------------------------------ engines

def test_engine_formats_exist(quants, engines):
    for e in engines.values():
        for f in e.formats:
            assert f in quants and "weights" in quants[f].applies_to, f"{e.id}: format {f}"
        for k in e.kv_dtypes:
            assert k in quants and "kv_cache" in quants[k].applies_to, f"{e.id}: kv dtype {k}"


def test_format_engines_exist_and_agree(quants, engines):
    for q in quants.values():
        for e in q.engines:
            assert e in engines, f"{q.id}: engine {e}"
            listed = engines[e].formats if "weights" in q.applies_to else []
            listed = listed + (engines[e].kv_dtypes if "kv_cache" in q.applies_to else [])
            assert q.id in listed, f"{q.id} says {e} runs it; {e} does not list it"
    for e in engines.values():
        for f in e.formats + e.kv_dtypes:
            assert e.id in quants[f].engines, f"{e.id} lists {f}; {f} does not name {e.id}"


def test_names_are_unique_when_loosened(quants, engines):
    def loose(s):
        return re.sub(r"[\s_.\-/]", "", s.strip().lower())

    for table in (quants, engines):
        owner = {}
        for item in table.values():
            for n in {item.id, item.name, *item.aliases}:
                assert owner.setdefault(loose(n), item.id) == item.id, f"{n!r}: {owner[loose(n)]} and {item.id}"


def test_engine_memory_policies(engines):
    assert set(engines) == {"vllm", "sglang", "tensorrt-llm", "llama.cpp", "transformers", "ollama"}
    assert (engines["vllm"].memory.policy, engines["vllm"].memory.default_fraction) == ("fraction_of_total", 0.9)
    assert engines["tensorrt-llm"].memory.policy == "fraction_of_free"
    assert engines["llama.cpp"].memory.policy == engines["transformers"].memory.policy == "on_demand"
    assert engines["ollama"].memory.policy == "on_demand"  # ggml, as llama.cpp
    assert engines["transformers"].memory.kv_duplicated_during_decode
    assert not engines["transformers"].memory.decompressed_mla_cache  # latent cached: measured, V2-Lite on H100
    for e in engines.values():
        assert "mla" in e.attention and e.memory.source and e.speed.source
    assert engines["transformers"].speed.per_layer_decode_s > 10 * engines["vllm"].speed.per_layer_decode_s


# ------------------------------------------------- devices of issue 11, by the names people type

@pytest.mark.parametrize("name,ram,gpu_id", [
    ("B200", None, "B200"), ("NVIDIA B200", None, "B200"), ("HGX B200", None, "B200"),
    ("B300", None, "B300"), ("Blackwell Ultra", None, "B300"), ("GB200", None, "GB200"), ("GB200 NVL72", None, "GB200"),
    ("GB300", None, "GB300"), ("GB300 NVL72", None, "GB300"), ("NVIDIA GB300", None, "GB300"),
    ("MI300X", None, "MI300X"), ("AMD Instinct MI300X", None, "MI300X"), ("mi325x", None, "MI325X"),
    ("AMD MI355X", None, "MI355X"), ("H20", None, "H20"), ("H800", None, "H800-SXM"), ("H800 SXM", None, "H800-SXM"),
    ("A800", 80, "A800-SXM-80GB"), ("A800 PCIe", None, "A800-PCIe-80GB"),
    ("RTX PRO 6000", None, "RTX-PRO-6000-Blackwell"), ("RTX PRO 6000 Blackwell", None, "RTX-PRO-6000-Blackwell"),
    ("DGX Spark", None, "DGX-Spark"), ("GB10", None, "DGX-Spark"),
    ("Ryzen AI Max+ 395", None, "Ryzen-AI-Max-395-128GB"), ("Strix Halo", None, "Ryzen-AI-Max-395-128GB"),
    ("Apple M4 Max", 36, "M4-Max-36GB"), ("Apple M4 Max", 48, "M4-Max-48GB"), ("Apple M4 Max", 64, "M4-Max-64GB"),
    ("M4 Max", 128, "M4-Max-128GB"), ("Apple M4", 16, "M4-16GB"), ("M4", 24, "M4-24GB"), ("Apple M4", 32, "M4-32GB"),
    ("Apple M4 Pro", 24, "M4-Pro-24GB"), ("M4 Pro", 48, "M4-Pro-48GB"), ("M4 Pro", 64, "M4-Pro-64GB"),
    ("Apple M3 Ultra", 96, "M3-Ultra-96GB"), ("M3 Ultra", 256, "M3-Ultra-256GB"), ("M3 Ultra", 512, "M3-Ultra-512GB"),
    ("EPYC 9654", None, "EPYC-9654"), ("AMD EPYC 9654", None, "EPYC-9654"),
    ("Intel Xeon Platinum 8480+", None, "Xeon-Platinum-8480"), ("Xeon 8480+", None, "Xeon-Platinum-8480"),
    ("cpu", None, "CPU"), ("CPU only", None, "CPU"),
])
def test_new_devices_by_the_names_people_type(gpus, name, ram, gpu_id):
    assert resolve_gpu(gpus, name, ram).id == gpu_id


def test_every_memory_size_apple_sells_is_an_entry(gpus):
    sizes = {f: sorted(g.memory_gb for g in gpus.values() if g.family == f) for f in ("M5", "M4", "M4 Pro", "M4 Max", "M3 Ultra")}
    assert sizes == {"M5": [16, 24, 32], "M4": [16, 24, 32], "M4 Pro": [24, 48, 64], "M4 Max": [36, 48, 64, 128], "M3 Ultra": [96, 256, 512]}
    assert gpus["M4-Max-36GB"].bandwidth_gbs == 410 and gpus["M4-Max-64GB"].bandwidth_gbs == 546  # binned part
    for name in ("M4", "M4 Pro", "M3 Ultra"):
        with pytest.raises(InputError, match="give --ram"):
            resolve_gpu(gpus, name)


def test_cpu_and_a_ram_size_is_a_copy_of_that_size(gpus):
    cpu = resolve_gpu(gpus, "cpu", 64)
    assert (cpu.memory_gb, cpu.category, cpu.unified_memory) == (64, "cpu", True)
    assert resolve_gpu(gpus, "EPYC 9654", 384).memory_gb == 384
    assert resolve_gpu(gpus, "Ryzen AI Max+ 395", 64).memory_gb == 64


def test_new_datasheet_figures_match_their_sources(gpus):
    """Spot checks against the figure each entry's source gives (dense rates: sparse / 2)."""
    b200, gb200, b300 = gpus["B200"], gpus["GB200"], gpus["B300"]
    assert (b200.memory_gb, b200.bandwidth_gbs, b200.fp8_tflops, b200.fp4_tflops, b200.tdp_w) == (180, 8000, 4500, 9000, 1000)
    assert b200.fp4_tflops * 8 * 2 == 144_000  # HGX B200: 144 PF fp4 with sparsity over 8 GPUs
    assert (gb200.memory_gb, gb200.bf16_tflops, gb200.fp4_tflops) == (186, 2500, 10000)
    assert gb200.memory_gb * 72 == pytest.approx(13_400, rel=0.01)  # NVL72: 13.4 TB over 72 GPUs
    assert (b300.memory_gb, b300.fp4_tflops, b300.int8_tops) == (288, 13125, None)  # sources disagree on int8
    assert b300.fp4_tflops * 8 == 105_000  # HGX B300: 105 PF fp4 dense
    gb300 = gpus["GB300"]  # GB300 NVL72 rack figures over 72 GPUs, sparse rates halved
    assert gb300.memory_gb * 72 == pytest.approx(20_000, rel=0.01)  # 20 TB HBM3e
    assert gb300.bandwidth_gbs * 72 == pytest.approx(576_000, rel=0.01)  # 576 TB/s
    assert (gb300.bf16_tflops * 72 * 2, gb300.fp8_tflops * 72 * 2) == (360_000, 720_000)  # 360 / 720 PF sparse
    assert gb300.fp4_tflops * 72 == 1_080_000 and gb300.fp4_tflops == 15_000  # 1,080 PF dense; 15 PF NVFP4 a GPU
    assert (gb300.tdp_w, gb300.int8_tops, gb300.compute_capability) == (1400, None, b300.compute_capability)
    assert gb300.interconnect.bandwidth_gbs * 2 * 72 == pytest.approx(130_000, rel=0.01)  # NVLink 130 TB/s
    assert 284_208 * 2**20 / 2**30 == pytest.approx(gb300.memory_gb, abs=1)  # nvidia-smi's MiB, in GiB
    mi300x, mi325x, mi355x = gpus["MI300X"], gpus["MI325X"], gpus["MI355X"]
    assert (mi300x.memory_gb, mi300x.bandwidth_gbs, mi300x.bf16_tflops, mi300x.gfx_arch) == (192, 5300, 1307.4, "gfx942")
    assert (mi325x.memory_gb, mi325x.bandwidth_gbs, mi325x.tdp_w) == (256, 6000, 1000)
    assert mi355x.fp8_tflops == pytest.approx(256 * 2.4e9 * 8192 / 1e12, rel=1e-3)  # 256 CUs x 2.4 GHz x 8,192
    assert (mi355x.memory_gb, mi355x.gfx_arch, mi355x.tdp_w) == (288, "gfx950", 1400)
    h20, h800, a800 = gpus["H20"], gpus["H800-SXM"], gpus["A800-SXM-80GB"]
    assert (h20.memory_gb, h20.bandwidth_gbs, h20.bf16_tflops, h20.fp8_tflops, h20.tdp_w) == (96, 4000, 148, 296, 400)
    assert h800.bf16_tflops == gpus["H100-SXM"].bf16_tflops and h800.interconnect.bandwidth_gbs * 2 == 400
    assert a800.bandwidth_gbs == gpus["A100-SXM-80GB"].bandwidth_gbs and a800.interconnect.bandwidth_gbs * 2 == 400
    pro, spark, r5090 = gpus["RTX-PRO-6000-Blackwell"], gpus["DGX-Spark"], gpus["RTX-5090"]
    assert (pro.memory_gb, pro.bandwidth_gbs, pro.fp4_tflops * 2, pro.tdp_w) == (96, 1792, pytest.approx(4000, rel=0.01), 600)
    assert (spark.memory_gb, spark.bandwidth_gbs, spark.fp4_tflops * 2, spark.compute_capability) == (128, 273, 1000, "12.1")
    assert (r5090.fp8_tflops, r5090.fp4_tflops * 2, r5090.tdp_w) == (419, 3352, 575)  # 3,352 AI TOPS with sparsity
    strix = gpus["Ryzen-AI-Max-395-128GB"]
    assert (strix.bandwidth_gbs, strix.gfx_arch) == (256, "gfx1151") and strix.bandwidth_gbs == 256 * 8000 / 8 / 1000
    assert gpus["M3-Ultra-512GB"].bandwidth_gbs == 819 and gpus["M4-Pro-48GB"].bandwidth_gbs == 273
    assert gpus["M4-16GB"].bandwidth_gbs == 120


def test_cpu_bandwidth_is_channels_times_speed(gpus):
    assert gpus["EPYC-9654"].bandwidth_gbs == 12 * 4800 * 8 / 1000  # 12 x DDR5-4800
    assert gpus["Xeon-Platinum-8480"].bandwidth_gbs == 8 * 4800 * 8 / 1000  # 8 x DDR5-4800
    assert gpus["CPU"].bandwidth_gbs == 2 * 4800 * 8 / 1000  # dual-channel DDR5-4800, assumed
    assert "amx" in gpus["Xeon-Platinum-8480"].cpu_isa and "amx" not in gpus["EPYC-9654"].cpu_isa
    for g in gpus.values():
        if g.category == "cpu" and g.id != "Raspberry-Pi-4B-8GB":
            # decode on a CPU reaches about 0.56 of peak (llama.cpp, 12-channel EPYC): not a GPU's 0.9
            assert g.bandwidth_efficiency == 0.56 and g.unified_memory, g.id


def test_every_device_has_a_compute_rate(gpus):
    """TTFT is never unknown for want of a rate: every device has a 16-bit figure (Apple and Jetson too)."""
    missing = [g.id for g in gpus.values() if not (g.bf16_tflops or g.fp16_tflops)]
    assert not missing
    for g in gpus.values():
        if g.fp4_tflops:
            assert "fp4" in g.dtypes and g.fp4_tflops >= (g.fp8_tflops or 0), g.id


def test_device_count(gpus):
    """The catalog's devices, counted: the 39 of the reference table, the ones issue 11 names, the review's."""
    issue11 = {"B200", "B300", "GB200", "MI300X", "MI325X", "MI355X", "H20", "H800-SXM", "A800-SXM-80GB",
               "A800-PCIe-80GB", "RTX-PRO-6000-Blackwell", "DGX-Spark", "Ryzen-AI-Max-395-128GB",
               "M4-16GB", "M4-24GB", "M4-32GB", "M4-Pro-24GB", "M4-Pro-48GB", "M4-Pro-64GB", "M4-Max-48GB",
               "M4-Max-64GB", "M3-Ultra-96GB", "M3-Ultra-256GB", "M3-Ultra-512GB", "CPU", "EPYC-9654",
               "Xeon-Platinum-8480"}
    assert issue11 <= set(gpus), issue11 - set(gpus)
    # the review of 2026-12-03: every M3 Max size, and the Jetson Orin Nano (Super) developer kit
    review = {"M3-Max-36GB", "M3-Max-48GB", "M3-Max-64GB", "Jetson-Orin-Nano-8GB"}
    assert review <= set(gpus)
    # the GeForce cards and Apple chips people own (tests/test_consumer_hardware.py)
    from .test_consumer_hardware import APPLE, GEFORCE

    assert set(GEFORCE) | set(APPLE) <= set(gpus)
    # the Radeon cards (tests/test_amd_targets.py)
    from .test_amd_targets import RADEON

    assert set(RADEON) <= set(gpus)
    issue13 = {"GB300"}  # what a 2026 buyer asks about (issue 13's served runs on it)
    assert issue13 <= set(gpus)
    assert len(gpus) == 39 + len(issue11) + len(review) + len(issue13) + len(GEFORCE) + len(APPLE) + len(RADEON) == 103


def test_board_power_as_the_datasheets_give_it(gpus):
    assert (gpus["H100-SXM"].tdp_w, gpus["H100-PCIe"].tdp_w, gpus["L4"].tdp_w, gpus["T4"].tdp_w) == (700, 350, 72, 70)
    assert (gpus["RTX-4090"].tdp_w, gpus["MI300X"].tdp_w, gpus["B200"].tdp_w, gpus["EPYC-9654"].tdp_w) == (450, 750, 1000, 360)
    missing = [g.id for g in gpus.values() if g.category in ("datacenter", "workstation", "cpu") and g.tdp_w is None
               and g.id not in ("A10G", "CPU", "Raspberry-Pi-4B-8GB")]  # AWS publishes no A10G power; the CPU is generic
    assert not missing


def test_jetson_orin_nano_rates_follow_the_agx_orins(gpus):
    """The Orin Nano (Super): 32 of the AGX Orin's 64 tensor cores at 1.02 GHz instead of 1.3, so its 67 sparse
    int8 TOPS (NVIDIA's figure) is the AGX Orin's 170 scaled, and the dense fp16 rate half the dense int8."""
    nano, agx = gpus["Jetson-Orin-Nano-8GB"], gpus["Jetson-AGX-Orin-64GB"]
    assert 2 * agx.int8_tops * (32 / 64) * (1.02 / 1.3) == pytest.approx(2 * nano.int8_tops, rel=0.01)
    assert nano.fp16_tflops == pytest.approx(nano.int8_tops / 2, rel=0.01)
    assert (nano.memory_gb, nano.bandwidth_gbs, nano.unified_memory) == (8, 102, True)
