"""GPUs: from what a user types (or nvidia-smi prints) to a catalog ``Gpu``, and how much memory it has.

Resolution rules (``resolve_gpu``), in order:

1. Exact names. The catalog id, display name, every ``nvidia_smi_names`` entry and every alias match
   case-insensitively with spaces, underscores and hyphens ignored: ``H100-SXM``, ``h100 sxm``,
   ``NVIDIA H100 80GB HBM3`` (the SXM card), ``NVIDIA H100 PCIe``, ``4090``, ``A4000``. A name that
   members of one family share (nvidia-smi prints ``NVIDIA GeForce RTX 4060 Ti`` for the 8 and the 16 GB
   card) is not exact: it goes on to rule 2, where memory picks the size.
2. Family, variant and memory. Otherwise the name is split into words; a word like ``40GB`` is the
   memory, ``SXM``/``SXM4``/``PCIe``/``NVL`` the variant, vendor words (NVIDIA, GeForce, Tesla, Apple,
   Intel...) are dropped, and what is left must be a family (``A100``, ``RTX 4090``, ``4090``,
   ``Jetson AGX Orin``) or an alias. Never a substring: ``H100`` does not match ``H100 PCIe`` by
   containment, and a variant the user typed is never contradicted.
   - A typed variant keeps only that variant (a card with no variant counts as PCIe when its
     interconnect is PCIe).
   - Memory (typed, or ``--vram``) picks the member whose marketed size is nearest, within
     ``MEMORY_TOLERANCE`` (so 85.5 from a detected 81,559 MiB still means the 80 GB card); between
     form factors of that size SXM wins, then a card with no variant, then PCIe, then NVL.
   - No memory: the preferred form factor (same order) is taken; if it comes in several sizes the
     name is ambiguous: ``A100`` raises ``InputError`` ("A100 comes in 40 and 80 GB: give --vram"),
     while ``H100`` is the 80 GB SXM card (its PCIe card is 80 GB too; the 94 GB NVL is only chosen
     by name or memory).
   - ``--vram`` that matches no member: when one member is left (``RTX 4090 --vram 48``, a modded
     card; ``M2 Ultra --vram 128``) the result is a copy of it with that memory and a note saying so;
     with several members it is an ``InputError`` listing the sizes.
3. Anything else raises ``UnknownNameError`` with suggestions; a name with look-alike characters
   (``H1OO``) suggests the cards its corrected spelling resolves to.

``custom_gpu`` stands for a device outside the catalog (``--vram`` alone); ``capacity_bytes`` is the
memory an engine can plan with; ``detect_gpus`` reads the local GPUs through NVML or nvidia-smi.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from collections.abc import Mapping

from dsadvisor.errors import DsAdvisorError, InputError, UnknownNameError, quoted, suggest, typed
from dsadvisor.catalog.schema import Gpu, Interconnect
from dsadvisor.records import record

# The calibration H100 SXM (marketed 80 GB, i.e. 80 GiB of HBM3) reported 85,017,493,504 bytes
# total through the driver (benchmarks/data/README.md): the rest is kept by the driver and ECC.
H100_SXM_DRIVER_BYTES = 85_017_493_504
# Fraction of marketed GiB a discrete NVIDIA GPU reports, applied to cards not measured: 0.98973.
DRIVER_REPORTED_FRACTION = H100_SXM_DRIVER_BYTES / (80 * 2**30)

# How far --vram may sit from a card's marketed size and still name it: covers GB read as GiB
# (7.4 %) plus what the driver keeps back, and stays below the gap between sizes of one family
# (H100 80 vs 94 GB is 15 %).
MEMORY_TOLERANCE = 0.10

# custom_gpu defaults: the slowest current datacenter card's bandwidth (L4, 300 GB/s) and an
# RTX 3060-class tensor rate (25-30 TFLOPS with fp32 accumulation), so that an unknown device is
# never estimated faster than it is likely to be.
CUSTOM_BANDWIDTH_GBS = 300.0
CUSTOM_TFLOPS = 30.0
CUSTOM_LINK_GBS = 16.0  # PCIe Gen3 x16 (or Gen4 x8), per direction

_VARIANT_RANK = {"SXM": 0, None: 1, "PCIe": 2, "NVL": 3}
_NOISE_WORDS = {
    "nvidia", "geforce", "tesla", "quadro", "apple", "intel", "habana", "qualcomm", "amd", "instinct",
    "gpu", "hbm2", "hbm2e", "hbm3", "hbm3e", "generation",
}
_LOOKALIKES = str.maketrans({"o": "0", "O": "0", "i": "1", "I": "1", "l": "1"})


# ------------------------------------------------------------------ resolution

def resolve_gpu(gpus: Mapping[str, Gpu], name: str, vram_gb: float | None = None) -> Gpu:
    """The catalog GPU ``name`` means, with ``vram_gb`` (``--vram``) choosing among sizes."""
    if not name or not name.strip():
        raise InputError("empty GPU name; give e.g. --gpu H100-SXM, --gpu A100 --vram 40, or --vram GB alone")
    name = typed(name)
    exact = _exact(gpus, name)
    if exact is not None:
        if vram_gb is None or _close(exact.memory_gb, vram_gb):
            return exact
        same_form = [g for g in gpus.values() if g.family == exact.family and g.variant == exact.variant]
        return _by_memory(same_form, vram_gb) or _with_vram(exact, vram_gb)

    key, variant, memory = _parse(name)
    family = _family(gpus, key)
    if family is None and variant is None:  # "H100SXM", "a100pcie": variant glued to the family
        glued = re.fullmatch(r"(.+?)(sxm\d?|pcie|nvl)", key)
        if glued:
            key, variant = glued[1], _variant(glued[2])
            family = _family(gpus, key)
    if family is None:
        raise _unknown(gpus, name, vram_gb)

    members = [g for g in gpus.values() if g.family == family]
    if variant is not None:
        members = [g for g in members if _variant_matches(g, variant)]
        if not members:
            forms = sorted({g.variant or "-" for g in gpus.values() if g.family == family})
            raise InputError(f"{family} has no {variant} variant (catalog: {', '.join(forms)})")
    if memory is not None and vram_gb is not None and not _close(memory, vram_gb):
        raise InputError(f"{quoted(name)} says {memory:g} GB but --vram says {vram_gb:g}")
    size = memory if memory is not None else vram_gb

    if size is None:
        best = min(_rank(g) for g in members)
        preferred = [g for g in members if _rank(g) == best]
        sizes = sorted({g.memory_gb for g in preferred})
        if len(sizes) > 1:
            flag = "--ram" if all(g.unified_memory for g in preferred) else "--vram"
            raise InputError(
                f"{family} comes in {_list(sizes)} GB: give {flag} (e.g. --gpu {_arg(family)} {flag} {sizes[0]:g})")
        return preferred[0]
    found = _by_memory(members, size)
    if found is not None:
        return found
    if len(members) == 1:
        return _with_vram(members[0], size)
    sizes = sorted({g.memory_gb for g in members})
    unified = all(g.unified_memory for g in members)
    flag, what = ("--ram", "a device") if unified else ("--vram", "a card")
    raise SizeError(
        f"{family} comes in {_list(sizes)} GB, not {size:g}; for {what} with other memory name one "
        f"(e.g. --gpu {members[0].id} {flag} {size:g})", unified=unified,
    )


class SizeError(InputError):
    """A memory size no member of a family has; ``unified`` when the family's memory is system memory
    (an Apple chip: --ram sizes it, so the error is the answer to --ram, not one to pass over)."""

    def __init__(self, message: str, *, unified: bool) -> None:
        super().__init__(message)
        self.unified = unified


def custom_gpu(
    vram_gb: float,
    bandwidth_gbs: float | None = None,
    fp16_tflops: float | None = None,
    name: str | None = None,
) -> Gpu:
    """A device outside the catalog, known only by its memory (``--vram`` alone).

    Conservative defaults for what the user did not give, so estimates err slow rather than fast:
    memory bandwidth ``CUSTOM_BANDWIDTH_GBS`` (300 GB/s, the L4's, the slowest current datacenter
    card), fp16/bf16 tensor rate ``CUSTOM_TFLOPS`` (30 TFLOPS, an RTX 3060-class card with fp32
    accumulation), fp32/fp16/bf16 support but no fp8 or int8 fast path, a PCIe link of
    ``CUSTOM_LINK_GBS`` per direction, discrete memory (the driver fraction applies).
    """
    if not vram_gb > 0:
        raise InputError(f"--vram must be a positive number of GB, not {vram_gb}")
    bandwidth = bandwidth_gbs or CUSTOM_BANDWIDTH_GBS
    tflops = fp16_tflops or CUSTOM_TFLOPS
    assumed = [
        f"bandwidth {bandwidth:g} GB/s" if bandwidth_gbs is None else None,
        f"fp16/bf16 {tflops:g} TFLOPS" if fp16_tflops is None else None,
        "dtypes fp32/fp16/bf16", f"PCIe {CUSTOM_LINK_GBS:g} GB/s",
    ]
    source = "user --vram; other figures assumed: " + ", ".join(a for a in assumed if a)
    return Gpu(
        id=re.sub(r"[^A-Za-z0-9._-]", "", f"custom-{vram_gb:g}GB"),
        name=name or f"Custom GPU ({vram_gb:g} GB)",
        vendor="other",
        family="custom",
        category="consumer",
        memory_gb=vram_gb,
        bandwidth_gbs=bandwidth,
        fp16_tflops=tflops,
        bf16_tflops=tflops,
        dtypes=["fp32", "fp16", "bf16"],
        interconnect=Interconnect(kind="pcie", bandwidth_gbs=CUSTOM_LINK_GBS, source="assumed"),
        note="memory from --vram; not in the catalog (see custom_gpu for the assumed figures)",
        source=source,
    )


def capacity_bytes(gpu: Gpu) -> int:
    """Bytes of memory an engine can plan with on one device.

    ``memory_bytes`` where the driver's figure was measured; otherwise marketed GB read as GiB times
    ``DRIVER_REPORTED_FRACTION`` (what the H100 SXM driver reports of its 80 GiB). Unified-memory
    devices (Apple, Jetson, phones) skip the driver fraction and take ``usable_memory_fraction``
    instead (about 75 % of an Apple Mac's memory is usable by its GPU: Metal's recommendedMaxWorkingSetSize).
    """
    if gpu.memory_bytes is not None:
        total = float(gpu.memory_bytes)
    elif gpu.unified_memory:
        total = gpu.memory_gb * 2**30
    else:
        total = gpu.memory_gb * 2**30 * DRIVER_REPORTED_FRACTION
    return int(total * gpu.usable_memory_fraction)


# ------------------------------------------------------------------- detection

# The largest memory a detected GPU is believed to have: --vram's bound (100,000 GB, dsadvisor.limits) in MiB. A
# driver reporting more, or none, is misreading the card; the row is skipped as an unreadable one is.
MAX_DETECTED_MIB = 100_000 * 10**9 // 2**20


@record(frozen=True)
class DetectedGpu:
    """One local GPU as the driver reports it."""

    name: str
    total_mib: int
    free_mib: int


def parse_nvidia_smi_csv(text: str) -> list[DetectedGpu]:
    """Rows of ``nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits``.

    Tolerates a header line and " MiB" units; skips rows it cannot read (error text, ``[N/A]``
    memory as Jetson prints) and sizes no GPU has (none, negative, over MAX_DETECTED_MIB).
    """
    found = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.strip().rsplit(",", 2)]
        if len(parts) != 3 or not parts[0] or parts[0].lower() == "name":
            continue
        total, free = _mib(parts[1]), _mib(parts[2])
        if total is not None and free is not None and _plausible(total, free):
            found.append(DetectedGpu(parts[0], total, free))
    return found


def _plausible(total_mib: int, free_mib: int) -> bool:
    """A size a GPU can have: some memory, at most MAX_DETECTED_MIB, and none of it negative."""
    return 0 < total_mib <= MAX_DETECTED_MIB and free_mib >= 0


def system_memory_bytes() -> int | None:
    """This machine's physical memory (POSIX sysconf); None where it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        return None


def detect_gpus() -> list[DetectedGpu]:
    """The local NVIDIA GPUs: NVML (``pynvml``, optional) first, then ``nvidia-smi``; [] when neither works."""
    return _detect_nvml() or _detect_nvidia_smi()


def _detect_nvml() -> list[DetectedGpu]:
    try:
        import pynvml  # nvidia-ml-py, an optional dependency
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:  # no driver, no GPU, wrong library: NVML unavailable
        return []
    try:
        found = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(handle)
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
            if _plausible(mem.total // 2**20, mem.free // 2**20):
                found.append(DetectedGpu(name.decode(errors="replace") if isinstance(name, bytes) else str(name),
                                         mem.total // 2**20, mem.free // 2**20))
        return found
    except Exception:
        return []
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


def _detect_nvidia_smi() -> list[DetectedGpu]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        run = subprocess.run(
            [exe, "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, errors="replace", timeout=5, check=False)
    except (OSError, subprocess.SubprocessError, ValueError):  # ValueError: a locale that cannot decode at all
        return []
    return parse_nvidia_smi_csv(run.stdout) if run.returncode == 0 else []


# --------------------------------------------------------------------- helpers

def _squash(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.lower())


_NAME_INDEX: dict[int, tuple[Mapping[str, Gpu], dict[str, dict[str, Gpu]]]] = {}


def _names(gpus: Mapping[str, Gpu]) -> dict[str, dict[str, Gpu]]:
    """squashed name -> {id: GPU}, built once per catalog (the search resolves names many times)."""
    cached = _NAME_INDEX.get(id(gpus))
    if cached is not None and cached[0] is gpus:
        return cached[1]
    index: dict[str, dict[str, Gpu]] = {}
    for g in gpus.values():
        for n in (g.id, g.name, *g.nvidia_smi_names, *g.aliases):
            index.setdefault(_squash(n), {})[g.id] = g
    _NAME_INDEX[id(gpus)] = (gpus, index)
    return index


def _exact(gpus: Mapping[str, Gpu], name: str) -> Gpu | None:
    hits = _names(gpus).get(_squash(name), {})
    if len(hits) > 1 and len({g.family for g in hits.values()}) == 1:
        return None  # one nvidia-smi name for every size of a card ("NVIDIA GeForce RTX 4060 Ti"): sized below
    if len(hits) > 1:
        raise InputError(f"GPU name {name!r} is ambiguous: it could be {', '.join(sorted(hits))}; give the id")
    return next(iter(hits.values()), None)


def _parse(name: str) -> tuple[str, str | None, float | None]:
    """(family key, variant, memory GB) from a free-form name such as "NVIDIA A100-SXM4 40 GB"."""
    text = re.sub(r"(\d+(?:\.\d+)?)\s*(?:gib|gb|g)\b", r" \1gb ", name.lower().replace("(", " ").replace(")", " "))
    rest, variant, memory = [], None, None
    for word in re.split(r"[\s_\-/,]+", text):
        if not word or word in _NOISE_WORDS:
            continue
        if m := re.fullmatch(r"(\d+(?:\.\d+)?)gb", word):
            memory = float(m[1])
        elif _variant(word):
            variant = _variant(word)
        else:
            rest.append(word)
    return "".join(rest), variant, memory


def _variant(word: str) -> str | None:
    if re.fullmatch(r"sxm\d?", word):
        return "SXM"
    return {"pcie": "PCIe", "nvl": "NVL"}.get(word)


_FAMILY_INDEX: dict[int, tuple[Mapping[str, Gpu], dict[str, set[str]]]] = {}


def _families(gpus: Mapping[str, Gpu]) -> dict[str, set[str]]:
    """squashed family name or member alias (and the family without a leading "RTX") -> families, built
    once per catalog: recommend resolves every article's advised GPU (3,000 squashes a run before)."""
    cached = _FAMILY_INDEX.get(id(gpus))
    if cached is not None and cached[0] is gpus:
        return cached[1]
    index: dict[str, set[str]] = {}
    for g in gpus.values():
        names = {_squash(g.family), *(_squash(a) for a in g.aliases)}
        if g.family.lower().startswith("rtx "):
            names.add(_squash(g.family[4:]))
        for n in names:
            index.setdefault(n, set()).add(g.family)
    _FAMILY_INDEX[id(gpus)] = (gpus, index)
    return index


def _family(gpus: Mapping[str, Gpu], key: str) -> str | None:
    """The family whose name (without a leading "RTX" too) or member alias squashes to ``key``."""
    if not key:
        return None
    families = _families(gpus).get(key, set())
    if len(families) > 1:
        raise InputError(f"GPU name {key!r} is ambiguous: it could be {', '.join(sorted(families))}")
    return next(iter(families), None)


def _variant_matches(gpu: Gpu, variant: str) -> bool:
    if gpu.variant is not None:
        return gpu.variant.lower() == variant.lower()
    return variant == "PCIe" and gpu.interconnect is not None and gpu.interconnect.kind == "pcie"


def _rank(gpu: Gpu) -> int:
    return _VARIANT_RANK.get(gpu.variant, len(_VARIANT_RANK))


def _close(marketed_gb: float, asked_gb: float) -> bool:
    return abs(marketed_gb - asked_gb) <= MEMORY_TOLERANCE * max(marketed_gb, asked_gb)


def _by_memory(members: list[Gpu], size: float) -> Gpu | None:
    fits = [g for g in members if _close(g.memory_gb, size)]
    return min(fits, key=lambda g: (abs(g.memory_gb - size), _rank(g), g.id), default=None)


def _with_vram(gpu: Gpu, vram_gb: float) -> Gpu:
    note = f"memory from --vram or --ram ({vram_gb:g} GB; the catalog's {gpu.name} has {gpu.memory_gb:g} GB)"
    return dataclasses.replace(gpu, memory_gb=vram_gb, memory_bytes=None,
                               note=note + (f"; {gpu.note}" if gpu.note else ""))


def _arg(text: str) -> str:
    return f"'{text}'" if " " in text else text


def _list(sizes: list[float]) -> str:
    words = [f"{s:g}" for s in sizes]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _mib(field: str) -> int | None:
    try:
        return int(float(re.sub(r"\s*mib$", "", field.strip(), flags=re.IGNORECASE)))
    except (ValueError, OverflowError):  # "nan", "inf"
        return None


def _unknown(gpus: Mapping[str, Gpu], name: str, vram_gb: float | None) -> UnknownNameError:
    spellings = [g.id for g in gpus.values()] + [g.family for g in gpus.values()] + [a for g in gpus.values() for a in g.aliases]
    known = list({_squash(n): n for n in reversed(spellings)}.values())[::-1]  # one spelling of each name ("RTX 4070", not "RTX4070" too)
    err = UnknownNameError("GPU", name, known)
    # Look-alike characters inside model numbers ("H1OO", "A1O0"): suggest what the fixed name means.
    fixed = re.sub(r"[A-Za-z0-9]+",
                   lambda m: m[0].translate(_LOOKALIKES) if re.search(r"\d", m[0]) else m[0], name)
    if fixed != name:
        try:
            hit = resolve_gpu(gpus, fixed, vram_gb)
        except DsAdvisorError:
            hit = None
        try:
            family = _family(gpus, _parse(fixed)[0]) or (hit.family if hit else None)
        except DsAdvisorError:
            family = None
        siblings = sorted((g for g in gpus.values() if g.family == family), key=lambda g: (_rank(g), g.memory_gb))
        picks = [g.id for g in ([hit] if hit else []) + siblings] or suggest(fixed, [g.id for g in gpus.values()])
        if picks:
            seen, merged = set(), []
            for pick in picks + err.suggestions:  # one spelling per card
                if _squash(pick) not in seen:
                    seen.add(_squash(pick))
                    merged.append(pick)
            err.suggestions = merged[:3]
            err.args = (err.message(),)
    return err
