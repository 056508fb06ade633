"""The GeForce cards and Apple chips people own (catalog/hardware/consumer.yaml), against their datasheets.

Every figure below was typed from the source the entry cites, not from the YAML: NVIDIA's product pages
(memory, bandwidth, CUDA cores, boost clock, board power) and comparison page (AI TOPS), the Turing,
GA102, Ada and RTX Blackwell whitepapers (per-SM tensor rates; the cards their appendices list), Apple's
newsroom pages (memory, bandwidth, GPU cores) and hmc-tech's GPU clocks.
"""

from __future__ import annotations

import pytest

from dsadvisor.catalog.hardware import resolve_gpu
from dsadvisor.errors import InputError

from .test_hardware import gpus  # noqa: F401  (the module-scoped catalog fixture)

# GeForce tensor math per SM per clock, dense (whitepapers): fp16 with fp32 accumulate 512 FLOP on GeForce
# (half the fp16-accumulate rate), with fp16 accumulate 1,024, int8 2,048; fp8 (Ada, Blackwell) 1,024; fp4
# (Blackwell) 4,096. NVIDIA's "AI TOPS" is, per generation, this multiple of the fp32-accumulate fp16 rate:
# Ampere int8 dense (RTX 3090: 285 = 4 x 71), Ada fp8 with sparsity (RTX 4090: 1,321 = 8 x 165.2),
# Blackwell fp4 with sparsity (RTX 5090: 3,352 = 16 x 209.5).
AI_TOPS_PER_FP16 = {"7.5": None, "8.6": 4, "8.9": 8, "12.0": 16}

# id: (GB, GB/s, CUDA cores, boost MHz, W, AI TOPS or None, compute capability, PCIe GB/s per direction)
GEFORCE = {
    "RTX-2080-Ti": (11, 616, 4352, 1545, 250, None, "7.5", 16),
    "RTX-3060-Ti": (8, 448, 4864, 1665, 200, 130, "8.6", 32),
    "RTX-3070": (8, 448, 5888, 1725, 220, 163, "8.6", 32),
    "RTX-3080-10GB": (10, 760, 8704, 1710, 320, 238, "8.6", 32),
    "RTX-3080-12GB": (12, 912, 8960, 1710, 350, None, "8.6", 32),
    "RTX-3080-Ti": (12, 912, 10240, 1665, 350, 273, "8.6", 32),
    "RTX-3090-Ti": (24, 1008, 10752, 1860, 450, 320, "8.6", 32),
    "RTX-4060": (8, 272, 3072, 2460, 115, 242, "8.9", 16),
    "RTX-4060-Ti-8GB": (8, 288, 4352, 2535, 160, 353, "8.9", 16),
    "RTX-4060-Ti-16GB": (16, 288, 4352, 2535, 165, 353, "8.9", 16),
    "RTX-4070": (12, 504, 5888, 2475, 200, 466, "8.9", 32),
    "RTX-4070-Super": (12, 504, 7168, 2475, 220, 568, "8.9", 32),
    "RTX-4070-Ti": (12, 504, 7680, 2610, 285, 641, "8.9", 32),
    "RTX-4070-Ti-Super": (16, 672, 8448, 2610, 285, 706, "8.9", 32),
    "RTX-4080": (16, 716.8, 9728, 2505, 320, 780, "8.9", 32),
    "RTX-4080-Super": (16, 736, 10240, 2550, 320, 836, "8.9", 32),
    "RTX-5060-Ti-16GB": (16, 448, 4608, 2572, 180, 759, "12.0", 32),
    "RTX-5070": (12, 672, 6144, 2512, 250, 988, "12.0", 64),
    "RTX-5070-Ti": (16, 896, 8960, 2452, 300, 1406, "12.0", 64),
    "RTX-5080": (16, 960, 10752, 2617, 360, 1801, "12.0", 64),
}

# Rates the whitepapers print for a card (dense, TFLOPS): fp32-accumulate fp16, fp16-accumulate fp16.
WHITEPAPER = {
    "RTX-2080-Ti": (53.8, 107.6),  # Turing, reference board
    "RTX-3070": (40.6, 81.3),  # GA102 whitepaper appendix (GA104)
    "RTX-3080-10GB": (59.5, 119),  # GA102 whitepaper appendix
    "RTX-4080": (97.5, 194.9),  # Ada whitepaper appendix, RTX 4080 16GB
    "RTX-4070-Ti": (80.2, 160.4),  # Ada whitepaper appendix, "RTX 4080 12GB" (the same configuration)
}

# id: (GB, GB/s, GPU cores, GPU clock GHz)
APPLE = {
    "M1-16GB": (16, 68.25, 8, 1.278),
    "M1-Pro-32GB": (32, 200, 16, 1.278),
    "M1-Max-64GB": (64, 400, 32, 1.278),
    "M1-Ultra-128GB": (128, 800, 64, 1.278),
    "M3-24GB": (24, 100, 10, 1.398),
    "M3-Pro-36GB": (36, 150, 18, 1.398),
    "M5-16GB": (16, 153, 10, 1.74),
    "M5-24GB": (24, 153, 10, 1.74),
    "M5-32GB": (32, 153, 10, 1.74),
}


@pytest.mark.parametrize("gpu_id", sorted(GEFORCE))
def test_geforce_figures_match_the_datasheets(gpus, gpu_id):
    gb, bw, cores, mhz, watts, ai_tops, cc, link = GEFORCE[gpu_id]
    g = gpus[gpu_id]
    assert (g.memory_gb, g.bandwidth_gbs, g.tdp_w, g.compute_capability) == (gb, bw, watts, cc)
    assert g.sm_count * (64 if cc == "7.5" else 128) == cores and g.interconnect.bandwidth_gbs == link  # CUDA cores per SM
    per_sm_clock = g.sm_count * mhz * 1e6 / 1e12
    assert g.fp16_tflops == pytest.approx(512 * per_sm_clock, abs=0.06)
    assert g.fp16_acc16_tflops == pytest.approx(1024 * per_sm_clock, abs=0.06)
    assert g.int8_tops == pytest.approx(2048 * per_sm_clock, abs=0.06)
    if ai_tops is not None:  # NVIDIA's marketed figure, rounded to whole TOPS
        assert g.fp16_tflops * AI_TOPS_PER_FP16[cc] == pytest.approx(ai_tops, abs=1)
    if gpu_id in WHITEPAPER:
        assert (g.fp16_tflops, g.fp16_acc16_tflops) == pytest.approx(WHITEPAPER[gpu_id], abs=0.15)
    ada_or_later = cc in ("8.9", "12.0")
    assert ("fp8" in g.dtypes) == ada_or_later and ("fp4" in g.dtypes) == (cc == "12.0")
    assert ("bf16" in g.dtypes) == (cc != "7.5")  # Turing has no bf16 tensor math
    if ada_or_later:
        assert g.fp8_tflops == g.fp16_acc16_tflops
    if cc == "12.0":
        assert g.fp4_tflops == pytest.approx(4096 * per_sm_clock, abs=0.06)


@pytest.mark.parametrize("gpu_id", sorted(APPLE))
def test_apple_figures_match_the_tech_specs(gpus, gpu_id):
    gb, bw, cores, ghz = APPLE[gpu_id]
    g = gpus[gpu_id]
    assert (g.memory_gb, g.bandwidth_gbs, g.interconnect.bandwidth_gbs) == (gb, bw, bw)
    assert g.fp16_tflops == pytest.approx(cores * 128 * 2 * ghz / 1000, abs=0.006)
    assert (g.unified_memory, g.usable_memory_fraction, g.category) == (True, 0.75, "apple")


def test_apple_announced_rates_agree():
    """Apple's own M1 figures (2.6 TFLOPS M1; 5.2 M1 Pro, 10.4 M1 Max) follow from the cores x clock method."""
    assert 8 * 256 * 1.278 / 1000 == pytest.approx(2.6, rel=0.01)
    assert 32 * 256 * 1.278 / 1000 == pytest.approx(10.4, rel=0.01)


# (what nvidia-smi prints, the entry) for names only one entry carries
SMI = [
    ("NVIDIA GeForce RTX 2080 Ti", "RTX-2080-Ti"), ("GeForce RTX 2080 Ti", "RTX-2080-Ti"),
    ("NVIDIA GeForce RTX 3060 Ti", "RTX-3060-Ti"), ("NVIDIA GeForce RTX 3070", "RTX-3070"),
    ("NVIDIA GeForce RTX 3080 Ti", "RTX-3080-Ti"), ("NVIDIA GeForce RTX 3090 Ti", "RTX-3090-Ti"),
    ("NVIDIA GeForce RTX 4060", "RTX-4060"), ("NVIDIA GeForce RTX 4070", "RTX-4070"),
    ("NVIDIA GeForce RTX 4070 SUPER", "RTX-4070-Super"), ("NVIDIA GeForce RTX 4070 Ti", "RTX-4070-Ti"),
    ("NVIDIA GeForce RTX 4070 Ti SUPER", "RTX-4070-Ti-Super"), ("NVIDIA GeForce RTX 4080", "RTX-4080"),
    ("NVIDIA GeForce RTX 4080 SUPER", "RTX-4080-Super"), ("NVIDIA GeForce RTX 5060 Ti", "RTX-5060-Ti-16GB"),
    ("NVIDIA GeForce RTX 5070", "RTX-5070"), ("NVIDIA GeForce RTX 5070 Ti", "RTX-5070-Ti"),
    ("NVIDIA GeForce RTX 5080", "RTX-5080"),
]
# names nvidia-smi prints for two sizes of one card: the memory decides
SHARED_SMI = {"NVIDIA GeForce RTX 3080": ("RTX-3080-10GB", "RTX-3080-12GB"),
              "NVIDIA GeForce RTX 4060 Ti": ("RTX-4060-Ti-8GB", "RTX-4060-Ti-16GB")}


@pytest.mark.parametrize("smi_name,gpu_id", SMI)
def test_by_nvidia_smi_name(gpus, smi_name, gpu_id):
    assert resolve_gpu(gpus, smi_name).id == gpu_id
    total_gb = gpus[gpu_id].memory_gb * 2**30 * 0.99 / 1e9  # as --gpu auto passes the detected total
    assert resolve_gpu(gpus, smi_name, total_gb).id == gpu_id


@pytest.mark.parametrize("smi_name", sorted(SHARED_SMI))
def test_a_shared_nvidia_smi_name_is_sized_by_memory(gpus, smi_name):
    for gpu_id in SHARED_SMI[smi_name]:
        assert smi_name in gpus[gpu_id].nvidia_smi_names
        total_gb = gpus[gpu_id].memory_gb * 2**30 * 0.99 / 1e9
        assert resolve_gpu(gpus, smi_name, total_gb).id == gpu_id
    with pytest.raises(InputError, match="give --vram"):
        resolve_gpu(gpus, smi_name)


@pytest.mark.parametrize("name,size,gpu_id", [
    ("RTX 4070", None, "RTX-4070"), ("4070", None, "RTX-4070"), ("RTX4070", None, "RTX-4070"),
    ("GeForce RTX 4070", 12, "RTX-4070"), ("4070 Super", None, "RTX-4070-Super"), ("4070S", None, "RTX-4070-Super"),
    ("RTX 4070 Ti", None, "RTX-4070-Ti"), ("4070ti", None, "RTX-4070-Ti"), ("RTX 4070 Ti Super", None, "RTX-4070-Ti-Super"),
    ("4070 Ti Super", None, "RTX-4070-Ti-Super"), ("RTX 4080", None, "RTX-4080"), ("4080 Super", None, "RTX-4080-Super"),
    ("4080S", None, "RTX-4080-Super"), ("RTX 4060", None, "RTX-4060"), ("RTX 4060 Ti", 8, "RTX-4060-Ti-8GB"),
    ("RTX 4060 Ti", 16, "RTX-4060-Ti-16GB"), ("4060 Ti 16GB", None, "RTX-4060-Ti-16GB"), ("RTX 3080", 10, "RTX-3080-10GB"),
    ("RTX 3080 12GB", None, "RTX-3080-12GB"), ("3080 Ti", None, "RTX-3080-Ti"), ("RTX 3090 Ti", None, "RTX-3090-Ti"),
    ("3070", None, "RTX-3070"), ("3060 Ti", None, "RTX-3060-Ti"), ("RTX 3060", None, "RTX-3060"),
    ("2080 Ti", None, "RTX-2080-Ti"), ("RTX 5060 Ti", None, "RTX-5060-Ti-16GB"), ("5070", None, "RTX-5070"),
    ("RTX 5070 Ti", None, "RTX-5070-Ti"), ("5080", None, "RTX-5080"),
    ("M1", None, "M1-16GB"), ("Apple M1 Pro", None, "M1-Pro-32GB"), ("M1 Max", None, "M1-Max-64GB"),
    ("M1 Max", 64, "M1-Max-64GB"), ("M1 Ultra", None, "M1-Ultra-128GB"), ("M3", None, "M3-24GB"),
    ("M3 Pro", None, "M3-Pro-36GB"), ("M5", 16, "M5-16GB"), ("Apple M5", 24, "M5-24GB"), ("M5", 32, "M5-32GB"),
])
def test_names_people_type(gpus, name, size, gpu_id):
    assert resolve_gpu(gpus, name, size).id == gpu_id


def test_sizes_that_need_a_choice_or_a_copy(gpus):
    for name in ("RTX 3080", "RTX 4060 Ti"):
        with pytest.raises(InputError, match="give --vram"):
            resolve_gpu(gpus, name)
    with pytest.raises(InputError, match="16, 24 and 32 GB: give --ram"):
        resolve_gpu(gpus, "M5")
    m1max = resolve_gpu(gpus, "M1 Max", 32)  # an older chip: one entry (its largest size), other sizes copy it
    assert (m1max.id, m1max.memory_gb, m1max.bandwidth_gbs) == ("M1-Max-64GB", 32, 400) and "--vram or --ram" in m1max.note
    ti8 = resolve_gpu(gpus, "RTX 5060 Ti", 8)  # the 8 GB card: same GPU and bandwidth
    assert (ti8.id, ti8.memory_gb, ti8.bandwidth_gbs) == ("RTX-5060-Ti-16GB", 8, 448)


def test_suggestions_name_each_card_once(gpus):
    """A mistyped name suggests cards, not one card's spellings ("RTX 4070" and "RTX4070" both, before)."""
    from dsadvisor.errors import UnknownNameError

    for typo, card in (("RTX 4075", "RTX-4070"), ("4070 Tii", "RTX-4070-Ti"), ("M1 Maxx", "M1-Max-64GB")):
        with pytest.raises(UnknownNameError) as info:
            resolve_gpu(gpus, typo)
        cards = [resolve_gpu(gpus, s, 64 if s.startswith("M") else None).id for s in info.value.suggestions]
        assert len(set(cards)) == len(cards) == 3 and card in cards, (typo, info.value.suggestions)
