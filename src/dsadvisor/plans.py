"""From an estimate to a running deployment: the exact launch commands, per node, for its engine.

``launch_plan(catalog, verdict_or_estimate, model_entry)`` turns the deployment the search chose
(engine, format, KV dtype, tensor / pipeline / expert parallel, nodes, context, batch, memory
fraction) into the commands that start it, with flag names as each engine documents them today:

* vLLM: ``vllm serve`` (engine arguments, docs.vllm.ai; vllm/engine/arg_utils.py); several nodes
  through a Ray cluster (``ray start``; docs.vllm.ai serving/parallelism_scaling).
* SGLang: ``python -m sglang.launch_server`` (docs.sglang.io advanced_features/server_arguments).
* TensorRT-LLM: ``trtllm-serve`` (tensorrt_llm/commands/serve.py; nvidia.github.io/TensorRT-LLM
  commands/trtllm-serve); several nodes through MPI and ``trtllm-llmapi-launch``.
* llama.cpp: ``llama-server`` (ggml-org/llama.cpp tools/server/README.md).

Every number in a command comes from the estimate, so the engine is started with the budget the
estimate judged: the same context, concurrency and memory fraction. tests/test_plans.py keeps the
table of documented flag names each command is checked against.

Nothing here invents a checkpoint: a format the model does not ship in (AWQ, GPTQ, INT8, a
ModelOpt checkpoint for TensorRT-LLM, a GGUF file) is written as a ``<placeholder>`` the user
substitutes, and the notes say which checkpoint it must be.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass

from .assumed import assumed_architecture
from .catalog import Catalog
from .engine import Verdict
from .errors import InputError
from .estimator import Estimate
from .memory import weight_bytes
from .params import count_params
from .schema import Architecture, Gpu, ModelEntry

HEAD = "<head-ip>"  # node 0's address, for the user to fill in
RAY_PORT = 6379  # Ray's default GCS port (docs.vllm.ai parallelism_scaling, `ray start --head`)
SGLANG_DIST_PORT = 5000  # any free port on node 0; the SGLang docs use 50000 / 20000 in their examples
PORTS = {"vllm": 8000, "sglang": 30000, "tensorrt-llm": 8000, "llama.cpp": 8080}
IMAGES = {  # container images the engines' own docs name
    "vllm": "vllm/vllm-openai:latest",  # docs.vllm.ai deployment/k8s
    "sglang": "lmsysorg/sglang:latest",  # docs.sglang.io install (docker)
    "tensorrt-llm": "nvcr.io/nvidia/tensorrt-llm/release:<version>",  # NGC; pick a release tag
    "llama.cpp": "ghcr.io/ggml-org/llama.cpp:server-cuda",  # llama.cpp docs/docker.md (entrypoint llama-server)
}
# Host memory for the pod: seed 002's Kubernetes sketch asks for 32Gi and 4 CPUs per GPU server
# (seeds/002_21eddd77bf1620ab.txt); weights llama.cpp keeps in CPU memory come on top.
K8S_BASE_MEMORY_GIB = 32
K8S_MIN_CPUS = 4
SHM_SIZE = "16Gi"  # /dev/shm for NCCL and the engines' worker processes (vLLM docker --shm-size=16G)
GGUF_FILE_LIMIT = 50e9  # Hugging Face stores files up to 50 GB: larger GGUFs come split in parts
# Share of system memory (--ram) that layers kept in CPU memory may take: the OS, the server process
# and page cache keep the rest (assumed, like the catalog's usable_memory_fraction of unified devices)
HOST_MEMORY_USABLE = 0.9
# vLLM / SGLang switch to Marlin kernels for AWQ/GPTQ from compute capability 8.0
MARLIN_MIN_CC = 8.0


@dataclass(frozen=True)
class Plan:
    """How to start one deployment: one shell snippet per node (node 0 first)."""

    engine: str  # engine id
    model: str  # model id
    estimate: Estimate
    commands: tuple[str, ...]  # per node; lines separated by "\n"
    env: tuple[tuple[str, str], ...] = ()  # environment for every node
    notes: tuple[str, ...] = ()
    kubernetes: str | None = None  # a Deployment manifest (single node only)
    gpu_layers: int | None = None  # llama.cpp -ngl
    offloaded: bool = False  # llama.cpp keeps some layers in CPU memory
    host_bytes: float = 0.0  # weights and KV cache those layers keep in CPU (system) memory

    @property
    def env_dict(self) -> dict[str, str]:
        return dict(self.env)


# ------------------------------------------------------------------ helpers

def _num(x: float) -> str:
    """A fraction for a flag: at most two decimals, rounded down (never more than the estimate used)."""
    return f"{math.floor(x * 100 + 1e-9) / 100:g}"


def _join(argv: list[str]) -> str:
    """A shell line; <placeholders> stay bare so they read as what to substitute."""
    return " ".join(a if re.search(r"<[^<>]+>", a) else shlex.quote(a) for a in argv)


def _native_fp8(entry: ModelEntry) -> bool:
    return bool(entry.weights_dtype and entry.weights_dtype.value.lower().startswith("fp8"))


def _cc(gpu: Gpu | None) -> float | None:
    try:
        return float(gpu.compute_capability) if gpu and gpu.compute_capability else None
    except ValueError:
        return None


def _repo(entry: ModelEntry, notes: list[str], path: str | None = None) -> str:
    if path:
        return path
    if entry.hf_repo:
        return entry.hf_repo
    if entry.status == "described":
        notes.append(f"{entry.id} is a variant the articles describe, with no released checkpoint: the plan "
                     f"is for a checkpoint of that shape, if you have one, at <checkpoint-of {entry.id}>")
    else:
        notes.append(f"the catalog names no Hugging Face repository for {entry.id}: put the path of its "
                     f"checkpoint for <checkpoint-of {entry.id}>")
    return f"<checkpoint-of {entry.id}>"


def _placeholder(kind: str, repo: str) -> str:
    return f"<{kind}-checkpoint-of {repo.strip('<>')}>"


def _gguf_name(entry: ModelEntry, quant: str) -> str:
    base = (entry.hf_repo or entry.name).rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-") or entry.id
    tag = {"bf16": "BF16", "fp16": "F16"}.get(quant, quant.upper())
    return f"<{base}-{tag}.gguf>"


# ------------------------------------------------------------------ per engine

def _vllm(entry, est: Estimate, gpu, fraction, notes, path=None) -> list[str]:
    """argv of `vllm serve`."""
    repo = _repo(entry, notes, path)
    model, extra = repo, []
    q = est.quant_id
    if q in ("bf16", "fp16"):
        extra += ["--dtype", "bfloat16" if q == "bf16" else "float16"]
    elif q in ("fp8", "fp8-marlin"):
        if not _native_fp8(entry):
            extra += ["--quantization", "fp8"]
            notes.append("--quantization fp8 quantizes the 16-bit checkpoint to fp8 while loading (dynamic scales)"
                         + ("; without fp8 tensor cores vLLM runs it through Marlin, weight-only"
                            if q == "fp8-marlin" else ""))
        elif q == "fp8-marlin":
            notes.append(f"{gpu.id if gpu else est.gpu_id} has no fp8 tensor cores: vLLM runs the fp8 checkpoint "
                         "through its Marlin kernel (weight-only) by itself")
    elif q in ("awq-int4", "gptq-int4"):
        kind = q.split("-")[0]
        model = _placeholder(kind.upper(), repo)
        cc = _cc(gpu)
        method = f"{kind}_marlin" if cc is not None and cc >= MARLIN_MIN_CC else kind
        extra += ["--quantization", method]
        article = "an" if kind == "awq" else "a"
        notes.append(f"serve {article} {kind.upper()} 4-bit (group 128) checkpoint of {repo}, not the original: "
                     f"substitute its repository or path for {model}")
        if cc is None:
            notes.append(f"compute capability of {est.gpu_id} unknown: --quantization {kind} (use {kind}_marlin "
                         "on compute capability 8.0 or newer)")
    elif q in ("int8", "int8-wo"):
        scheme = "W8A8" if q == "int8" else "W8A16"
        model = _placeholder(f"INT8-{scheme}", repo)
        notes.append(f"serve an INT8 {scheme} checkpoint of {repo} (compressed-tensors, as llm-compressor writes "
                     f"it): vLLM reads the scheme from its config; substitute it for {model}")
    if est.kv_dtype == "fp8-kv":
        extra += ["--kv-cache-dtype", "fp8"]
    argv = ["vllm", "serve", model, "--tensor-parallel-size", str(est.tp)]
    if est.pp > 1:
        argv += ["--pipeline-parallel-size", str(est.pp)]
    if est.ep:
        argv += ["--enable-expert-parallel"]
    if est.nodes > 1:
        argv += ["--distributed-executor-backend", "ray"]
    argv += ["--max-model-len", str(est.context), "--max-num-seqs", str(est.batch),
             "--gpu-memory-utilization", _num(fraction)] + extra
    argv += ["--host", "0.0.0.0", "--port", str(PORTS["vllm"])]
    return argv


def _sglang(entry, est: Estimate, gpu, fraction, notes, path=None) -> list[str]:
    repo = _repo(entry, notes, path)
    model, extra = repo, []
    q = est.quant_id
    if q in ("bf16", "fp16"):
        extra += ["--dtype", "bfloat16" if q == "bf16" else "float16"]
    elif q in ("fp8", "fp8-marlin"):
        if not _native_fp8(entry):
            extra += ["--quantization", "fp8"]
            notes.append("--quantization fp8 quantizes the 16-bit checkpoint to fp8 while loading")
        elif q == "fp8-marlin":
            notes.append("no fp8 tensor cores: SGLang runs the fp8 checkpoint through Marlin (weight-only) by itself")
    elif q in ("awq-int4", "gptq-int4"):
        kind = q.split("-")[0]
        model = _placeholder(kind.upper(), repo)
        cc = _cc(gpu)
        extra += ["--quantization", f"{kind}_marlin" if cc is not None and cc >= MARLIN_MIN_CC else kind]
        article = "an" if kind == "awq" else "a"
        notes.append(f"serve {article} {kind.upper()} 4-bit (group 128) checkpoint of {repo}, not the original: "
                     f"substitute its repository or path for {model}")
    elif q == "int8":
        model = _placeholder("INT8-W8A8", repo)
        notes.append(f"serve an INT8 W8A8 checkpoint of {repo} (compressed-tensors): SGLang reads the scheme from "
                     f"its config; substitute it for {model}")
    if est.kv_dtype == "fp8-kv":
        extra += ["--kv-cache-dtype", "fp8_e4m3"]
    argv = ["python", "-m", "sglang.launch_server", "--model-path", model, "--tp", str(est.tp)]
    if est.pp > 1:
        argv += ["--pp-size", str(est.pp)]
    if est.ep:
        argv += ["--ep-size", str(est.tp)]
    argv += ["--context-length", str(est.context), "--max-running-requests", str(est.batch),
             "--mem-fraction-static", _num(fraction)] + extra
    argv += ["--host", "0.0.0.0", "--port", str(PORTS["sglang"])]
    return argv


def _trtllm(entry, est: Estimate, fraction, notes, path=None) -> tuple[list[str], list[str]]:
    """argv of trtllm-serve and the shell lines that must run before it (the extra options file)."""
    repo = _repo(entry, notes, path)
    model = repo
    q = est.quant_id
    modelopt = {"fp8": "FP8", "int8": "INT8-SmoothQuant", "int8-wo": "INT8-weight-only",
                "awq-int4": "INT4-AWQ", "gptq-int4": "INT4-GPTQ"}
    if q in modelopt and not (q == "fp8" and _native_fp8(entry)):
        model = _placeholder(modelopt[q], repo)
        notes.append(f"TensorRT-LLM loads {q} from a pre-quantized checkpoint: quantize {repo} with NVIDIA "
                     f"TensorRT Model Optimizer (ModelOpt, {modelopt[q]}) and substitute it for {model}")
    before: list[str] = []
    argv = ["trtllm-serve", model, "--backend", "pytorch", "--tp_size", str(est.tp)]
    if est.pp > 1:
        argv += ["--pp_size", str(est.pp)]
    if est.ep:
        argv += ["--ep_size", str(est.tp)]
    argv += ["--max_seq_len", str(est.context), "--max_batch_size", str(est.batch),
             "--kv_cache_free_gpu_memory_fraction", _num(fraction)]
    if est.kv_dtype == "fp8-kv":
        before.append("printf 'kv_cache_config:\\n  dtype: fp8\\n' > extra-llm-api-options.yaml")
        argv += ["--extra_llm_api_options", "extra-llm-api-options.yaml"]
        notes.append("the fp8 KV cache is set in extra-llm-api-options.yaml (kv_cache_config.dtype: fp8); "
                     "trtllm-serve has no flag for it")
    argv += ["--host", "0.0.0.0", "--port", str(PORTS["tensorrt-llm"])]
    return argv, before


def _llamacpp_layers(arch: Architecture, est: Estimate, quant, notes) -> tuple[int, float]:
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
    wb = weight_bytes(p, quant)
    head_bits = 16 if "lm_head" in quant.kept_16bit else quant.bits_per_weight
    head = p.lm_head * head_bits / 8
    per_layer_w = max(0.0, wb.total - wb.embedding - head) / layers
    kv_total = m.kv_cache * est.pp  # each GPU holds 1/pp of the layers' KV
    per_layer = per_layer_w + kv_total / layers
    budget = est.gpus * (m.capacity - m.overhead - m.activations)
    n = max(0, min(layers, int(budget // per_layer))) if per_layer > 0 else layers
    on_gpu = n * per_layer
    notes.append(
        f"the whole model does not fit ({m.per_gpu / 1e9:.1f} GB per GPU needed, {m.usable / 1e9:.1f} GB usable): "
        f"-ngl {n} puts {n} of {layers} layers ({on_gpu / 1e9:.1f} GB of weights and KV cache) on the GPU"
        f"{'s' if est.gpus > 1 else ''} and keeps {layers - n} in CPU memory "
        f"({(layers - n) * per_layer_w / 1e9:.1f} GB of weights); the estimate's speeds assume every layer on "
        "the GPU, so decoding will be slower, bound by CPU memory bandwidth for the layers left behind")
    return n, (layers - n) * per_layer  # a layer in CPU memory keeps its KV cache there too


def _llamacpp(entry, est: Estimate, arch, quant, notes) -> tuple[list[str], int, float]:
    model = _gguf_name(entry, est.quant_id)
    notes.append(f"llama.cpp runs a GGUF file: {model} stands for the {est.quant_id.upper()} GGUF of "
                 f"{entry.hf_repo or entry.name} (convert with convert_hf_to_gguf.py and llama-quantize, or "
                 "download one); substitute its path")
    if est.memory.weights * est.gpus > GGUF_FILE_LIMIT:
        notes.append("a GGUF this large comes in parts (…-00001-of-000NN.gguf): give -m the first part")
    ngl, host_bytes = _llamacpp_layers(arch, est, quant, notes)
    argv = ["llama-server", "-m", model, "-c", str(est.context * est.batch), "-ngl", str(ngl),
            "-np", str(est.batch)]
    if est.batch > 1:
        notes.append(f"llama-server splits -c among its -np slots: -c {est.context * est.batch} gives each of "
                     f"the {est.batch} slots {est.context} tokens")
    if est.gpus > 1:
        argv += ["--split-mode", "layer"]
    kv = {"q8_0-kv": "q8_0", "q4_0-kv": "q4_0"}.get(est.kv_dtype)
    if kv:
        argv += ["--cache-type-k", kv, "--cache-type-v", kv, "-fa", "on"]
        notes.append("a quantized V cache needs flash attention: -fa on (current llama.cpp takes on|off|auto; "
                     "builds before 2025-08 take a bare -fa)")
    argv += ["--host", "0.0.0.0", "--port", str(PORTS["llama.cpp"])]
    return argv, ngl, host_bytes


# ------------------------------------------------------------------ kubernetes

def _k8s_name(model_id: str, engine: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", f"{model_id}-{engine}".lower()).strip("-")
    return name[:63].rstrip("-") or "dsadvisor"


def kubernetes_manifest(plan_engine: str, model_id: str, command: str, gpus: int, host_bytes: float,
                        env: dict[str, str]) -> str:
    """A single-node Deployment: the GPUs as nvidia.com/gpu limits, host memory, /dev/shm in memory."""
    import yaml

    name = _k8s_name(model_id, plan_engine)
    memory = f"{K8S_BASE_MEMORY_GIB + math.ceil(host_bytes / 2**30)}Gi"
    container: dict = {"name": "server", "image": IMAGES[plan_engine]}
    if plan_engine == "llama.cpp":  # the server-cuda image's entrypoint is llama-server: pass its arguments
        container["args"] = shlex.split(command.split("\n")[-1])[1:]
    else:
        container["command"] = ["/bin/sh", "-c"]
        container["args"] = [command.replace("\n", " && ")]
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    container["ports"] = [{"containerPort": PORTS[plan_engine]}]
    container["resources"] = {
        "limits": {"nvidia.com/gpu": gpus, "memory": memory},
        "requests": {"cpu": str(max(K8S_MIN_CPUS, 2 * gpus)), "memory": memory},
    }
    container["volumeMounts"] = [{"name": "dshm", "mountPath": "/dev/shm"}]
    doc = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [container],
                    "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": SHM_SIZE}}],
                },
            },
        },
    }
    return yaml.safe_dump(doc, sort_keys=False, width=10_000)


# ------------------------------------------------------------------ the plan

def launch_plan(catalog: Catalog, verdict_or_estimate: Verdict | Estimate, model_entry: ModelEntry, *,
                architecture: Architecture | None = None, gpu: Gpu | None = None,
                gpu_total_bytes: float | None = None, model_path: str | None = None,
                kubernetes: bool = False) -> Plan:
    """The commands that start ``verdict_or_estimate``'s deployment of ``model_entry``.

    ``architecture``: the shape the estimate used when it came from a local config.json.
    ``gpu``: the GPU (default: the catalog's entry for the estimate's gpu_id).
    ``gpu_total_bytes``: the card's whole memory when the estimate planned with detected free memory;
    vLLM's --gpu-memory-utilization is a fraction of the whole card, so it is rescaled.
    ``model_path``: a local checkpoint folder to serve instead of the catalog's Hugging Face repository
    (the folder of a --config config.json); quantized formats still name the checkpoint they need.
    ``kubernetes``: also write a Deployment manifest (single-node deployments only).

    A deployment that does not fit is refused, except with llama.cpp, which keeps the layers that do
    not fit in CPU memory (``-ngl`` below the layer count) and says so in the notes.
    """
    est = verdict_or_estimate.estimate if isinstance(verdict_or_estimate, Verdict) else verdict_or_estimate
    if est is None:
        raise InputError(f"{model_entry.id}: no deployment could be estimated, so there is nothing to launch")
    engine = catalog.engine(est.engine_id)
    quant = catalog.quantization(est.quant_id)
    gpu = gpu or catalog.gpus.get(est.gpu_id)
    arch = architecture or catalog.architecture(model_entry)
    if arch is None:
        arch = assumed_architecture(model_entry)[0]
    if engine.id == "transformers":
        raise InputError("transformers is a library, not a serving engine: no launch command; "
                         "plan with --engine vllm, sglang, tensorrt-llm or llama.cpp")
    if not est.memory.fits and engine.id != "llama.cpp":
        raise InputError(f"{est.model_id} does not fit: {est.memory.per_gpu / 1e9:.1f} GB per GPU needed, "
                         f"{est.memory.usable / 1e9:.1f} GB usable; {engine.name} cannot keep layers in CPU memory")

    notes: list[str] = []
    m = est.memory
    per_node = math.ceil(est.gpus / est.nodes)
    # which devices the engine sees: CUDA's variable on NVIDIA, ROCm's on AMD; Metal and CPUs have none
    visible = {"nvidia": "CUDA_VISIBLE_DEVICES", "amd": "HIP_VISIBLE_DEVICES"}.get(gpu.vendor if gpu else "")
    env = {visible: ",".join(str(i) for i in range(per_node))} if visible else {}
    fraction = (m.usable / m.capacity) if m.capacity else (engine.memory.default_fraction or 0.9)
    if engine.memory.policy == "fraction_of_free":
        fraction = engine.memory.default_fraction or 0.9
    elif gpu_total_bytes and gpu_total_bytes > m.capacity:
        notes.append(f"planned with the detected free memory ({m.capacity / 1e9:.1f} GB of "
                     f"{gpu_total_bytes / 1e9:.1f} GB): the memory fraction is of the whole card")
        fraction = m.usable / gpu_total_bytes
    gpu_layers, host_bytes = None, 0.0
    commands: list[str]
    worker_note = None

    if engine.id == "vllm":
        argv = _vllm(model_entry, est, gpu, fraction, notes, model_path)
        serve = _join(argv)
        if est.nodes > 1:
            commands = [f"ray start --head --port {RAY_PORT}\n{serve}"] + [
                f"ray start --address {HEAD}:{RAY_PORT}" for _ in range(1, est.nodes)]
            others = "node 1" if est.nodes == 2 else f"nodes 1-{est.nodes - 1}"
            worker_note = (f"start Ray on node 0, then join {others} (replace {HEAD} with node 0's "
                           f"address); run `vllm serve` on node 0 once `ray status` shows {est.gpus} GPUs. Every "
                           "node needs the same vLLM version and the model at the same path")
        else:
            commands = [serve]
    elif engine.id == "sglang":
        base = _sglang(model_entry, est, gpu, fraction, notes, model_path)
        if est.nodes > 1:
            commands = [_join(base + ["--nnodes", str(est.nodes), "--node-rank", str(i),
                                      "--dist-init-addr", f"{HEAD}:{SGLANG_DIST_PORT}"])
                        for i in range(est.nodes)]
            worker_note = (f"run each node's command (replace {HEAD} with node 0's address, port "
                           f"{SGLANG_DIST_PORT} open); node 0 serves HTTP")
        else:
            commands = [_join(base)]
    elif engine.id == "tensorrt-llm":
        argv, before = _trtllm(model_entry, est, fraction, notes, model_path)
        if est.nodes > 1:
            hosts = ",".join([f"{HEAD}:{per_node}"] + [f"<node-{i}-ip>:{per_node}" for i in range(1, est.nodes)])
            launch = ["mpirun", "-H", hosts, "-n", str(est.gpus), "trtllm-llmapi-launch"] + argv
            commands = ["\n".join(before + [_join(launch)])] + [
                "# nothing to run: mpirun on node 0 starts this node's ranks over SSH" for _ in range(1, est.nodes)]
            worker_note = ("mpirun on node 0 starts every rank (passwordless SSH between nodes, the same container "
                           "and model path on each; add --allow-run-as-root inside containers)")
        else:
            commands = ["\n".join(before + [_join(argv)])]
    elif engine.id == "llama.cpp":
        argv, gpu_layers, host_bytes = _llamacpp(model_entry, est, arch, quant, notes)
        commands = [_join(argv)]
    else:  # pragma: no cover - the catalog's engines are the ones above
        raise InputError(f"no launch plan for engine {engine.id}")

    if worker_note:
        notes.append(worker_note)
    notes.append(f"sized as estimated: context {est.context} tokens, {est.batch} concurrent "
                 f"sequence{'s' if est.batch > 1 else ''}, {est.gpus} x {est.gpu_id} (TP {est.tp}, PP {est.pp}"
                 f"{', EP' if est.ep else ''}{f', {est.nodes} nodes' if est.nodes > 1 else ''}); "
                 "raise the concurrency limit only with the memory to spare")

    manifest = None
    if kubernetes:
        if gpu is not None and gpu.vendor != "nvidia":
            notes.append(f"no Kubernetes manifest: its images and nvidia.com/gpu limits are NVIDIA's, "
                         f"and {gpu.id} is a{'n' if gpu.vendor[0] in 'aeiou' else ''} {gpu.vendor} device")
        elif est.nodes > 1:
            notes.append(f"no Kubernetes manifest: a Deployment's pod runs on one node and this needs {est.nodes}; "
                         "use LeaderWorkerSet (kubernetes-sigs/lws) or KubeRay")
        else:
            manifest = kubernetes_manifest(engine.id, model_entry.id, commands[0], est.gpus, host_bytes, {})
            notes.append(f"the manifest requests {K8S_BASE_MEMORY_GIB}Gi of host memory"
                         + (" plus the layers kept in CPU memory" if host_bytes else "")
                         + "; mount the model (a PersistentVolumeClaim or hostPath) where the command expects it")
    return Plan(engine=engine.id, model=model_entry.id, estimate=est, commands=tuple(commands),
                env=tuple(env.items()), notes=tuple(notes), kubernetes=manifest, gpu_layers=gpu_layers,
                offloaded=gpu_layers is not None and gpu_layers <= arch.num_hidden_layers, host_bytes=host_bytes)


def host_memory_shortfall(plan: Plan, ram_bytes: float | None) -> str | None:
    """Why the layers a plan keeps in CPU memory do not fit in ``ram_bytes`` of system memory, or None."""
    if ram_bytes is None or plan.host_bytes <= HOST_MEMORY_USABLE * ram_bytes:
        return None
    return (f"the layers llama.cpp keeps in CPU memory (-ngl {plan.gpu_layers}) need {plan.host_bytes / 1e9:.1f} GB "
            f"of weights and KV cache, over {HOST_MEMORY_USABLE:.0%} of the {ram_bytes / 1e9:.3g} GB of system "
            "memory (--ram, or this machine's with --gpu auto); "
            "more system memory, a lower-bit format or a shorter --context")
