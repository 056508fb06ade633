"""The one interface every serving engine implements, and the support matrix it answers from.

What an engine runs where is data: the catalog's engine entry lists its formats, KV dtypes,
attention kinds, devices, minimum compute capability and ``support`` limits (each with the engine's
own reason and source). ``ServingEngine.unsupported`` reads that data the same way for recommend,
check, plan and estimate, and an engine module adds what data cannot say.
"""

from __future__ import annotations


from dsadvisor.catalog.schema import Architecture, Artifact, Engine, Gpu, ModelEntry, QuantFormat
from dsadvisor.engines.common import convert_hint, join
from dsadvisor.errors import InputError
from dsadvisor.physics.estimate import Estimate
from dsadvisor.physics.memory import MemoryPlan
from dsadvisor.records import record

# The device a GPU entry is, as engines name the backends they run on.
_CATEGORY_DEVICE = {"apple": "metal", "cpu": "cpu", "mobile": "cpu"}
_VENDOR_DEVICE = {"nvidia": "cuda", "amd": "rocm", "intel": "gaudi"}


# The instruction set of a CPU (or a board whose CPU does the work), by its maker: Arm for the phone
# and single-board chips and NVIDIA's Grace, x86-64 for Intel and AMD.
_ARM_VENDORS = ("broadcom", "qualcomm", "apple", "nvidia")
_X86_VENDORS = ("intel", "amd")
_ISA_FAMILY = {"avx2": "x86", "avx512": "x86", "avx512_bf16": "x86", "avx512_vnni": "x86", "amx": "x86",
               "neon": "arm", "sve": "arm", "sve2": "arm", "i8mm": "arm"}


def device_kind(gpu: Gpu) -> str:
    """cuda, rocm, metal, gaudi or cpu."""
    return _CATEGORY_DEVICE.get(gpu.category) or _VENDOR_DEVICE.get(gpu.vendor, "cpu")


def device_kinds(gpu: Gpu) -> tuple[str, ...]:
    """The kinds a support limit may name this device by: its kind, and for a CPU of a known
    instruction set ``cpu-x86`` or ``cpu-arm`` too."""
    kind = device_kind(gpu)
    if kind != "cpu":
        return (kind,)
    isa = _ISA_FAMILY.get(next(iter(gpu.cpu_isa), ""))  # its extensions name the family (avx2: x86)
    if isa is None:
        isa = "arm" if gpu.vendor in _ARM_VENDORS else "x86" if gpu.vendor in _X86_VENDORS else None
    return (kind, f"cpu-{isa}") if isa else (kind,)


def version_tuple(version: str) -> tuple[int, ...]:
    """"8.9" -> (8, 9); the parts that are not numbers are left out."""
    return tuple(int(x) for x in version.split(".") if x.isdigit())


def _below(gpu: Gpu, minimum: str | None) -> bool:
    """Whether a CUDA GPU's compute capability is known and under ``minimum``."""
    return bool(minimum and gpu.compute_capability
                and version_tuple(gpu.compute_capability) < version_tuple(minimum))


def _gfx_unsupported(spec: Engine, gpu: Gpu) -> str | None:
    """Why the engine's ROCm build does not run on AMD GPU ``gpu`` (its gfx target is not among the engine's
    ``rocm_gfx``); None when it does, or when either side does not say."""
    targets = spec.rocm_gfx
    if targets is None or gpu.gfx_arch is None or gpu.gfx_arch in targets.gfx:
        return None
    return f"{spec.name} does not run on {gpu.name} ({gpu.gfx_arch}): {targets.note}"


def support_key(gpu: Gpu, quant: QuantFormat, arch: Architecture | None, kv: QuantFormat | str | None) -> tuple:
    """Every field ``ServingEngine.unsupported`` reads of its arguments (the engine's own spec is its
    instance's): equal keys get equal answers. A field the support matrix starts to read goes here too
    (tests/test_support_matrix.py compares the memo with the uncached answer for every catalog entry)."""
    kv_key = kv if kv is None or isinstance(kv, str) else (kv.id, tuple(kv.aliases))
    return (gpu.name, gpu.category, gpu.vendor, gpu.compute_capability, gpu.gfx_arch, tuple(gpu.dtypes),
            tuple(gpu.cpu_isa),
            quant.id, tuple(quant.needs_dtypes), arch.attention if arch is not None else None, kv_key)


@record(frozen=True)
class LaunchJob:
    """What an engine's launch command is built from: the deployment the search chose."""

    entry: ModelEntry
    estimate: Estimate
    arch: Architecture
    quant: QuantFormat
    gpu: Gpu | None
    fraction: float  # the share of GPU memory to give the engine, as it counts it
    model_path: str | None = None  # a local checkpoint folder instead of the catalog's repository
    artifact: Artifact | None = None  # the checkpoint that exists in this format (catalog artifacts)
    # Prompt tokens one scheduler iteration takes (the server model's budget, serving.scheduler): pinned on
    # the command when several requests run at once, so the engine schedules what was estimated; None: unset
    token_budget: int | None = None

    @property
    def dp(self) -> int:
        """Data-parallel attention groups (1: none)."""
        return self.estimate.dp_attention

    @property
    def per_rank(self) -> int:
        """Sequences each data-parallel attention rank runs: the concurrency split over the groups."""
        return -(-self.estimate.batch // self.estimate.dp_attention)

    @property
    def budget(self) -> int | None:
        """The token budget to pin: only when several requests share the iterations."""
        return self.token_budget if self.estimate.batch > 1 else None


@record(frozen=True)
class NodeCommands:
    """What an engine runs: the shell lines per node (node 0 first), and node 0's server argv."""

    lines: list[tuple[str, ...]]
    server: list[str]
    setup: tuple[str, ...] = ()  # constant shell lines node 0 runs before the server (no catalog bytes)
    worker_note: str | None = None
    gpu_layers: int | None = None  # llama.cpp -ngl
    host_bytes: float = 0.0  # what the layers kept in CPU memory hold
    env: tuple[tuple[str, str], ...] = ()  # the server's environment (Ollama's settings)
    # a manifest's init container (the engine's image) that fetches what the server cannot fetch by itself
    init: tuple[str, ...] = ()
    fetches_itself: bool = False  # the manifest's server downloads the checkpoint itself (llama.cpp's --hf-repo)
    k8s_note: str | None = None  # what the manifest does differently from the shell lines, and why


class ServingEngine:
    """One serving engine. Subclasses (one module each) add launch commands and their own limits."""

    #: the container image the engine's own docs name, its HTTP port and health endpoint
    image = ""
    #: the release ``image`` pins: the one the catalog's figures for the engine model ("": none recorded)
    release = ""
    port = 8000
    health_path = "/health"
    #: the variable naming where the engine keeps what it downloads ("": the Hugging Face cache, HF_HOME);
    #: a manifest points it into the model cache volume, so a restarted pod does not download again
    cache_env = ""

    #: the catalog id this implementation serves; "" for the generic fallback
    id = ""
    #: whether plan can write a launch command for it (transformers is a library, not a server)
    launches = True
    #: whether it keeps the layers that do not fit on the GPUs in CPU memory (llama.cpp's -ngl)
    offloads = False
    #: whether it can keep MoE layers' routed experts in CPU memory and the rest on the GPUs (llama.cpp's
    #: --n-cpu-moe; Ollama has no such setting)
    offloads_experts = False

    #: formats the engine makes by itself while it loads a checkpoint of another format: {made: from}
    load_conversions: dict[str, tuple[str, ...]] = {}

    #: on a CPU: the instruction-set extensions the engine's CPU backend is built for (any one
    #: will do), and its own words; () runs on any CPU (llama.cpp's portable kernels)
    cpu_isa: tuple[str, ...] = ()
    cpu_reason = ""

    def __init__(self, spec: Engine):
        self.spec = spec
        self._support: dict[tuple, str | None] = {}  # ``unsupported``'s answers, by what they read

    def makes_at_load(self, shipped: str, target: str) -> bool:
        """Whether the engine serves ``target`` from a checkpoint in ``shipped`` with no conversion step."""
        return shipped == target or shipped in self.load_conversions.get(target, ())

    def convert_hint(self, repo: str, shipped: str, target: str) -> str:
        """How to make a ``target`` checkpoint of ``repo`` (shipped in ``shipped``) for this engine."""
        return convert_hint(self.spec.id, repo, shipped, target)

    @property
    def name(self) -> str:
        return self.spec.name

    def cannot_load(self, model: ModelEntry) -> str | None:
        """Why this engine cannot load ``model`` at all (no model class for its family: ``cannot_load`` in
        catalog/engines/engines.yaml); None when it can."""
        for limit in self.spec.cannot_load:
            if model.family in limit.families:
                return limit.reason
        return None

    def unsupported(self, gpu: Gpu, quant: QuantFormat, arch: Architecture | None = None,
                    kv: QuantFormat | str | None = None) -> str | None:
        """Why this engine cannot run ``quant`` weights (and ``kv`` cache, ``arch`` attention) on
        ``gpu``, in words fit for a verdict; None when it can. ``kv`` is a KV format, or the name of
        a 16-bit one (auto, bf16, fp16).

        Memoised by value: recommend asks the same question for every model (3,053 calls, about 37 ms
        of a 335 ms run). The key holds every field the answer reads (``support_key``)."""
        key = support_key(gpu, quant, arch, kv)
        try:
            return self._support[key]
        except KeyError:
            why = self._support[key] = self.unsupported_uncached(gpu, quant, arch, kv)
            return why

    def unsupported_uncached(self, gpu: Gpu, quant: QuantFormat, arch: Architecture | None = None,
                             kv: QuantFormat | str | None = None) -> str | None:
        """``unsupported``, worked out afresh."""
        spec, device = self.spec, device_kind(gpu)
        if isinstance(kv, str):
            if kv == "bf16" and "bf16" not in gpu.dtypes:
                return f"{gpu.name} has no bf16: the KV cache is fp16 there (--kv-dtype fp16 or auto)"
            kv = None
        if device not in spec.devices:
            return f"{spec.name} does not run on {gpu.name} ({device}; it runs on {', '.join(spec.devices)})"
        if device == "cpu" and (why := self.cpu_unsupported(gpu)):
            return why
        if device == "cuda" and _below(gpu, spec.min_compute_capability):
            return (f"{spec.name} needs compute capability {spec.min_compute_capability}; "
                    f"{gpu.name} has {gpu.compute_capability}")
        if device == "rocm" and (why := _gfx_unsupported(spec, gpu)):
            return why
        if arch is not None and arch.attention not in spec.attention:  # the model's, whatever the format
            return f"{spec.name} does not run {arch.attention.upper()} attention"
        if quant.id not in spec.formats:
            return f"{spec.name} does not run {quant.id} weights (it runs {', '.join(spec.formats)})"
        if kv is not None and kv.id not in spec.kv_dtypes and not set(kv.aliases) & set(spec.kv_dtypes):
            return f"{spec.name} has no {kv.id} KV cache (it offers {', '.join(spec.kv_dtypes)})"
        # a limit may name a KV format too (vLLM's fp8 KV cache before Ampere): KV ids never name weights
        return (self._limit(gpu, quant, arch) or (self._limit(gpu, kv, arch) if kv is not None else None)
                or self._hardware_formats(gpu, quant))

    def cpu_unsupported(self, gpu: Gpu) -> str | None:
        """Why the engine's CPU backend cannot run on CPU device ``gpu`` (its instruction set); None when it can.
        Only a CPU the catalog calls one (category cpu or mobile); a device known by --vram alone is not."""
        if gpu.category not in ("cpu", "mobile") or not self.cpu_isa or set(self.cpu_isa) & set(gpu.cpu_isa):
            return None
        known = "/".join(gpu.cpu_isa) or "instruction set unknown: name the CPU, e.g. --gpu 'EPYC 9654'"
        return f"{self.cpu_reason} ({gpu.name}: {known})"

    def _limit(self, gpu: Gpu, quant: QuantFormat, arch: Architecture | None) -> str | None:
        """The first of the engine's support limits this deployment breaks."""
        kinds, device = device_kinds(gpu), device_kind(gpu)
        for limit in self.spec.support:
            if limit.formats and quant.id not in limit.formats:
                continue
            if limit.attention and (arch is None or arch.attention not in limit.attention):
                continue
            if limit.on_devices and not set(kinds) & set(limit.on_devices):
                continue
            if ((limit.devices and not set(kinds) & set(limit.devices))
                    or (device == "cuda" and _below(gpu, limit.min_compute_capability))
                    or (limit.needs_dtypes and not set(limit.needs_dtypes) & set(gpu.dtypes))):
                cc = f" ({gpu.name}: compute capability {gpu.compute_capability})" if gpu.compute_capability else ""
                since = f" (as of {self.spec.name} {limit.since_version})" if limit.since_version else ""
                return f"{limit.reason}{cc}{since}"
        return None

    @staticmethod
    def _hardware_formats(gpu: Gpu, quant: QuantFormat) -> str | None:
        """The number formats the chip itself lacks, whatever the engine."""
        if quant.needs_dtypes and not set(quant.needs_dtypes) & set(gpu.dtypes):
            return f"{quant.id} needs {'/'.join(quant.needs_dtypes)} hardware support, which {gpu.name} lacks"
        if quant.id == "bf16" and "bf16" not in gpu.dtypes:
            return f"{gpu.name} has no bf16; use fp16"
        return None

    def layout_problem(self, est: Estimate) -> str | None:
        """Why the engine cannot launch ``est``'s layout, beyond what the catalog's flags say; None when it can."""
        return None

    # ----------------------------------------------------------------- memory

    def memory_fraction(self, m: MemoryPlan, gpu_total_bytes: float | None, notes: list[str],
                        shared_bytes: float | None = None) -> float:
        """The share of GPU memory to give the engine: the share the estimate used, as it counts it.

        ``shared_bytes``: all of a unified-memory device's memory (a Jetson), which the engine's fraction is of
        (CUDA reports the whole system memory there), while the estimate left the system its share of it."""
        mem = self.spec.memory
        if mem.policy == "fraction_of_free":
            return mem.default_fraction or 0.9
        if shared_bytes and shared_bytes > m.capacity:
            notes.append(f"the GPU shares its {shared_bytes / 1e9:.1f} GB with the system: the memory fraction is of "
                         f"all of it, and leaves the system the {(shared_bytes - m.capacity) / 1e9:.1f} GB the "
                         "estimate kept for it")
            return m.usable / shared_bytes
        if gpu_total_bytes and gpu_total_bytes > m.capacity:
            notes.append(f"planned with the detected free memory ({m.capacity / 1e9:.1f} GB of "
                         f"{gpu_total_bytes / 1e9:.1f} GB): the memory fraction is of the whole card")
            return m.usable / gpu_total_bytes
        return (m.usable / m.capacity) if m.capacity else (mem.default_fraction or 0.9)

    # ----------------------------------------------------------------- launch

    def server_argv(self, job: LaunchJob, notes: list[str]) -> list[str]:
        """The argv that starts the server on node 0."""
        raise InputError(f"no launch plan for engine {self.spec.id}: dsadvisor knows its support matrix from "
                         "the catalog but not its command line")

    def nodes(self, job: LaunchJob, notes: list[str]) -> NodeCommands:
        """The shell lines per node; one node by default (engines that span nodes override it)."""
        argv = self.server_argv(job, notes)
        return NodeCommands([(join(argv),)], argv)

    def leader_worker(self, argv: list[str], setup: tuple[str, ...], est: Estimate) -> dict | None:
        """A LeaderWorkerSet's containers for a plan over several nodes, from node 0's server ``argv``
        (its ``$`` already escaped for Kubernetes): ``{"leader": spec, "worker": spec, "worker_env": {...}}``
        with ``$(LWS_LEADER_ADDRESS)`` / ``$(LWS_WORKER_INDEX)`` where node 0's address and the rank go.
        None: the engine has no way to start its nodes from a pod each."""
        return None

    def container(self, argv: list[str], setup: tuple[str, ...]) -> dict[str, list[str]]:
        """The Kubernetes container's ``command`` and ``args``: the server's argv as a list, no shell
        reading it. Setup lines (constants of the engine's module) run in a fixed ``sh -c`` script that
        then ``exec "$@"``s the argv, which arrives as positional parameters, never as script text."""
        if setup:
            script = "\n".join(("set -e", *setup, 'exec "$@"'))
            return {"command": ["/bin/sh", "-c", script, "sh"], "args": list(argv)}
        return {"command": list(argv[:1]), "args": list(argv[1:])}
