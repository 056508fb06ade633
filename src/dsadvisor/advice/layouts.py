"""Which way to split a recommended deployment over its GPUs, and how many users it then serves.

``recommend`` and ``check`` weigh each model's deployments at the engine's default layout
(:func:`dsadvisor.physics.deployment.choose_layout`: tensor parallel over the GPUs). Where another
layout can change the answer (several datacenter GPUs, a mixture-of-experts or MLA model, an engine
with tensor parallelism, and several users or a latency limit), they search: tensor, pipeline and
expert parallel, data-parallel attention (the MLA cache held once per request, not once per GPU) and
MTP speculative decoding, served at the user's workload with the same server model ``estimate`` and
``layouts`` use. The layout kept serves each request soonest (the most tokens/s in total at the asked
concurrency: the criterion ``dsadvisor layouts`` ranks its best by) among those every rule passes; its
goodput is the most users it serves within the same TTFT and per-token limits.

Cheap where it cannot help: a miss for a rule no layout changes (accuracy, license, support) is
not searched; a memory miss is searched only when the layouts that hold the least per GPU fit;
pipeline stages are tried only when no single-stage layout fits, and MTP drafts only on the two
fastest layouts. The served figures depend on the shape, not the model, so they are kept in the
catalog's memo and shared by models of one architecture (R1, R1-0528, V3, V3-0324, V3.1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from dsadvisor.catalog.resolve import GENERIC_CPU
from dsadvisor.catalog.schema import Gpu
from dsadvisor.catalog.store import Catalog
from dsadvisor.errors import DsAdvisorError
from dsadvisor.physics.estimate import DEFAULT_PROMPT, Deployment, Estimate, choose_layout, default_context, estimate
from dsadvisor.physics.timing import Layout
from dsadvisor.records import record, replace
from dsadvisor.serving.server import Serving, serve, serve_estimated
from dsadvisor.serving.workload import Workload

T = TypeVar("T")

# The most users goodput looks for (as `dsadvisor layouts` does): past it a box is sized by other means
GOODPUT_CEILING = 4096
# MTP draft lengths tried on the fastest layouts (serving.search.MTP_DRAFTS: the engines' DeepSeek guides
# start from one; three is the longest with a published acceptance rate)
MTP_DRAFTS = (1, 3)
MTP_ON = 2  # the fastest layouts MTP drafts are tried on


@record(frozen=True)
class Limits:
    """The latency limits a layout and its goodput are held to (the rules DSA005-DSA007)."""

    max_ttft_s: float | None = None
    max_tpot_s: float | None = None  # --max-token-latency, or 1 / --min-tokens-per-s if tighter

    @property
    def given(self) -> bool:
        return (self.max_ttft_s, self.max_tpot_s) != (None, None)

    def met_by(self, s: Serving) -> bool:
        if s.running < s.concurrency:  # goodput counts users served at once, not users queued for a slot
            return False
        if self.max_ttft_s is not None and (s.ttft_s is None or s.ttft_s > self.max_ttft_s):
            return False
        return self.max_tpot_s is None or s.tpot_s <= self.max_tpot_s

    def words(self) -> str:
        said = ([f"TTFT {self.max_ttft_s:g} s"] if self.max_ttft_s is not None else []) + \
            ([f"TPOT {self.max_tpot_s * 1e3:g} ms"] if self.max_tpot_s is not None else [])
        return " / ".join(said)


@record(frozen=True)
class Goodput:
    """The most concurrent users the chosen layout serves within the limits, and its figures there."""

    concurrency: int
    limited_by: str  # "ttft", "tpot", "kv-cache" (or "scheduler": the next user would wait for a slot), "ceiling"
    serving: Serving


@record(frozen=True)
class LayoutChoice:
    """The layout a verdict's deployment was searched to, and what it serves."""

    layout: Layout
    default: bool  # the engine's default layout (choose_layout) served soonest
    tried: int  # layouts served at the workload
    limits: Limits
    goodput: Goodput | None = None

    @property
    def label(self) -> str:
        return label(self.layout)


def label(lay: Layout) -> str:
    """``TP8 EP DPA8 MTP3``: the layout as `dsadvisor layouts` labels its points."""
    parts = [f"TP{lay.tp}"] + ([f"PP{lay.pp}"] if lay.pp > 1 else []) + (["EP"] if lay.ep else []) \
        + ([f"DPA{lay.dp_attention}"] if lay.dp_attention > 1 else []) + ([f"MTP{lay.mtp}"] if lay.mtp else [])
    return " ".join(parts)


def limits_of(max_ttft_s: float | None, max_token_latency_s: float | None,
              min_tokens_per_s: float | None) -> Limits:
    tpot = [t for t in (max_token_latency_s, 1.0 / min_tokens_per_s if min_tokens_per_s else None) if t is not None]
    return Limits(max_ttft_s, min(tpot) if tpot else None)


def searches(gpu: Gpu, dep: Deployment, concurrency: int, limits: Limits) -> bool:
    """Whether the layout can change the answer: several datacenter GPUs, a MoE or MLA model, an engine
    that splits layers by tensor parallelism, and several users or a latency limit."""
    arch = dep.architecture
    return (dep.gpus > 1 and gpu.category == "datacenter" and dep.layout is None and arch is not None
            and (arch.is_moe or arch.is_mla) and dep.engine.tensor_parallel and dep.host_experts is None
            and (concurrency > 1 or limits.given))


@record(frozen=True)
class _Served:
    layout: Layout
    serving: Serving

    @property
    def key(self) -> tuple[float, float]:  # higher is better: the request served soonest
        return (self.serving.tokens_per_s_total, self.serving.tokens_per_s_per_user)


def _physics_key(dep: Deployment) -> tuple | None:
    """What an estimate's figures depend on: the shape, not the model (R1 and V3 share one); the context
    as the estimate resolves it (the model's advertised one caps the default). None: a shape assumed
    from the model's claimed size (the model's own), or experts kept in system memory."""
    arch = dep.architecture
    if arch is None or dep.host_experts is not None:  # experts in system memory: rare, and not hashable
        return None
    context = dep.context or default_context(dep.model, arch, dep.prompt_tokens)
    return (arch, dep.quant.id, dep.engine.id, dep.kv_dtype, dep.gpu.id, dep.gpus, dep.gpus_per_node,
            dep.capacity_bytes, dep.memory_fraction, context, dep.prompt_tokens or min(DEFAULT_PROMPT, context),
            dep.batch, dep.layout)


def served(catalog: Catalog, dep: Deployment, est: Estimate) -> Serving:
    """``serve_estimated(dep, est)``, kept in the catalog's memo by shape: recommend weighs models that
    share one (R1, R1-0528, V3, V3-0324 and V3.1 on the same format, engine and GPUs) and serving one
    takes about four estimates."""
    return _memoised(catalog, "served", dep, lambda: serve_estimated(dep, est))


def _memoised(catalog: Catalog, kind: str, dep: Deployment, make: Callable[[], T]) -> T:
    """``make()``, kept in the catalog's memo under ``kind`` and ``dep``'s physics (not memoised when
    ``dep`` has no such key)."""
    shape = _physics_key(dep)
    if shape is None:
        return make()
    key = (kind, shape)
    if key not in catalog.memo:
        catalog.memo[key] = make()
    return catalog.memo[key]  # type: ignore[return-value]


def _candidates(dep: Deployment) -> list[Layout]:
    from dsadvisor.serving.search import layouts

    try:
        return layouts(dep, drafts=())
    except DsAdvisorError:
        return []


class ServedLayouts:
    """The layouts of one deployment's GPUs that hold its workload, served with the server model as
    needed, soonest first.

    Serving a layout takes about four estimates; its estimate at the workload alone ranks the layouts
    nearly as serving does (one prompt's prefill plus the answer's decode steps at the full batch:
    same order as served for R1, V3.2 and V4 on 8 x H200 at 32 and 128 users, but for near ties). So
    the ``EAGER`` layouts that estimate ranks first are served, with MTP drafts on the two fastest;
    the rest only when none of those meets the limits."""

    EAGER = 3

    def __init__(self, catalog: Catalog, dep: Deployment):
        from dsadvisor.engines import serving_engine

        self._catalog, self._dep = catalog, dep
        self._launcher = serving_engine(dep.engine)
        every = _candidates(dep)
        fitting = self._fitting([lay for lay in every if lay.pp == 1])
        if not fitting:  # pipeline stages hold a share of the layers each: tried when no single stage fits
            fitting = self._fitting([lay for lay in every if lay.pp > 1])
        self.fit = len(fitting)
        self._mtp = bool(dep.architecture is not None and dep.architecture.num_nextn_predict_layers
                         and dep.engine.mtp_speculative)
        self._waiting = [lay for _, lay in fitting[self.EAGER:]]
        self.served = self._serve([lay for _, lay in fitting[:self.EAGER]])

    def _fitting(self, lays: list[Layout]) -> list[tuple[float, Layout]]:
        """The layouts that hold the workload, by their estimate's time for one request (soonest first)."""
        out = []
        for lay in lays:
            try:
                est = estimate(replace(self._dep, layout=lay))
            except DsAdvisorError:
                continue
            if est.memory.fits and not self._launcher.layout_problem(est):
                answer = max(0, est.context - est.prompt_tokens - 1) * est.decode_step_s
                out.append(((est.ttft_single_s or 0.0) + answer, lay))
        return sorted(out, key=lambda x: x[0])

    def _serve(self, lays: list[Layout]) -> list[_Served]:
        found = [s for lay in lays if (s := self._one(lay)) is not None]
        found.sort(key=lambda s: s.key, reverse=True)
        if self._mtp:
            found += [s for x in found[:MTP_ON] for k in MTP_DRAFTS
                      if (s := self._one(replace(x.layout, mtp=k))) is not None]
            found.sort(key=lambda s: s.key, reverse=True)
        return found

    def _one(self, lay: Layout) -> _Served | None:
        d = replace(self._dep, layout=lay)
        try:
            est = estimate(d)
            return _Served(lay, served(self._catalog, d, est)) if est.memory.fits else None
        except DsAdvisorError:
            return None

    def rest(self) -> list[_Served]:
        """The layouts not served yet, served now (kept), soonest first."""
        more, self._waiting = self._serve(self._waiting), []
        self.served = sorted(self.served + more, key=lambda s: s.key, reverse=True)
        return more


def served_layouts(catalog: Catalog, dep: Deployment) -> ServedLayouts:
    """``dep``'s layouts at its workload (memoised by shape: models of one architecture share them)."""
    return _memoised(catalog, "layouts", dep, lambda: ServedLayouts(catalog, dep))


def could_fit(dep: Deployment) -> bool:
    """Whether any layout could hold ``dep`` in memory: those that keep the least per GPU (attention
    split by requests over every GPU; every layer split into pipeline stages) are estimated first."""
    n = dep.gpus
    least = [lay for lay in _candidates(dep)
             if (lay.pp == 1 and lay.dp_attention == n) or (lay.pp == n)]
    for lay in least:
        try:
            if estimate(replace(dep, layout=lay)).memory.fits:
                return True
        except DsAdvisorError:
            continue
    return False


V = TypeVar("V")  # a verdict (advice.verdicts.Verdict: this module comes before it)


def best_layout(catalog: Catalog, dep: Deployment, limits: Limits, judge: Callable[[Deployment, Estimate, Serving], V],
                passed: Callable[[V], bool]) -> tuple[V, LayoutChoice] | None:
    """The verdict at the layout that serves ``dep``'s workload soonest and passes every rule, with
    the choice; when none passes, the verdict at the soonest layout that fits (its misses are the
    limits: what is reachable); None when no layout holds the workload."""
    found = served_layouts(catalog, dep)
    default = _default(dep)

    def at(s: _Served) -> tuple[V, LayoutChoice]:
        d = replace(dep, layout=s.layout)
        est = estimate(d)  # this model's estimate (the served figures may be another model's of one shape)
        return judge(d, est, s.serving), LayoutChoice(s.layout, s.layout == default, found.fit, limits)

    for batch in (list(found.served), found.rest):
        for s in (batch if isinstance(batch, list) else batch()):
            if _within(s.serving, limits) and passed((got := at(s))[0]):
                return got
    return at(found.served[0]) if found.served else None


def _within(s: Serving, limits: Limits) -> bool:
    return (limits.max_ttft_s is None or (s.ttft_s is not None and s.ttft_s <= limits.max_ttft_s)) and \
        (limits.max_tpot_s is None or s.tpot_s <= limits.max_tpot_s)


def _default(dep: Deployment) -> Layout | None:
    arch = dep.architecture
    try:
        return choose_layout(arch, dep.engine, dep.gpus, dep.gpus_per_node) if arch is not None else None
    except DsAdvisorError:
        return None


def goodput(catalog: Catalog, dep: Deployment, est: Estimate, limits: Limits) -> Goodput | None:
    """The most users ``est``'s layout serves at once within ``limits`` (memoised by shape), each with
    ``est``'s prompt and the rest of its context out: from the asked concurrency, doubled until a limit
    is missed, then bisected. TTFT and TPOT grow with the users, so those within the limits are a
    prefix. None when the asked concurrency already misses them."""
    layout = Layout(tp=est.tp, pp=est.pp, ep=est.ep, dp_attention=est.dp_attention, mtp=est.mtp)
    shape = _physics_key(dep)
    key = ("goodput", shape, layout, limits)
    if shape is None or key not in catalog.memo:
        catalog.memo[key] = _goodput(replace(dep, layout=layout, batch=est.batch), limits, est.prompt_tokens,
                                     max(1, est.context - est.prompt_tokens))
    return catalog.memo[key]  # type: ignore[return-value]


def _goodput(d: Deployment, limits: Limits, prompt: int, out: int) -> Goodput | None:
    # as recommend and plan size a deployment: every request at full length in the KV cache
    one = estimate(replace(d, batch=1, context=prompt + out, prompt_tokens=prompt))

    def at(c: int) -> Serving:
        return serve(d, Workload(c, prompt, out), known=one)[1]  # one request's estimate, shared

    most = min(GOODPUT_CEILING, max(d.batch, one.memory.kv_capacity_tokens // (prompt + out)))
    lo = d.batch
    good = at(lo)
    if not limits.met_by(good):
        return None
    hi, miss = lo, None
    while miss is None and hi < most:  # double until a limit is missed
        hi = min(most, hi * 2)
        s = at(hi)
        if limits.met_by(s):
            lo, good = hi, s
        else:
            miss = s
    if miss is None:
        return Goodput(lo, "ceiling" if most == GOODPUT_CEILING else "kv-cache", good)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        s = at(mid)
        if limits.met_by(s):
            lo, good = mid, s
        else:
            hi, miss = mid, s
    return Goodput(lo, _missed(miss, limits), good)


def _missed(s: Serving, limits: Limits) -> str:
    if s.running < s.concurrency:
        return s.limited_by or "kv-cache"
    if limits.max_ttft_s is not None and (s.ttft_s is None or s.ttft_s > limits.max_ttft_s):
        return "ttft"
    return "tpot"


def device_argv(gpu: Gpu, listed: Gpu | None, detected: bool = False) -> list[str]:
    """The options that name device ``gpu`` to plan as it was judged. ``listed``: the catalog's entry of that id
    (None: a device outside the catalog, known by --vram alone). A size the user gave that is not the entry's
    own (--vram 24 beside an H100, --ram 32 beside the 64 GB Jetson) goes with it, and the generic CPU always
    takes its --ram (plan refuses it without). Before, `recommend --vram 80` printed `plan ... --gpu custom-80GB`
    (exit 3, unknown GPU) and `recommend --gpu cpu --ram 64` printed `plan ... --gpu CPU` (exit 2). ``detected``:
    judged on the free memory --gpu auto found, which plan sizes vLLM's fraction by: --gpu auto again (the id
    alone gave a plan sized for the whole card, 0.9 where 0.45 was free)."""
    size = f"{gpu.memory_gb:g}"
    if detected:
        return ["--gpu", "auto"]
    if listed is None:
        return ["--vram", size]
    resized = abs(listed.memory_gb - gpu.memory_gb) > 0.005 * listed.memory_gb
    return ["--gpu", gpu.id] + ([("--ram" if gpu.unified_memory else "--vram"), size]
                                if resized or listed.id == GENERIC_CPU else [])


def plan_argv(v, hw, pinned: bool = False, listed: Gpu | None = None) -> tuple[str, ...]:
    """The `dsadvisor plan` command that starts verdict ``v``'s deployment as judged: its device (sized as
    judged: ``device_argv``, ``listed`` the catalog's entry of its id), format, engine, KV cache, GPUs
    (exactly), workload and, where the layout was searched or ``pinned`` (check --tp and the like), the layout
    pinned (plan keeps the engine's default layout unless pinned). Empty for a verdict that did not pass."""
    e = v.estimate
    if not v.passed or e is None:
        return ()
    argv = ["dsadvisor", "plan", v.model.id, *device_argv(hw.gpu, listed, hw.free_bytes is not None)]
    if e.gpus > 1:
        argv += ["--gpus", str(e.gpus), "--exact"]
    argv += ["--quant", e.quant_id, "--engine", e.engine_id, "--kv-dtype", e.kv_dtype,
             "--context", str(e.context), "--prompt-tokens", str(e.prompt_tokens), "--concurrency", str(e.batch)]
    if e.cpu_moe_layers and hw.host_bytes:
        argv += ["--ram", f"{hw.host_bytes / 1e9:g}"]
    if v.layout is not None or pinned:
        argv += ["--tp", str(e.tp)] + (["--pp", str(e.pp)] if e.pp > 1 else []) + (["--ep"] if e.ep else ["--no-ep"])
        argv += ["--dp-attention", str(e.dp_attention)] if e.dp_attention > 1 else []
    if e.mtp:  # searched or pinned (check --mtp): plan drafts nothing unless told
        argv += ["--mtp", str(e.mtp)]
    return tuple(argv)
