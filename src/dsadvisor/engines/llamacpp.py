"""llama.cpp: ``llama-server`` (ggml-org/llama.cpp tools/server/README.md) on a GGUF file. The one
engine here that keeps layers it cannot fit on the GPU in CPU memory (``-ngl`` below the layer count)."""

from __future__ import annotations

import re

from dsadvisor import limits
from dsadvisor.catalog.schema import Architecture, ModelEntry, QuantFormat
from dsadvisor.engines.base import LaunchJob, NodeCommands, ServingEngine
from dsadvisor.engines.common import join
from dsadvisor.errors import InputError
from dsadvisor.physics.estimate import Estimate
from dsadvisor.physics.memory import head_bits, weight_bytes
from dsadvisor.physics.offload import first_blocks, layer_expert_bytes
from dsadvisor.physics.params import count_params, is_moe_layer, moe_layer_count

GGUF_FILE_LIMIT = 50e9  # Hugging Face stores files up to 50 GB: larger GGUFs come split in parts
# No machine has more system memory than this for the layers kept in CPU memory: the largest
# shared-memory servers sold hold tens of terabytes. A config.json whose layers need more (2e28
# bytes asked a Kubernetes request of 39069...Gi) describes no model anyone can run.
MAX_HOST_BYTES = limits.MAX_HOST_BYTES  # 64 TiB
# -ot/--override-tensor pattern for every routed-expert tensor (what --cpu-moe installs; common/common.h
# LLM_FFN_EXPS_REGEX), as the Unsloth and llama.cpp guides write it
EXPERTS_ON_CPU = r"\.ffn_(up|down|gate)_exps\.=CPU"
# A deployment over this share of the GPU's default working set on a Mac gets the note to raise it, and
# the raised limit leaves macOS this much (assumed: the guides that give the sysctl leave 8-16 GB)
WORKING_SET_NEAR = 0.9
MACOS_RESERVE_GB = 16
KV_CACHE_TYPES = {"q8_0-kv": "q8_0", "q4_0-kv": "q4_0"}  # --cache-type-k/-v values


def gguf_name(entry: ModelEntry, quant: str) -> str:
    base = (entry.hf_repo or entry.name).rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-") or entry.id
    tag = {"bf16": "BF16", "fp16": "F16"}.get(quant, quant.upper())
    return f"<{base}-{tag}.gguf>"


def gguf_path(job: LaunchJob) -> str:
    """The GGUF llama-server loads: the catalogued file (its first part) in a folder named after its
    repository, where ``hf download`` puts it; else a placeholder for one the user makes."""
    art = job.artifact
    if art is not None and art.file and art.repo and not job.model_path:
        return f"{art.repo.rsplit('/', 1)[-1]}/{art.file}"
    return gguf_name(job.entry, job.estimate.quant_id)


def fetched(argv: list[str], job: LaunchJob) -> tuple[list[str], str | None]:
    """``argv`` for a container, which has no downloaded file: llama-server fetches the catalogued GGUF itself
    (--hf-repo/--hf-file, parts beside a first part included, into LLAMA_CACHE), and a note saying so; ``argv``
    unchanged for a file the user makes or a local folder."""
    art = job.artifact
    if art is None or not art.file or not art.repo or job.model_path or "-m" not in argv:
        return argv, None
    at = argv.index("-m")
    return ([*argv[:at], "--hf-repo", art.repo, "--hf-file", art.file, *argv[at + 2:]],
            f"in the manifest llama-server downloads the GGUF itself (--hf-repo {art.repo} --hf-file {art.file}, "
            "where the shell lines give -m the file `hf download` fetched) into LLAMA_CACHE on the model cache")


def expert_flags(arch: Architecture, est: Estimate, quant: QuantFormat, notes: list[str]) -> list[str]:
    """--cpu-moe when every MoE layer's routed experts stay in CPU memory, else --n-cpu-moe over the
    first blocks that hold them (it counts blocks from 0, the leading dense ones included)."""
    layers = est.cpu_moe_layers
    if not layers:
        return []
    every = layers >= moe_layer_count(arch)
    flags = ["--cpu-moe"] if every else ["--n-cpu-moe", str(first_blocks(arch, layers))]
    split = balanced_split(arch, est, quant) if est.gpus > 1 and not every else []
    notes.append(
        f"{' '.join(flags)} keeps the routed experts of {layers} of {moe_layer_count(arch)} MoE layers "
        f"({est.host_bytes / 1e9:.1f} GB) in system memory and everything else (attention, shared experts, "
        "dense layers, KV cache) on the GPU; the CPU reads each token's experts from system memory, so "
        "decoding is bound by its memory bandwidth (see the estimate's basis). llama.cpp builds before "
        "2025-08 lack these flags: " + (f"-ot '{EXPERTS_ON_CPU}'" if every else
                                        "-ot with a pattern naming those blocks' ffn_(up|down|gate)_exps tensors")
        + " does the same")
    if split:
        notes.append(f"--tensor-split {','.join(map(str, split))} gives the GPUs the layers in these counts, so each "
                     "holds about the same bytes: the first GPU's layers left their experts in CPU memory")
    return flags + (["--tensor-split", ",".join(map(str, split))] if split else [])


def balanced_split(arch: Architecture, est: Estimate, quant: QuantFormat) -> list[int]:
    """Layers per GPU (--tensor-split) that give each GPU an even share of bytes when the first MoE
    layers' experts stay in CPU memory: llama.cpp splits layers by count, so the GPU holding the
    light, expert-less first layers would otherwise be half empty and the last one over full."""
    layers, first = arch.num_hidden_layers, arch.first_k_dense_replace or 0
    p = count_params(arch)
    wb = weight_bytes(p, quant, arch)
    experts = layer_expert_bytes(arch, quant)
    rest = (wb.total - wb.embedding - moe_layer_count(arch) * experts) / layers  # attention, shared, norms
    moved = range(first, first + est.cpu_moe_layers)
    sizes = [rest + (experts if is_moe_layer(arch, i) and i not in moved else 0.0) for i in range(layers)]
    target, counts, acc = sum(sizes) / est.gpus, [0] * est.gpus, 0.0
    for i, size in enumerate(sizes):
        gpu = min(est.gpus - 1, int(acc // target)) if target > 0 else 0
        counts[gpu] += 1
        acc += size
    return counts


def gpu_layers(arch: Architecture, est: Estimate, quant: QuantFormat, notes: list[str]) -> tuple[int, float]:
    """-ngl, and the bytes left in CPU memory: every layer and the output layer when the estimate
    fits (nothing left); else the layers that fit.

    llama.cpp puts a layer's KV cache on the device that holds the layer, so each layer offloaded
    costs its weights plus its share of the KV cache; the compute buffer and runtime overhead stay
    on every GPU whatever -ngl is.
    """
    layers = arch.num_hidden_layers
    m = est.memory
    if m.fits:
        return layers + 1, 0.0
    p = count_params(arch)
    wb = weight_bytes(p, quant, arch)
    per_layer_w = max(0.0, wb.total - wb.embedding - p.lm_head * head_bits(quant) / 8) / layers
    per_layer = per_layer_w + m.kv_cache * est.pp / layers  # each GPU holds 1/pp of the layers' KV
    budget = est.gpus * (m.capacity - m.overhead - m.activations)
    n = max(0, min(layers, int(budget // per_layer))) if per_layer > 0 else layers
    notes.append(
        f"the whole model does not fit ({m.per_gpu / 1e9:.1f} GB per GPU needed, {m.usable / 1e9:.1f} GB usable): "
        f"-ngl {n} puts {n} of {layers} layers ({n * per_layer / 1e9:.1f} GB of weights and KV cache) on the GPU"
        f"{'s' if est.gpus > 1 else ''} and keeps {layers - n} in CPU memory "
        f"({(layers - n) * per_layer_w / 1e9:.1f} GB of weights); the estimate's speeds assume every layer on "
        "the GPU, so decoding will be slower, bound by CPU memory bandwidth for the layers left behind")
    return n, (layers - n) * per_layer  # a layer in CPU memory keeps its KV cache there too


class LlamaCpp(ServingEngine):
    id = "llama.cpp"
    image = "ghcr.io/ggml-org/llama.cpp:server-cuda"  # llama.cpp docs/docker.md (entrypoint llama-server)
    port = 8080
    health_path = "/health"  # tools/server/README.md
    offloads = True  # -ngl below the layer count keeps the other layers in CPU memory
    offloads_experts = True  # --n-cpu-moe / --cpu-moe / -ot keep routed experts in CPU memory
    cache_env = "LLAMA_CACHE"  # where --hf-repo downloads go (common/arg.cpp fs_get_cache_file; hf-cache.cpp)

    def server_argv(self, job: LaunchJob, notes: list[str]) -> list[str]:
        self._file_notes(job, notes)
        return self._argv(job, notes, job.arch.num_hidden_layers + 1)

    @staticmethod
    def _file_notes(job: LaunchJob, notes: list[str]) -> None:
        est, entry, art = job.estimate, job.entry, job.artifact
        if art is not None and art.file and art.repo and not job.model_path:
            # a split file's parts share its folder; a single file at the top of the repository is named itself
            wanted = f"{art.file.rsplit('/', 1)[0]}/*" if "/" in art.file else art.file
            size = f", {art.size_bytes / 1e9:.1f} GB" if art.size_bytes else ""
            notes.append(f"serves {art.name} ({art.format}{size}; {art.source}); download it first: hf download "
                         f"{art.repo} --include '{wanted}' --local-dir {art.repo.rsplit('/', 1)[-1]}"
                         + ("; -m names its first part and llama.cpp loads the other parts beside it"
                            if "-00001-of-" in art.file else ""))
            return
        notes.append(f"llama.cpp runs a GGUF file: {gguf_name(entry, est.quant_id)} stands for the "
                     f"{est.quant_id.upper()} GGUF of {entry.hf_repo or entry.name} (convert with "
                     "convert_hf_to_gguf.py and llama-quantize, or download one); substitute its path")
        if est.memory.weights * est.gpus > GGUF_FILE_LIMIT:
            notes.append("a GGUF this large comes in parts (…-00001-of-000NN.gguf): give -m the first part")

    @staticmethod
    def _working_set_note(job: LaunchJob, notes: list[str]) -> None:
        """On a Mac the GPU may wire only part of unified memory (Metal's recommendedMaxWorkingSetSize, about
        75 %): a deployment near that limit needs it raised (sysctl iogpu.wired_limit_mb, until reboot)."""
        gpu, m = job.gpu, job.estimate.memory
        if gpu is None or gpu.category != "apple" or m.per_gpu < WORKING_SET_NEAR * m.usable:
            return
        total_mb = int(m.usable / gpu.usable_memory_fraction / 2**20)
        raised = int(total_mb - MACOS_RESERVE_GB * 1024)
        if raised * 2**20 <= m.usable:  # a small Mac: "raising" it would lower the limit below its default
            notes.append(f"{m.per_gpu / 1e9:.1f} GB is near the {m.usable / 1e9:.0f} GB macOS lets the GPU wire by "
                         f"default ({gpu.usable_memory_fraction:.0%} of unified memory), and this Mac has no room to "
                         f"raise it and leave {MACOS_RESERVE_GB} GB to macOS: close other apps, or take a smaller format")
            return
        notes.append(f"{m.per_gpu / 1e9:.1f} GB is near the {m.usable / 1e9:.0f} GB macOS lets the GPU wire by default "
                     f"({gpu.usable_memory_fraction:.0%} of unified memory): raise it before loading, e.g. sudo sysctl "
                     f"iogpu.wired_limit_mb={raised} (leaves {MACOS_RESERVE_GB} GB to macOS; resets at reboot)")

    def _argv(self, job: LaunchJob, notes: list[str], ngl: int) -> list[str]:
        est = job.estimate
        argv = ["llama-server", "-m", gguf_path(job), "-c", str(est.context * est.batch), "-ngl", str(ngl),
                *expert_flags(job.arch, est, job.quant, notes), "-np", str(est.batch)]
        if est.batch > 1:
            notes.append(f"llama-server splits -c among its -np slots: -c {est.context * est.batch} gives each of "
                         f"the {est.batch} slots {est.context} tokens")
        if est.gpus > 1:
            argv += ["--split-mode", "layer"]
        kv = KV_CACHE_TYPES.get(est.kv_dtype)
        if kv:
            argv += ["--cache-type-k", kv, "--cache-type-v", kv, "-fa", "on"]
            notes.append("a quantized V cache needs flash attention: -fa on (current llama.cpp takes on|off|auto; "
                         "builds before 2025-08 take a bare -fa)")
        return argv + ["--host", "0.0.0.0", "--port", str(self.port)]

    def nodes(self, job: LaunchJob, notes: list[str]) -> NodeCommands:
        self._file_notes(job, notes)
        self._working_set_note(job, notes)
        if job.gpu is not None and job.gpu.category in ("cpu", "mobile"):  # no GPU: every layer in system memory
            isa = "/".join(job.gpu.cpu_isa) or "the build machine's"
            notes.append(f"a CPU-only llama.cpp build: -ngl 0, and its {isa} kernels (cmake -DGGML_NATIVE=ON on "
                         "this machine); -t sets the threads (default: the physical cores)")
            argv = self._argv(job, notes, 0)
            return self._commands(job, argv, gpu_layers=0, host_bytes=0.0)
        if job.estimate.cpu_moe_layers:  # the rest fits on the GPUs; the routed experts stay in system memory
            argv = self._argv(job, notes, job.arch.num_hidden_layers + 1)
            return self._commands(job, argv, gpu_layers=job.arch.num_hidden_layers + 1,
                                  host_bytes=job.estimate.host_bytes)
        ngl, host_bytes = gpu_layers(job.arch, job.estimate, job.quant, notes)
        if host_bytes > MAX_HOST_BYTES:
            raise InputError(
                f"the layers llama.cpp would keep in CPU memory (-ngl {ngl}) need {host_bytes / 1e9:.3g} GB "
                f"of weights and KV cache, more than the {MAX_HOST_BYTES / 2**40:.3g} TiB any machine has; check "
                "the model's sizes (its config.json), or plan a lower-bit format or more GPUs")
        argv = self._argv(job, notes, ngl)
        return self._commands(job, argv, gpu_layers=ngl, host_bytes=host_bytes)

    @staticmethod
    def _commands(job: LaunchJob, argv: list[str], gpu_layers: int, host_bytes: float) -> NodeCommands:
        """The shell line runs ``argv``; a manifest's container fetches the GGUF itself (``fetched``)."""
        server, k8s_note = fetched(argv, job)
        return NodeCommands([(join(argv),)], server, gpu_layers=gpu_layers, host_bytes=host_bytes, k8s_note=k8s_note,
                            fetches_itself=server is not argv)

    def container(self, argv: list[str], setup: tuple[str, ...]) -> dict[str, list[str]]:
        return {"args": list(argv[1:])}  # the server-cuda image's entrypoint is llama-server itself


ENGINE = LlamaCpp
