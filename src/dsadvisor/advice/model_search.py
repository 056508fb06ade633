"""One model's search on one kind of hardware: its best passing deployment, or its closest miss.

Each option (``advice.options``) is tried at each GPU count, 16-bit KV first, then fp8 KV; a deployment
that misses only memory or speed rules is searched for a layout that passes (``advice.layouts``), and routed
experts may stay in system memory where the user gave it. Branch and bound skips what cannot win; the misses
are kept in the order tried (``_Misses``), those the support matrix rules out estimated only if they matter.
Each deployment is scored and judged by the rules (``_verdict_at``); ``judge`` judges a verdict again on other
hardware or constraints (``plan --offload``).

Layer 5 (advice), read after ``advice.options``: ``advice.search.recommend`` runs it for every model.
"""

from __future__ import annotations

from collections.abc import Callable

from dsadvisor.advice.layouts import Limits, best_layout, could_fit, limits_of, searches
from dsadvisor.advice.layouts import served as serve_memo
from dsadvisor.advice.options import Option, candidate_formats, gpu_counts, options
from dsadvisor.advice.rules import LAYOUT_RULES, Candidate, Constraints, Status, run_rules
from dsadvisor.advice.scoring import SCORE_TIE, WEIGHTS, Credits, score
from dsadvisor.advice.summaries import summarize
from dsadvisor.advice.verdicts import Hardware, Skipped, Verdict, closeness, total
from dsadvisor.catalog.assumed import assumed_architecture
from dsadvisor.catalog.hardware import capacity_bytes
from dsadvisor.catalog.schema import Architecture, Engine, Gpu, ModelEntry, QuantFormat
from dsadvisor.catalog.store import Catalog
from dsadvisor.engines import serving_engine  # at the top: the search asks for engines about 4,600 times a run
from dsadvisor.errors import DsAdvisorError, InputError
from dsadvisor.kept import kept_by_identity
from dsadvisor.physics.estimate import Deployment, Estimate, estimate, offload_experts, pin_layout
from dsadvisor.physics.memory import weight_bytes
from dsadvisor.physics.offload import HOST_CPU, layer_expert_bytes
from dsadvisor.physics.params import count_params, moe_layer_count
from dsadvisor.records import replace
from dsadvisor.serving.server import Serving


def evaluate_model(catalog: Catalog, model: ModelEntry, hw: Hardware, k: Constraints,
                   ranges: dict[str, tuple[float, float]], engines: list, credits: Credits | None = None) -> Verdict:
    """The best passing deployment of one model on this hardware, or its closest miss.

    Options are tried best tier first (``tier``: a known loss, then a checkpoint that exists), least
    lossy next; a lower tier never beats a higher one, and within a tier, branch and bound: an option
    or GPU count whose best possible score cannot beat the best pass so far is skipped unestimated.
    """
    summary = summarize(catalog, model)
    arch = _shape(catalog, model)
    if arch is None:
        return _not_estimable(catalog, model, hw, k, engines, summary.params_total)
    max_ctx = arch.max_position_embeddings
    params = count_params(arch)
    capacity = hw.free_bytes if hw.free_bytes is not None else capacity_bytes(hw.gpu)
    wq, ws, wh, wg = WEIGHTS[k.prefer]
    best_pass: Verdict | None = None
    skipped = None  # the smallest deployment skipped for its weights: (bytes per GPU, how to build it)
    fallback: Verdict | None = None  # the best layer split over datacenter GPUs (``_layer_split``)
    misses = _Misses(lambda opt, n: _try(catalog, model, hw, k, opt, n, summary.params_total, max_ctx))
    for opt in options(catalog, model, hw, k, ranges, engines, credits):
        if best_pass is not None and opt.tier < best_pass.tier:
            break  # a lower tier never wins, and every option after this one is of a lower tier still
        if best_pass is not None and _quant_id(best_pass) == opt.fmt.id:
            continue  # an earlier (preferred) engine already runs this format
        full: float | None = weight_bytes(params, opt.fmt, arch).total if params else None
        # on all the GPUs given, the routed experts may stay in system memory: only the rest must fit there
        movable = (moe_layer_count(arch) * layer_expert_bytes(arch, opt.fmt)
                   if full is not None and _moves_experts(hw, opt.eng, arch) else 0.0)
        ruled_out = _ruled_out(hw, opt)
        for n in ([hw.max_gpus] if hw.exact else gpu_counts(hw.max_gpus)):
            bound = wq * opt.q[0] + ws + wh + wg / n
            if best_pass is not None and bound <= total(best_pass) + SCORE_TIE:
                break  # neither more GPUs nor this option can beat the best so far
            whole = full - (movable if n == hw.max_gpus else 0.0) if full is not None else None
            if whole is not None and whole / n > capacity and misses.found():
                if skipped is None or whole / n < skipped[0]:
                    skipped = (whole / n, opt, n)
                continue  # the weights alone overflow: estimated only if it is the closest miss
            if ruled_out:  # a miss whatever its estimate says: estimated only if it could be the closest
                misses.defer(opt, n)
                continue
            v = _try(catalog, model, hw, k, opt, n, summary.params_total, max_ctx)
            if isinstance(v, Verdict) and v.passed and _layer_split(catalog, v, hw):  # only if nothing else passes
                fallback = v if fallback is None or total(v) > total(fallback) else fallback
                break
            if isinstance(v, Verdict) and v.passed:
                if best_pass is None or v.tier > best_pass.tier or total(v) > total(best_pass) + SCORE_TIE:
                    best_pass = v
                break  # more GPUs for the same format and engine only cost efficiency
            misses.add(v)
    best_pass = best_pass or fallback  # a layer split only when nothing else passed
    if best_pass is not None:
        return best_pass
    closest = misses.closest()
    if skipped is not None and closest is not None and closest.estimate is not None \
            and skipped[0] < closest.estimate.memory.weights:
        v = _try(catalog, model, hw, k, skipped[1], skipped[2], summary.params_total, max_ctx)
        closest = v if isinstance(v, Verdict) else closest
    return closest or _not_estimable(catalog, model, hw, k, engines, summary.params_total, misses.unbuilt(), max_ctx)


def _ruled_out(hw: Hardware, opt: Option) -> bool:
    """Whether the engine's support matrix rules the format out on this hardware whatever the model's
    attention and KV cache (each only adds limits): rule DSA004 fails every deployment of the option."""
    return _rules_out(hw.gpu, opt.fmt, opt.eng)


# the same for every model: kept by GPU, format and engine (the matrix's own memo keys by value, dearer to build)
@kept_by_identity(1024)
def _rules_out(gpu: Gpu, fmt: QuantFormat, eng: Engine) -> bool:
    return serving_engine(eng).unsupported(gpu, fmt) is not None


class _Misses:
    """A model's misses in the order they were tried: the closest (``closeness``, the first of equals)
    and the first deployment that could not be built.

    A deployment the support matrix rules out (``_ruled_out``) always ranks below a miss of an engine
    that runs here, so it is estimated only when it could matter: when no other miss exists, or when
    the search asks whether any miss exists yet (``found``). Estimated later, it keeps its place in the
    order. On a CPU half of recommend's tries were vLLM, SGLang and TensorRT-LLM, which need a GPU."""

    def __init__(self, attempt: Callable[[Option, int], "Verdict | Skipped"]):
        self._attempt = attempt
        self._tried = 0  # deployments handed in so far: their place in the order settles ties
        self._closest: tuple[int, Verdict] | None = None
        self._unbuilt: tuple[int, Skipped] | None = None
        self._later: list[tuple[int, Option, int]] = []  # ruled out, not estimated yet

    def add(self, v: "Verdict | Skipped") -> None:
        """A deployment estimated as it came: a miss, or one that could not be built."""
        self._take(self._tried, v)
        self._tried += 1

    def defer(self, opt: Option, n: int) -> None:
        """A deployment ruled out on this hardware: its place now, its estimate when needed."""
        self._later.append((self._tried, opt, n))
        self._tried += 1

    def found(self) -> bool:
        """Whether any deployment tried so far was a miss (not unbuilt)."""
        if self._closest is None:
            self._estimate_later(until_a_miss=True)
        return self._closest is not None

    def closest(self) -> Verdict | None:
        """The closest miss of all (ruled-out ones are estimated only if no miss of an engine that runs
        here was found: those always rank above them)."""
        if self._closest is None or not closeness(self._closest[1])[0]:
            self._estimate_later(until_a_miss=False)
        return self._closest[1] if self._closest else None

    def unbuilt(self) -> Skipped | None:
        """The first deployment, in the order tried, that could not be built."""
        self._estimate_later(until_a_miss=False)
        return self._unbuilt[1] if self._unbuilt else None

    def _estimate_later(self, until_a_miss: bool) -> None:
        """Estimate the deferred deployments in order: all of them, or until one is a miss."""
        while self._later:
            at, opt, n = self._later.pop(0)
            v = self._attempt(opt, n)
            self._take(at, v)
            if until_a_miss and isinstance(v, Verdict):
                return

    def _take(self, at: int, v: "Verdict | Skipped") -> None:
        if isinstance(v, Skipped):
            if self._unbuilt is None or at < self._unbuilt[0]:
                self._unbuilt = (at, v)
            return
        if self._closest is None:
            self._closest = (at, v)
            return
        mine, held = closeness(v), closeness(self._closest[1])
        if mine > held or (mine == held and at < self._closest[0]):
            self._closest = (at, v)


def _quant_id(v: Verdict) -> str | None:
    return v.estimate.quant_id if v.estimate is not None else None


def _layer_split(catalog: Catalog, v: Verdict, hw: Hardware) -> bool:
    """A deployment split layer by layer over several datacenter GPUs by an engine without tensor
    parallelism (llama.cpp --split-mode layer): one GPU works at a time, one request at a time. Where
    vLLM, SGLang or TensorRT-LLM can serve the model it is no advice (docs/guide.md: the engines' own
    DeepSeek recipes serve tensor parallel), so it is kept only for when nothing else passes."""
    e = v.estimate
    return (e is not None and e.gpus > 1 and hw.gpu.category == "datacenter"
            and not catalog.engine(e.engine_id).tensor_parallel)


def _unrunnable(catalog: Catalog, model: ModelEntry, hw: Hardware, k: Constraints,
                engines: list[Engine]) -> Skipped | None:
    """The first format asked for that no engine asked for runs, with the first engine's reason."""
    for fmt in candidate_formats(catalog, hw.gpu, k, model):
        if not any(fmt.id in e.formats for e in engines):
            eng = engines[0]
            return Skipped(fmt, eng, hw.max_gpus, f"{eng.name} does not run {fmt.id} weights "
                                                  f"(it runs {', '.join(eng.formats)})")
    return None


def _not_estimable(catalog: Catalog, model: ModelEntry, hw: Hardware, k: Constraints, engines: list[Engine],
                   params_total: float | None, unbuilt: Skipped | None = None,
                   max_ctx: int | None = None) -> Verdict:
    """A verdict that says, through the rules, why no deployment could be estimated: the first one that
    could not be built and the engine's reason, or (a model with no shape) the first one the search would try."""
    unbuilt = unbuilt or (_unrunnable(catalog, model, hw, k, engines) if max_ctx is not None else None)
    if unbuilt is None:
        fmts = candidate_formats(catalog, hw.gpu, k, model) or list(catalog.quantizations.values())
        eng = next((e for e in engines if fmts[0].id in e.formats), engines[0])
        cand = Candidate(model, hw.gpu, fmts[0], eng, None, k, params_total=params_total, max_context=max_ctx)
    else:
        cand = Candidate(model, hw.gpu, unbuilt.quant, unbuilt.engine, None, k, params_total=params_total,
                         max_context=max_ctx, skip_reason=unbuilt.skip_reason)
    return Verdict(model, False, None, run_rules(cand), None, notes=("no deployment could be estimated",))


def _try(catalog: Catalog, model: ModelEntry, hw: Hardware, k: Constraints, opt: Option, n: int,
         params_total: float | None, max_ctx: int | None) -> Verdict | Skipped:
    """One format x engine x GPU count: 16-bit KV first, then the engine's fp8 KV if that fails.
    When no KV dtype can be built, the first one's reason."""
    fmt, eng = opt.fmt, opt.eng
    if k.tp is not None and n != k.tp * (k.pp or 1):
        return Skipped(fmt, eng, n, f"--tp {k.tp} x --pp {k.pp or 1} is not {n} GPUs")
    kvs = k.kv_dtypes or (("auto", "fp8-kv") if "fp8-kv" in eng.kv_dtypes else ("auto",))
    miss: Verdict | None = None
    reason: str | None = None
    for kv in kvs:
        dep = Deployment.of(catalog, model=model, gpu=hw.gpu, quant=fmt, engine=eng, kv_dtype=kv, gpus=n,
                            context=k.context, prompt_tokens=k.prompt_tokens, batch=k.batch,
                            gpus_per_node=hw.gpus_per_node, capacity_bytes=hw.free_bytes)
        if k.pinned:  # checked when estimated: a layout the engine or the GPU count cannot run is skipped
            dep = pin_layout(dep, tp=k.tp, pp=k.pp, ep=k.ep, dp_attention=k.dp_attention, mtp=k.mtp)
        try:
            est = estimate(dep)
            # experts leave the GPUs only once all the GPUs given cannot hold them
            if not est.memory.fits and n == hw.max_gpus and _moves_experts(hw, eng, dep.architecture):
                dep, est = offload_experts(dep, est, _host_cpu(catalog), hw.host_bytes or 0.0) or (dep, est)
            served = serve_memo(catalog, dep, est)
        except DsAdvisorError as exc:
            reason = reason or str(exc)
            continue
        if est.dp_attention > 1 and _layout_problem(eng, est):  # the engine's own limits on the layout
            reason = reason or _layout_problem(eng, est)
            continue
        v = _verdict_at(hw, k, opt, params_total, max_ctx, model, dep, est, served)
        if not v.passed and _layout_may_fix(v) and searches(hw.gpu, dep, k.batch, search_limits(k)):
            other = _searched(catalog, hw, k, opt, params_total, max_ctx, model, dep)
            v = other if other is not None and (other.passed or closeness(other) > closeness(v)) else v
        if v.passed:
            return v
        if miss is None or closeness(v) > closeness(miss):
            miss = v
    return miss if miss is not None else Skipped(fmt, eng, n, reason or "no deployment could be estimated")


def search_limits(k: Constraints) -> Limits:
    return limits_of(k.max_ttft_s, k.max_token_latency_s, k.min_tokens_per_s)


def _layout_may_fix(v: Verdict) -> bool:
    """Whether another layout could make ``v`` pass: it fails only memory or speed rules, all known."""
    return not v.unknown and all(r.rule in LAYOUT_RULES for r in v.failed)


def _searched(catalog: Catalog, hw: Hardware, k: Constraints, opt: Option, params_total: float | None,
              max_ctx: int | None, model: ModelEntry, dep: Deployment) -> Verdict | None:
    """``dep`` at the layout that serves its users soonest and passes every rule (advice.layouts), else
    at the soonest that holds its users; None when none does. A memory miss is searched only when some
    layout could hold it."""
    if not k.layout_search:
        return None
    est = estimate(dep)
    if not est.memory.fits and not could_fit(dep):
        return None
    found = best_layout(catalog, dep, search_limits(k),
                        lambda d, e, s: _verdict_at(hw, k, opt, params_total, max_ctx, model, d, e, s),
                        lambda v: v.passed)
    if found is None:
        return None
    v, choice = found
    return replace(v, layout=choice)


def _moves_experts(hw: Hardware, eng: Engine, arch: Architecture | None) -> bool:
    """Whether the search may keep routed experts in system memory: an engine that can (llama.cpp's
    --n-cpu-moe), a MoE model, a discrete GPU, and system memory the user gave (--ram) to hold them.
    Offered without --offload: its speed is estimated, CPU reads and PCIe copies included, so it ranks
    on its own figures like any other deployment."""
    return (hw.host_bytes is not None and arch is not None and arch.is_moe and not hw.gpu.unified_memory
            and serving_engine(eng).offloads_experts)


def _host_cpu(catalog: Catalog) -> Gpu:
    """The CPU whose memory holds the experts: the catalog's generic desktop (dual-channel DDR5-4800, its
    source says so), the one a discrete-GPU machine is known by when nothing else is named."""
    return catalog.gpus[HOST_CPU]


def _layout_problem(eng: Engine, est: Estimate) -> str | None:
    return serving_engine(eng).layout_problem(est)


def _shape(catalog: Catalog, model: ModelEntry) -> Architecture | None:
    """The model's architecture, or the shape a described variant's estimate will assume; None without one."""
    arch = catalog.architecture(model)
    if arch is None:
        try:
            arch, _ = assumed_architecture(model)
        except InputError:
            return None
    return arch


def _verdict_at(hw: Hardware, k: Constraints, opt: Option, params_total: float | None, max_ctx: int | None,
                model: ModelEntry, dep: Deployment, est: Estimate, served: Serving) -> Verdict:
    """The rules' verdict on ``dep`` as estimated and served, scored."""
    return _judge(hw, k, opt.fmt, opt.eng, params_total, max_ctx,
                  Verdict(model, False, est, (), score(est, opt.q, k.prefer, opt.loss.percent, served),
                          loss=opt.loss, artifact=opt.artifact, convert=opt.convert, serving=served, deployment=dep),
                  arch=dep.architecture, kv=dep.kv_format or dep.kv_dtype)


def _judge(hw: Hardware, k: Constraints, fmt: QuantFormat, eng: Engine, params_total: float | None,
           max_ctx: int | None, v: Verdict, arch: Architecture | None = None,
           kv: QuantFormat | str | None = None) -> Verdict:
    """``v`` with the rules' results on its estimated deployment: passed exactly when every rule passed.
    ``arch`` and ``kv`` (the shape and KV cache estimated) meet the engine's support matrix."""
    offload = hw.offload and serving_engine(eng).offloads
    loss = v.loss.percent if v.loss is not None else 0.0
    results = run_rules(Candidate(v.model, hw.gpu, fmt, eng, v.estimate, k, loss, params_total, max_ctx,
                                  offload=offload, arch=arch, kv=kv, serving=v.serving))
    return replace(v, passed=all(r.status is Status.passed for r in results), results=results)


def judge(catalog: Catalog, v: Verdict, hw: Hardware, k: Constraints) -> Verdict:
    """The rules run again on ``v``'s deployment on ``hw`` (e.g. with ``offload``): the same deployment,
    score, loss and checkpoint; ``passed`` as the new results read."""
    if v.estimate is None:
        raise InputError(f"{v.model.id}: no deployment was estimated, so there is nothing to judge")
    arch = _shape(catalog, v.model)
    return _judge(hw, k, catalog.quantization(v.estimate.quant_id), catalog.engine(v.estimate.engine_id),
                  summarize(catalog, v.model).params_total, arch.max_position_embeddings if arch else None, v,
                  arch=arch, kv=v.estimate.kv_dtype)
