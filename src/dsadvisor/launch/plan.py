"""From an estimate to a running deployment: the exact launch commands, per node, and a manifest.

``launch_plan(catalog, verdict_or_estimate, model_entry)`` turns the deployment the search chose
(engine, format, KV dtype, tensor / pipeline / expert parallel, nodes, context, batch, memory
fraction) into the commands that start it. Each engine writes its own command
(``dsadvisor.engines``: one module per engine, flag names as each engine documents them today).

Every number in a command comes from the estimate, so the engine is started with the budget the
estimate judged: the same context, concurrency and memory fraction. tests/test_plans.py keeps the
table of documented flag names each command is checked against.

People paste these commands into shells and Kubernetes, and their bytes come from catalogs,
config.json files and paths nobody here vetted: every argument is quoted with ``shlex.quote``,
placeholders included (a bare ``<head-ip>:6379`` is a shell redirection), and the manifest gives the
container its argv as a list, never as a string for ``sh -c`` (tests/test_plan_safety.py runs them).
"""

from __future__ import annotations

import math
import os
from dataclasses import replace

from dsadvisor.advice.check import check, model_entry
from dsadvisor.advice.rules import FITS, Constraints, Status
from dsadvisor.advice.search import Hardware, Verdict, judge
from dsadvisor.catalog.assumed import assumed_architecture
from dsadvisor.catalog.hardware import capacity_bytes
from dsadvisor.catalog.schema import Architecture, Artifact, Gpu, ModelEntry
from dsadvisor.catalog.store import Catalog
from dsadvisor.engines import serving_engine
from dsadvisor.engines.base import LaunchJob, NodeCommands, ServingEngine
from dsadvisor.errors import InputError, NoFitError
from dsadvisor.launch.kubernetes import (CACHE_HOST_PATH, HF_HOME, K8S_BASE_MEMORY_GIB, deployment_manifest,
                                        hf_download, k8s_escaped, leader_worker_set)
from dsadvisor.physics.estimate import Estimate
from dsadvisor.records import record

# Share of system memory (--ram) that layers kept in CPU memory may take: the OS, the server process
# and page cache keep the rest (assumed, like the catalog's usable_memory_fraction of unified devices)
HOST_MEMORY_USABLE = 0.9
# which devices the engine sees: CUDA's variable on NVIDIA, ROCm's on AMD; Metal and CPUs have none
VISIBLE_DEVICES = {"nvidia": "CUDA_VISIBLE_DEVICES", "amd": "HIP_VISIBLE_DEVICES"}


def _shared_bytes(gpu: Gpu | None) -> float | None:
    """All the memory of an NVIDIA GPU that shares it with the system (a Jetson, a DGX Spark: CUDA reports the
    whole of it, and an engine's memory fraction is of that); None for a discrete card, a CPU, an Apple chip, and
    an AMD APU (what ROCm reports there depends on the firmware's carve-out: not assumed)."""
    if gpu is None or not gpu.unified_memory or gpu.vendor != "nvidia" or gpu.category in ("cpu", "mobile"):
        return None
    return gpu.memory_gb * 2**30


@record(frozen=True)
class Plan:
    """How to start one deployment: one shell snippet per node (node 0 first)."""

    engine: str  # engine id
    model: str  # model id
    estimate: Estimate
    lines: tuple[tuple[str, ...], ...]  # per node: the shell lines to run there, in order, arguments quoted
    env: tuple[tuple[str, str], ...] = ()  # environment for every node
    notes: tuple[str, ...] = ()
    kubernetes: str | None = None  # a Deployment manifest (single node only)
    gpu_layers: int | None = None  # llama.cpp -ngl
    offloaded: bool = False  # llama.cpp keeps some layers in CPU memory
    host_bytes: float = 0.0  # weights and KV cache those layers keep in CPU (system) memory

    @property
    def env_dict(self) -> dict[str, str]:
        return dict(self.env)

    @property
    def commands(self) -> tuple[str, ...]:
        """One shell snippet per node, its lines joined by "\n" (a quoted argument may hold one too)."""
        return tuple("\n".join(node) for node in self.lines)


LocalModel = tuple[dict, dict] | tuple[()]  # a local checkpoint's hostPath volume and its mount, or none


def _local_model(server: list[str], model_path: str | None, notes: list[str]) -> tuple[list[str], LocalModel]:
    """``server`` with a local checkpoint folder (``--config``) made absolute, and the hostPath volume and the
    read-only mount that show the pod that folder at the same path; ``server`` and nothing when it names none."""
    if not model_path or model_path not in server:
        return server, ()
    path = os.path.abspath(model_path)
    notes.append(f"the manifest mounts the local checkpoint {path} from the node at the same path (hostPath, "
                 "read-only): it must be there on the node the pod runs on (copy it, or mount a PersistentVolumeClaim "
                 "holding it there)")
    return ([path if a == model_path else a for a in server],
            ({"name": "local-model", "hostPath": {"path": path, "type": "Directory"}},
             {"name": "local-model", "mountPath": path, "readOnly": True}))


def _fetch(engine: ServingEngine, server: list[str], nodes: NodeCommands, est: Estimate,
           repos: tuple[str | None, ...], size: int | None) -> tuple[tuple[str, ...], float]:
    """What fetches the checkpoint before the server's startup probe counts: the engine's own init container,
    else ``hf download`` of the catalog repository the server names when it reads the Hugging Face cache; and
    the bytes a server that downloads by itself fetches at its first start (its startup budget grows by them)."""
    if nodes.init:
        return nodes.init, 0.0
    if nodes.fetches_itself:  # the catalog's size of the file, else the weights the estimate holds
        return (), float(size or est.memory.weights * est.gpus + nodes.host_bytes)
    repo = next((a for a in server if a in repos), None) if not engine.cache_env else None
    return (hf_download(repo), 0.0) if repo else ((), 0.0)


# How a note names a class of device (the rest: "<category> GPUs", e.g. "datacenter GPUs"); not "cpu GPUs"
CATEGORY_WORDS = {"cpu": "CPUs", "apple": "Apple chips", "edge": "edge devices", "mobile": "mobile devices"}
# How a note names a GPU vendor (catalog Gpu.vendor), with its article
VENDOR_WORDS = {"amd": "an AMD", "intel": "an Intel", "apple": "an Apple", "qualcomm": "a Qualcomm",
                "broadcom": "a Broadcom", "nvidia": "an NVIDIA"}


def _manifest(engine: ServingEngine, model_id: str, est: Estimate, gpu: Gpu | None, nodes: NodeCommands,
              notes: list[str], model_path: str | None = None, repos: tuple[str | None, ...] = (),
              size: int | None = None) -> str | None:
    """The Deployment for a one-node NVIDIA plan, a LeaderWorkerSet over several nodes, or None and a note
    saying why not."""
    if gpu is not None and gpu.vendor != "nvidia":
        vendor = VENDOR_WORDS.get(gpu.vendor, "another vendor's")
        what = "a CPU" if gpu.category == "cpu" else f"{vendor} device"  # not "EPYC-9654 is an amd device"
        notes.append(f"no Kubernetes manifest: its images and nvidia.com/gpu limits are NVIDIA's, and {gpu.id} is "
                     f"{what}")
        return None
    cache = (f"the model cache is a hostPath folder ({CACHE_HOST_PATH}) mounted at HF_HOME={HF_HOME}: "
             "use a PersistentVolumeClaim there to share one download")
    if "<" in engine.image:  # a tag the user picks (TensorRT-LLM's NGC release): as written, InvalidImageName
        notes.append(f"replace the placeholder in the manifest's image {engine.image} with a release tag before "
                     "`kubectl apply`: Kubernetes refuses the image name as written (InvalidImageName)")
    if engine.release:
        notes.append(f"the manifest pins {engine.image}: {engine.name} {engine.release}, the release whose kernel "
                     "timings the estimate's speed figures come from; another release may differ in speed and memory")
    server, local = _local_model(nodes.server, model_path, notes)
    init, download = _fetch(engine, server, nodes, est, repos, size)
    if init and not nodes.init:
        notes.append(f"in the manifest an init container downloads {init[-1]} into the model cache (`hf download`, "
                     "huggingface_hub >= 0.34 in the image) before the server starts, so the server's startup probe "
                     "(an hour) only covers loading it")
    if est.nodes > 1:
        pods = engine.leader_worker(k8s_escaped(server), nodes.setup, est)
        if pods is None:
            notes.append(f"no Kubernetes manifest: {engine.name} has no way to start its {est.nodes} nodes "
                         "from a pod each")
            return None
        if local:
            pods = {**pods, "volumes": [*pods.get("volumes", ()), local[0]], "mounts": [*pods.get("mounts", ()), local[1]]}
        notes.append(f"the manifest is a LeaderWorkerSet (install its controller, kubernetes-sigs/lws) of "
                     f"{est.nodes} pods, one per node, and a Service on the leader; {cache}")
        if pods.get("note"):
            notes.append(pods["note"])
        return leader_worker_set(engine, model_id, pods, est.nodes, math.ceil(est.gpus / est.nodes), {}, init)
    notes.append(f"the manifest requests {K8S_BASE_MEMORY_GIB}Gi of host memory"
                 + (" plus the layers kept in CPU memory" if nodes.host_bytes else "") + f"; {cache}")
    if nodes.k8s_note:
        notes.append(nodes.k8s_note)
    return deployment_manifest(engine, model_id, server, est.gpus, nodes.host_bytes, dict(nodes.env),
                               nodes.setup, init, local, download)


def launch_plan(catalog: Catalog, verdict_or_estimate: Verdict | Estimate, model_entry: ModelEntry, *,
                architecture: Architecture | None = None, gpu: Gpu | None = None,
                gpu_total_bytes: float | None = None, model_path: str | None = None,
                kubernetes: bool = False, token_budget: int | None = None) -> Plan:
    """The commands that start ``verdict_or_estimate``'s deployment of ``model_entry``.

    ``architecture``: the shape the estimate used when it came from a local config.json.
    ``gpu``: the GPU (default: the catalog's entry for the estimate's gpu_id).
    ``gpu_total_bytes``: the card's whole memory when the estimate planned with detected free memory;
    vLLM's --gpu-memory-utilization is a fraction of the whole card, so it is rescaled.
    ``model_path``: a local checkpoint folder to serve instead of the catalog's Hugging Face repository
    (the folder of a --config config.json); quantized formats still name the checkpoint they need.
    ``kubernetes``: also write a Deployment manifest (single-node deployments only).
    ``token_budget``: prompt tokens per scheduler iteration to pin when several requests run at once
    (default: the engine's budget in :mod:`dsadvisor.serving.scheduler`, the one the server model assumes).

    A deployment that does not fit is refused, except with llama.cpp, which keeps the layers that do
    not fit in CPU memory (``-ngl`` below the layer count) and says so in the notes.
    """
    est = verdict_or_estimate.estimate if isinstance(verdict_or_estimate, Verdict) else verdict_or_estimate
    if est is None:
        raise InputError(f"{model_entry.id}: no deployment could be estimated, so there is nothing to launch")
    engine = serving_engine(catalog.engine(est.engine_id))
    gpu = gpu or catalog.gpus.get(est.gpu_id)
    arch = architecture or catalog.architecture(model_entry) or assumed_architecture(model_entry)[0]
    if not engine.launches:
        engine.server_argv(LaunchJob(model_entry, est, arch, catalog.quantization(est.quant_id), gpu, 0.0), [])
    if not est.memory.fits and not engine.offloads:
        raise InputError(f"{est.model_id} does not fit: {est.memory.per_gpu / 1e9:.1f} GB per GPU needed, "
                         f"{est.memory.usable / 1e9:.1f} GB usable; {engine.name} cannot keep layers in CPU memory")
    notes: list[str] = []
    per_node = math.ceil(est.gpus / est.nodes)
    # a CPU (an AMD EPYC is vendor amd) or a phone has no device list to narrow
    visible = VISIBLE_DEVICES.get(gpu.vendor) if gpu and gpu.category not in ("cpu", "mobile") else None
    env = {visible: ",".join(str(i) for i in range(per_node))} if visible else {}
    artifact = (verdict_or_estimate.artifact if isinstance(verdict_or_estimate, Verdict)
                else catalog.artifact(model_entry.id, est.quant_id, engine.spec.id))
    if token_budget is None:
        from dsadvisor.serving.scheduler import scheduler_for

        # the budget the server model assumed (SGLang's default by GPU memory: 16384 on B200-class GPUs)
        token_budget = scheduler_for(engine.spec.id, gpu.memory_gb if gpu else None).token_budget
    job = LaunchJob(model_entry, est, arch, catalog.quantization(est.quant_id), gpu,
                    engine.memory_fraction(est.memory, gpu_total_bytes, notes, _shared_bytes(gpu)), model_path,
                    artifact, token_budget)
    nodes = engine.nodes(job, notes)
    if nodes.worker_note:
        notes.append(nodes.worker_note)
    notes.append(sized_note(est))
    manifest = _manifest(engine, model_entry.id, est, gpu, nodes, notes, model_path,
                         (model_entry.hf_repo, artifact.repo if artifact else None),
                         artifact.size_bytes if artifact else None) if kubernetes else None
    return Plan(engine=engine.spec.id, model=model_entry.id, estimate=est, lines=tuple(nodes.lines),
                env=tuple(env.items()), notes=tuple(notes), kubernetes=manifest, gpu_layers=nodes.gpu_layers,
                offloaded=nodes.gpu_layers is not None and nodes.gpu_layers <= arch.num_hidden_layers,
                host_bytes=nodes.host_bytes)


def sized_note(est: Estimate) -> str:
    """What the commands were sized for: the context, the concurrency and the layout."""
    dp = est.dp_attention
    ranks = f" ({-(-est.batch // dp)} per data-parallel attention rank)" if dp > 1 else ""
    return (f"sized as estimated: context {est.context} tokens, {est.batch} concurrent "
            f"sequence{'s' if est.batch > 1 else ''}{ranks}, {est.gpus} x {est.gpu_id} (TP {est.tp}, PP {est.pp}"
            f"{', EP' if est.ep else ''}{f', DP attention {dp}' if dp > 1 else ''}"
            f"{f', {est.nodes} nodes' if est.nodes > 1 else ''}), each at full length in the KV cache; raise the "
            "concurrency limit only with the memory to spare")


def host_memory_shortfall(plan: Plan, ram_bytes: float | None) -> str | None:
    """Why the layers a plan keeps in CPU memory do not fit in ``ram_bytes`` of system memory, or None."""
    if ram_bytes is None or plan.host_bytes <= HOST_MEMORY_USABLE * ram_bytes:
        return None
    return (f"the layers llama.cpp keeps in CPU memory (-ngl {plan.gpu_layers}) need {plan.host_bytes / 1e9:.1f} GB "
            f"of weights and KV cache, over {HOST_MEMORY_USABLE:.0%} of the {ram_bytes / 1e9:.3g} GB of system "
            "memory (--ram, or this machine's with --gpu auto); "
            "more system memory, a lower-bit format or a shorter --context")


# ------------------------------------------------------------------ the library's plan

PLAN_CONSTRAINTS = Constraints(allow_unknown=True, layout_search=False)  # memory and support; no speed limits


def plan(catalog: Catalog, model: str | ModelEntry, hardware: Hardware, constraints: Constraints | None = None, *,
         offload: bool = False, kubernetes: bool = False, model_path: str | None = None,
         concurrency: int | None = None, exact_concurrency: bool = False,
         artifact: Artifact | None = None) -> Plan:
    """The commands that start the deployment :func:`~dsadvisor.advice.check.check` picks for ``model``,
    sized to serve ``concurrency`` requests at once.

    ``concurrency``: requests in flight (default: ``constraints.batch`` when above 1, else
    :func:`~dsadvisor.serving.workload.default_concurrency` of the GPU's category, said in the notes).
    When no deployment's KV cache holds that many sequences at full length, the plan keeps the weight
    format that serves one request best and serves the most its KV cache holds, and says so;
    ``exact_concurrency`` raises :class:`~dsadvisor.errors.NoFitError` naming that number instead. ``offload``: when nothing fits, llama.cpp with the layers that do not fit kept
    in CPU memory, which must fit in ``hardware.host_bytes`` (90% of it) when that is known.
    ``model_path``: a local checkpoint folder to serve. ``artifact``: the checkpoint the user named (an
    Ollama tag), served when the chosen deployment is in its engine and format. Raises
    :class:`~dsadvisor.errors.NoFitError` when no deployment passes.
    """
    catalog, entry = model_entry(catalog, model)
    if entry.status == "described" and model_path is None:  # check and estimate size it; nothing to serve
        raise NoFitError(f"{entry.id} is a variant the articles describe: no public weights exist to serve; "
                         "`check` and `estimate` size it, or plan a released model (`dsadvisor models "
                         "--released-only`)")
    _require_a_server(catalog, entry)
    # the engine's default layout unless pinned: plan has no latency limits to search under, so recommend
    # and check name the pins (--tp/--dp-attention/--mtp) that start the layout they chose
    k = replace(constraints or PLAN_CONSTRAINTS, layout_search=False)
    hardware = pinned_gpus(hardware, k)
    _formats_run_here(catalog, hardware, k)
    first: list[str] = []
    if concurrency is None and k.batch > 1:
        concurrency = k.batch
    if concurrency is None:
        from dsadvisor.serving.workload import default_concurrency

        concurrency = default_concurrency(hardware.gpu.category)
        first.append(f"serves {concurrency} concurrent request{'s' if concurrency > 1 else ''}: the default for "
                     f"{CATEGORY_WORDS.get(hardware.gpu.category, hardware.gpu.category + ' GPUs')} "
                     "(--concurrency N to size it for your users)")
    verdict, fewer = sized_verdict(catalog, entry, hardware, replace(k, batch=concurrency), offload=offload,
                                   exact_concurrency=exact_concurrency)
    if first and concurrency > 1 and verdict.estimate is not None and verdict.estimate.cpu_moe_layers:
        # routed experts read from system memory: more sequences read more of them each step (a step of 32
        # reads most), so the datacenter default would crawl; one user is what such a box serves
        concurrency = 1
        verdict, fewer = sized_verdict(catalog, entry, hardware, replace(k, batch=1), offload=offload)
        first = ["serves 1 request at a time: its routed experts are read from system memory, and each further "
                 "sequence reads more of them a step (--concurrency N to size it for more)"]
    first += [fewer] if fewer else []
    est = verdict.estimate
    if artifact is not None and est is not None and est.engine_id in artifact.engines \
            and est.quant_id == artifact.format:
        verdict = replace(verdict, artifact=artifact)  # the tag the user named, not another of the same weights
    total = capacity_bytes(hardware.gpu) if hardware.free_bytes is not None else None
    p = launch_plan(catalog, verdict, entry, gpu=hardware.gpu, gpu_total_bytes=total, model_path=model_path,
                    kubernetes=kubernetes)
    short = host_memory_shortfall(p, None if hardware.gpu.unified_memory else hardware.host_bytes)
    if short:
        raise NoFitError(f"no deployment of {entry.id} fits: {short}", verdict)
    return replace(p, notes=tuple(first) + p.notes)


def _require_a_server(catalog: Catalog, entry: ModelEntry) -> None:
    """NoFitError (exit 1) when no engine of the catalog that starts a server has a model class for ``entry``
    (``cannot_load``: DeepSeek-VL 7B). Before, its plan fell to llama.cpp with a "convert it yourself" GGUF that
    llama.cpp's converter cannot make."""
    engines = [serving_engine(e) for e in catalog.engines.values()]
    servers = [e for e in engines if e.launches]
    if not servers or any(e.cannot_load(entry) is None for e in servers):
        return
    library = [e.name for e in engines if not e.launches and e.cannot_load(entry) is None]
    names = [e.name for e in servers]
    raise NoFitError(f"no engine in the catalog can serve {entry.id}: {', '.join(names[:-1])} and {names[-1]} have "
                     "no model class for its checkpoint (cannot_load in catalog/engines/engines.yaml says why, "
                     "engine by engine)"
                     + (f"; {' and '.join(library)} loads it as a Python library, not a server" if library else ""))


def _formats_run_here(catalog: Catalog, hardware: Hardware, k: Constraints) -> None:
    """Each --quant asked for must run on this hardware in some engine asked for (bad input, exit 2)."""
    from dsadvisor.advice.search import DEFAULT_ENGINES
    from dsadvisor.engines import require_runnable_format

    for name in k.quants:
        require_runnable_format(catalog, hardware.gpu, catalog.quantization(name), k.engines or DEFAULT_ENGINES)


def pinned_gpus(hardware: Hardware, k: Constraints) -> Hardware:
    """``hardware`` with exactly the GPUs a pinned ``--tp`` x ``--pp`` takes (an InputError if it has fewer)."""
    if k.tp is None:
        return hardware
    need = k.tp * (k.pp or 1)
    if need > hardware.max_gpus:
        raise InputError(f"--tp {k.tp} x --pp {k.pp or 1} is {need} GPUs, more than --gpus {hardware.max_gpus}")
    return replace(hardware, max_gpus=need, exact=True)


def sized_verdict(catalog: Catalog, entry: ModelEntry, hardware: Hardware, k: Constraints, *, offload: bool = False,
                  exact_concurrency: bool = False) -> tuple[Verdict, str | None]:
    """The verdict serving ``k.batch`` requests at once, or, when none does, the one serving the most
    sequences a KV cache holds on all the GPUs, with a note saying so (a NoFitError naming that number
    with ``exact_concurrency``); when not even one request fits, the first NoFitError."""
    try:
        return choose(catalog, entry, hardware, k, offload=offload), None
    except NoFitError as exc:
        miss = exc.verdict
        if k.batch == 1 or not isinstance(miss, Verdict):
            raise
        most = largest_concurrency(catalog, entry, hardware, k)
        if most is None:
            raise
        n, verdict = most
        e = verdict.estimate
        where = f"{e.gpus} x {e.gpu_id}" if e else hardware.gpu.id
        held = (f"the KV cache of {where} holds {n} of the {k.batch} sequences of {e.context if e else '?'} "
                "tokens at full length")
        hint = ", ".join([*(["fp8 KV (--kv-dtype fp8)"] if e and e.kv_dtype != "fp8-kv" else []),
                          *(["data-parallel attention (--dp-attention)"] if e and e.dp_attention == 1
                            and _moe(catalog, entry) else []),
                          *(["a smaller --quant"] if not k.quants else []),
                          "a shorter --context or more GPUs"])
        if exact_concurrency:
            raise NoFitError(f"no deployment of {entry.id} serves {k.batch} concurrent requests: {held}; "
                             f"--concurrency {n} fits, or {hint}", verdict) from None
        return verdict, (f"serves {n} concurrent requests, not the {k.batch} asked: {held}; the rest wait for a "
                         f"slot (--exact-concurrency refuses instead; {hint} hold more)")


def _moe(catalog: Catalog, entry: ModelEntry) -> bool:
    arch = catalog.architecture(entry) or assumed_architecture(entry)[0]
    return arch.is_moe


def largest_concurrency(catalog: Catalog, entry: ModelEntry, hardware: Hardware,
                        k: Constraints) -> tuple[int, Verdict] | None:
    """The most requests below ``k.batch`` a passing deployment on all of ``hardware``'s GPUs serves
    (each at full length in the KV cache), in the weight format that serves one request best (unless
    ``k.quants`` names formats), and its verdict; None when not even one fits."""
    whole = replace(hardware, exact=True)

    def passing(n: int) -> Verdict | None:
        for hw in (whole, hardware):
            try:
                return choose(catalog, entry, hw, replace(k, batch=n))
            except NoFitError:
                continue
        return None

    one = passing(1)
    if one is None or one.estimate is None:
        return None
    if not k.quants and one.deployment is not None:
        # keep the format the ranking picks for one request (its quality weighed) and serve what its KV cache
        # holds: practitioners size the concurrency to a format, not drop to a lossier one (a 7B on a T4: Q5_K_M
        # for 22 users, not Q2_K, 33 % worse on its benchmarks, for 28)
        k = replace(k, quants=(one.deployment.quant.id,))
    e = one.estimate
    guess = max(1, min(k.batch - 1, e.memory.kv_capacity_tokens // max(1, e.context)))
    best, lo, hi = (1, one), 2, k.batch - 1
    probes = [guess, guess + 1]  # what the KV cache left at one sequence holds, and one more; then bisection
    while lo <= hi:  # passing() is monotone in n
        mid = probes.pop(0) if probes else (lo + hi) // 2
        if not lo <= mid <= hi:
            continue
        v = passing(mid)
        if v is not None:
            best, lo = (mid, v), mid + 1
        else:
            hi = mid - 1
    return best


def choose(catalog: Catalog, entry: ModelEntry, hardware: Hardware, k: Constraints, *,
           offload: bool = False) -> Verdict:
    """The passing verdict a plan launches: check's; with ``offload``, when none passes, the closest miss
    of an engine that keeps layers in CPU memory, judged again with that allowed (its memory rule reads
    passed, and says why). Raises :class:`~dsadvisor.errors.NoFitError` with the reason otherwise."""
    verdict = check(catalog, entry, hardware, k)
    if not verdict.passed and offload:
        kept = _offloaded(catalog, entry, hardware, k)
        verdict = kept if kept is not None and kept.passed else verdict
    if verdict.passed:
        return verdict
    why = verdict.failed or tuple(r for r in verdict.results if r.status is Status.unknown)
    reason = f"{why[0].rule} {why[0].message}" if why else "; ".join(verdict.notes) or "no deployment passes"
    hint = (" (--offload: llama.cpp with some layers in CPU memory)"
            if why and why[0].rule == FITS.id and not offload else "")
    raise NoFitError(f"no deployment of {entry.id} fits: {reason}{hint}", verdict)


def _offloaded(catalog: Catalog, entry: ModelEntry, hardware: Hardware, k: Constraints) -> Verdict | None:
    engines = [e for e in catalog.engines.values() if serving_engine(e).offloads]
    if k.engines:
        asked = {catalog.engine(e).id for e in k.engines}
        if not [e for e in engines if e.id in asked]:
            raise InputError(f"--offload keeps layers in CPU memory with {', '.join(e.id for e in engines)}; "
                             "--engine leaves it out")
        engines = [e for e in engines if e.id in asked]
    k = replace(k, engines=tuple(e.id for e in engines))
    miss = check(catalog, entry, hardware, k)
    if miss.estimate is None:
        return None
    return judge(catalog, miss, replace(hardware, offload=True), k)
