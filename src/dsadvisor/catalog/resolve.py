"""From what a user typed (names, numbers) to a ``Deployment`` of catalog objects."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from dsadvisor.catalog.store import Catalog
from dsadvisor.errors import InputError, NoGpuError, clipped
from dsadvisor.limits import BOUNDS, check
from dsadvisor.catalog.hardware import SizeError, custom_gpu, resolve_gpu
from dsadvisor.catalog.schema import Architecture, Fact, Gpu, ModelEntry
from dsadvisor.records import record

# Hard ceilings that catch typos (1e30 GB) without limiting real hardware: dsadvisor.limits.BOUNDS.
MAX_VRAM_GB = BOUNDS["--vram"].high  # 100 TB per device
MAX_GPUS = BOUNDS["--gpus"].high
MAX_CONTEXT = BOUNDS["--context"].high
MAX_BATCH = BOUNDS["--batch"].high

# The catalog's CPU known only by its memory (catalog/hardware/cpu.yaml): --ram sizes it.
GENERIC_CPU = "CPU"


@record(frozen=True)
class HardwareSpec:
    gpu: Gpu
    count: int
    free_bytes: float | None = None  # detected free memory per GPU
    host_bytes: float | None = None  # system memory: --ram, or this machine's with --gpu auto


def check_number(flag: str, value: float | None) -> None:
    """``value`` within ``flag``'s range in ``dsadvisor.limits.BOUNDS``, else an ``InputError``."""
    check(flag, value)


def resolve_hardware(catalog: Catalog, gpu: str | None, vram_gb: float | None, gpus: int = 1,
                     ram_gb: float | None = None) -> HardwareSpec:
    """--gpu / --vram / --gpus / --ram as a device and a count.

    ``ram_gb`` is system memory. A unified-memory device (an Apple chip, a Jetson, a Raspberry Pi, a
    phone) has no other memory, so it sizes the device as --vram would; beside discrete GPUs it is the
    host memory llama.cpp may keep layers in.

    ``gpu="auto"`` reads the local GPUs (NVML or nvidia-smi): the first one's kind, sized by its total
    memory unless ``vram_gb`` says otherwise, planned with its free memory; as many as there are of that
    kind unless ``gpus`` is more than 1; and this machine's memory unless ``ram_gb`` is given.
    """
    if gpu is not None and gpu.lower() == "auto":
        return _detected(catalog, vram_gb, gpus, ram_gb)
    spec = _named(catalog, gpu, vram_gb, gpus, ram_gb)
    return replace(spec, host_bytes=ram_gb * 1e9) if ram_gb is not None else spec


def _detected(catalog: Catalog, vram_gb: float | None, gpus: int, ram_gb: float | None) -> HardwareSpec:
    from dsadvisor.catalog import hardware

    check_number("--gpus", gpus)
    found = hardware.detect_gpus()
    if not found:
        raise NoGpuError("--gpu auto found no GPU (no NVML, no working nvidia-smi); name one with --gpu or give --vram")
    first = found[0]
    spec = _named(catalog, first.name, vram_gb or first.total_mib * 2**20 / 1e9, 1, ram_gb)
    count = len([g for g in found if g.name == first.name])
    host = ram_gb * 1e9 if ram_gb is not None else hardware.system_memory_bytes()
    return HardwareSpec(spec.gpu, gpus if gpus > 1 else count, free_bytes=first.free_mib * 2**20, host_bytes=host)


def _named(catalog: Catalog, gpu: str | None, vram_gb: float | None, gpus: int, ram_gb: float | None) -> HardwareSpec:
    check_number("--vram", vram_gb)
    check_number("--ram", ram_gb)
    check_number("--gpus", gpus)
    if gpu is None and vram_gb is None:
        if ram_gb is not None:
            raise InputError("--ram is system memory: name the device with --gpu (e.g. --gpu 'Jetson AGX Orin' "
                             "--ram 32, --gpu M3-Max --ram 128), or give --vram GB for a GPU")
        raise InputError("give --gpu NAME (e.g. --gpu A100 --vram 40, --gpu H100-SXM, --gpu auto) or --vram GB")
    if gpu is None:
        assert vram_gb is not None  # no --gpu and no --vram is refused just above
        return HardwareSpec(custom_gpu(vram_gb), gpus)
    if ram_gb is not None and vram_gb is None:  # --ram may be what picks the size of a unified device
        try:
            sized = resolve_gpu(catalog.gpus, gpu, ram_gb)
        except SizeError as error:  # "A100 comes in 40 and 80 GB, not 64": a discrete card, sized below
            if error.unified:  # "M4 Max comes in 36, 48, 64 and 128 GB, not 100": --ram was its size
                raise
            sized = None
        except InputError:
            sized = None
        if sized is not None and sized.unified_memory:
            return HardwareSpec(sized, gpus)
    device = resolve_gpu(catalog.gpus, gpu, vram_gb)
    if device.id == GENERIC_CPU and vram_gb is None and ram_gb is None:
        raise InputError("--gpu cpu runs on system memory: give its size with --ram GB (e.g. --gpu cpu --ram 64), "
                         "or name the CPU (e.g. --gpu 'EPYC 9654')")
    if ram_gb is not None and device.unified_memory:  # its size came from --vram or its name: --ram must agree
        size = vram_gb if vram_gb is not None else device.memory_gb
        if abs(size - ram_gb) > 0.05 * max(size, ram_gb):
            said = f"--vram {vram_gb:g}" if vram_gb is not None else f"{gpu!r} ({size:g} GB)"
            raise InputError(f"{device.id} has one unified memory: {said} and --ram {ram_gb:g} "
                             "cannot both be it; give one")
    return HardwareSpec(device, gpus)  # --ram beside a discrete GPU: plan's --offload check reads it


# weights_dtype values that name a catalog format of their own (quantization/formats.yaml)
# V4; a local AWQ / GPTQ checkpoint or Kimi-K2.5's INT4 experts (--config)
SHIPPED_FORMATS = ("fp8-fp4experts", "awq-int4", "gptq-int4", "int4-experts")


def default_quant(entry: ModelEntry, gpu: Gpu | None = None) -> str:
    """The format the weights ship in (FP8 for V3/R1, FP8 with FP4 experts for V4, 16-bit for the rest); a
    16-bit checkpoint is fp16 on a ``gpu`` without bf16 (a T4, a V100, an Apple chip), as engines load it there
    (vLLM casts bf16 to fp16 below compute capability 8.0). Before, `estimate MODEL --gpu T4` exited 2."""
    if entry.weights_dtype and entry.weights_dtype.value.lower() in SHIPPED_FORMATS:
        return entry.weights_dtype.value.lower()
    if entry.weights_dtype and entry.weights_dtype.value.lower().startswith("fp8"):
        return "fp8"
    return "fp16" if gpu is not None and "bf16" not in gpu.dtypes else "bf16"


def check_workload(context: int | None, prompt: int | None, batch: int) -> None:
    check_number("--context", context)
    check_number("--prompt-tokens", prompt)
    check_number("--concurrency", batch)  # --batch is its older name
    if context is not None and prompt is not None and prompt > context:
        raise InputError(f"--prompt-tokens {prompt} exceeds --context {context}")


def model_from_config(path: Path) -> tuple[ModelEntry, Architecture]:
    """A model a user has locally: its Hugging Face config.json, read without any network."""
    import json  # here, not at the top: only --config reads JSON

    from dsadvisor.catalog.hfconfig import architecture_from_hf_config, language_part
    from dsadvisor.catalog.loading import USER_LIMITS, read_at_most

    shown = clipped(path)  # what the messages repeat of a (possibly 100 KB) path
    try:
        if path.is_dir():
            path = path / "config.json"
            shown = clipped(path)
        raw = read_at_most(path, USER_LIMITS.max_bytes)
        if raw is None:
            raise InputError(f"{shown}: larger than {USER_LIMITS.max_bytes:,} bytes; not a config.json")
        config = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise InputError(f"{shown}: no such file") from None
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, an int over 4300 digits, nesting too deep
        # the reason whole, not cut at 80 characters mid-word ("... from a unicode stri"), without Python's advice
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split("; use sys.")[0]
        raise InputError(f"{shown}: not a JSON config ({exc.__class__.__name__}: {clipped(reason, 160)})") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if not isinstance(config, dict):
        raise InputError(f"{shown}: a config.json holds a JSON object")
    try:
        arch = architecture_from_hf_config(config, source=f"config.json ({path})")
    except ValueError as exc:
        raise InputError(f"{shown}: {str(exc).splitlines()[0]}") from None
    name = str(config.get("_name_or_path") or path.parent.name or "model")
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")[:60] or "model"
    # DeepSeek-V3/R1's config.json says torch_dtype bfloat16, but its quantization_config says the weights
    # ship in FP8: record it as the catalog's weights_dtype does (the default --quant; plan's engine flags)
    quant = language_part(config).get("quantization_config") or config.get("quantization_config")
    shipped = _shipped_format(quant, arch)  # a multimodal config keeps it with its language model (Kimi-K2.5)
    entry = ModelEntry(
        id=f"local-{slug}",
        name=name, status="released", kind="model", family="local", source=f"config.json ({path})",
        architecture=arch,
        weights_dtype=Fact(value=shipped, source=f"config.json quantization_config ({path})") if shipped else None,
    )
    return entry, arch


# quantization_config.quant_method (and bits) of a checkpoint -> the catalog format it ships in. AWQ and GPTQ
# 4-bit checkpoints (AutoAWQ / llm-compressor / GPTQModel write quant_method "awq" / "gptq" and bits 4) were
# sized as 16-bit before: a local AWQ 8B as 16 GB of weights instead of about 5.
_SHIPPED = {("fp8", None): "fp8", ("awq", 4): "awq-int4", ("gptq", 4): "gptq-int4"}


def _int4_experts_only(quant: dict, arch: Architecture) -> bool:
    """compressed-tensors W4A16 (4-bit integer weights in groups, no activation quantization) that leaves attention
    and the shared experts out (its ``ignore`` list): INT4 routed experts beside 16-bit weights, as Kimi-K2.5 ships."""
    found = quant.get("config_groups")
    groups = [g for g in found.values() if isinstance(g, dict)] if isinstance(found, dict) else []
    weights = [g.get("weights") or {} for g in groups]
    ignore = " ".join(str(i) for i in quant.get("ignore") or [])
    return (arch.is_moe and len(weights) == 1 and weights[0].get("num_bits") == 4 and weights[0].get("type") == "int"
            and not any(g.get("input_activations") for g in groups)
            and "self_attn" in ignore and "shared_experts" in ignore)


def _shipped_format(quant: object, arch: Architecture) -> str | None:
    """The format a local checkpoint ships in, from its config.json's quantization_config; None: its torch_dtype."""
    if not isinstance(quant, dict):
        return None
    method = str(quant.get("quant_method", "")).lower()
    if method == "compressed-tensors":
        return "int4-experts" if _int4_experts_only(quant, arch) else None
    bits = quant.get("bits") if method != "fp8" else None
    shipped = _SHIPPED.get((method, bits if isinstance(bits, int) and not isinstance(bits, bool) else None))
    if shipped == "fp8" and arch.expert_dtype == "fp4":
        return "fp8-fp4experts"  # V4: FP4 routed experts beside FP8 elsewhere
    return shipped
