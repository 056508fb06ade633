"""Layouts and concurrency: which way to split a model over its GPUs, and how many users it serves.

For one model, engine and set of GPUs, every layout the engine and model can run
(:func:`layouts`) is served at a ladder of concurrencies (:func:`sweep`). From the points:
the best under the user's latency limits (:func:`best`), its goodput (the largest concurrency that
still meets them, :func:`goodput`), and the Pareto frontier of throughput per GPU against speed per
user (:func:`pareto`), as aiconfigurator draws it.
"""

from __future__ import annotations


from dsadvisor.errors import InputError, NoFitError
from dsadvisor.physics.estimate import Deployment, check_layout, estimate
from dsadvisor.physics.timing import Layout
from dsadvisor.records import record, replace
from dsadvisor.serving.disaggregated import Split, serve_disaggregated, splits
from dsadvisor.serving.server import Serving, serve_figures
from dsadvisor.serving.workload import Workload

CONCURRENCIES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
# MTP draft lengths the search tries beside no speculation (estimate --mtp takes 1-3): one draft is what
# the engines' DeepSeek guides start from, three the longest with a published acceptance rate
MTP_DRAFTS = (1, 3)


@record(frozen=True)
class Limits:
    max_ttft_s: float | None = None
    max_tpot_s: float | None = None

    def met_by(self, s: Serving) -> bool:
        if s.running == 0 or s.ttft_s is None and self.max_ttft_s is not None:
            return False
        return (self.max_ttft_s is None or (s.ttft_s is not None and s.ttft_s <= self.max_ttft_s)) and \
            (self.max_tpot_s is None or s.tpot_s <= self.max_tpot_s)

    def missed_by(self, s: Serving) -> str:
        """Why ``s`` misses the limits, in words ('' when it meets them)."""
        if s.running == 0:
            return "one request's KV cache does not fit"
        why = []
        if self.max_ttft_s is not None and (s.ttft_s is None or s.ttft_s > self.max_ttft_s):
            why.append("TTFT unknown" if s.ttft_s is None else f"TTFT {s.ttft_s:.3g} s > {self.max_ttft_s:g} s")
        if self.max_tpot_s is not None and s.tpot_s > self.max_tpot_s:
            why.append(f"TPOT {s.tpot_s * 1e3:.3g} ms > {self.max_tpot_s * 1e3:g} ms")
        return ", ".join(why)


@record(frozen=True)
class Point:
    """One layout at one concurrency."""

    layout: Layout  # a disaggregated point's decode instances
    serving: Serving
    gpus: int
    split: Split | None = None  # prefill and decode on separate instances (serving.disaggregated)

    @property
    def tokens_per_s_per_gpu(self) -> float:
        return self.serving.tokens_per_s_total / self.gpus

    @property
    def label(self) -> str:
        if self.split is not None:
            return f"{self.split.label} @{self.serving.concurrency}"
        lay = self.layout
        parts = [f"TP{lay.tp}"] + ([f"PP{lay.pp}"] if lay.pp > 1 else []) + (["EP"] if lay.ep else []) \
            + ([f"DPA{lay.dp_attention}"] if lay.dp_attention > 1 else []) + ([f"MTP{lay.mtp}"] if lay.mtp else [])
        return f"{' '.join(parts)} @{self.serving.concurrency}"


def layouts(d: Deployment, drafts: tuple[int, ...] = MTP_DRAFTS) -> list[Layout]:
    """Every layout of ``d.gpus`` GPUs that the engine and model can run, expert and data-parallel
    attention variants included, each also with MTP speculative decoding of ``drafts`` tokens a step
    where the model ships an MTP layer and the engine drafts with it."""
    arch = d.architecture
    if arch is None:
        raise InputError(f"{d.model.id} has no architecture to split")
    out = []
    for pp in _divisors(d.gpus):
        tp = d.gpus // pp
        for ep in (False, True):
            for dp in _divisors(tp):
                layout = Layout(tp=tp, pp=pp, ep=ep, dp_attention=dp)
                try:
                    check_layout(layout, arch, d.engine, d.gpus, d.gpus_per_node)
                except InputError:
                    continue
                out.append(layout)
    if not (arch.num_nextn_predict_layers and d.engine.mtp_speculative):
        return out
    return out + [replace(lay, mtp=k) for k in drafts if k for lay in out]


def _divisors(n: int) -> list[int]:
    return [k for k in range(1, n + 1) if n % k == 0]


def sweep(d: Deployment, prompt_tokens: int, output_tokens: int,
          concurrencies: tuple[int, ...] = CONCURRENCIES) -> list[Point]:
    """Every layout of ``d`` served at every concurrency (points that hold not one request left out)."""
    from dsadvisor.engines import serving_engine

    launcher = serving_engine(d.engine)
    points = []
    for layout in layouts(d):
        pinned = replace(d, layout=layout)
        try:  # one request alone: the same estimate at every concurrency (its KV room, its own prefill)
            alone = estimate(replace(pinned, batch=1, context=prompt_tokens + output_tokens,
                                     prompt_tokens=prompt_tokens))
        except InputError:
            continue
        if launcher.layout_problem(alone):  # the engine's own limits on how it launches (the layout's, not the load's)
            continue
        for c in concurrencies:
            try:
                s = serve_figures(pinned, Workload(c, prompt_tokens, output_tokens), known=alone)
            except InputError:
                break
            if s.running == 0:
                break
            points.append(Point(layout, s, d.gpus))
    return points + _disaggregated(d, prompt_tokens, output_tokens, concurrencies, launcher)


def _disaggregated(d: Deployment, prompt_tokens: int, output_tokens: int, concurrencies: tuple[int, ...],
                   launcher) -> list[Point]:
    """Every prefill/decode split of ``d``'s GPUs the engine serves, at every concurrency."""
    points = []
    for split in splits(d):
        for c in concurrencies:
            est, s = serve_disaggregated(d, split, Workload(c, prompt_tokens, output_tokens))
            if s.running == 0 or launcher.layout_problem(est):
                break
            points.append(Point(split.decode, s, d.gpus, split))
    return points


def pareto(points: list[Point]) -> list[Point]:
    """The points no other beats on both tokens/s per GPU and tokens/s per user, by speed per user."""
    ordered = sorted(points, key=lambda p: (-p.serving.tokens_per_s_per_user, -p.tokens_per_s_per_gpu))
    front, best_per_gpu = [], -1.0
    for p in ordered:
        if p.tokens_per_s_per_gpu > best_per_gpu:
            front.append(p)
            best_per_gpu = p.tokens_per_s_per_gpu
    return front


def best(points: list[Point], limits: Limits) -> Point | None:
    """The point with the most tokens/s per GPU among those meeting ``limits`` (None: none does)."""
    ok = [p for p in points if limits.met_by(p.serving)]
    return max(ok, key=lambda p: (p.tokens_per_s_per_gpu, p.serving.tokens_per_s_per_user), default=None)


def goodput(d: Deployment, layout: Layout, prompt_tokens: int, output_tokens: int, limits: Limits,
            ceiling: int = 4096, split: Split | None = None) -> Point | None:
    """The largest concurrency (up to ``ceiling``) at which ``layout`` still meets ``limits``.

    TTFT and TPOT grow with concurrency, so the concurrencies that meet the limits are a prefix:
    a binary search finds its end."""
    pinned = replace(d, layout=layout)

    def at(c: int) -> Serving:
        if split is not None:
            return serve_disaggregated(d, split, Workload(c, prompt_tokens, output_tokens))[1]
        return serve_figures(pinned, Workload(c, prompt_tokens, output_tokens))

    first = at(1)
    if not limits.met_by(first):
        return None
    lo, hi, found = 1, ceiling, first
    while lo < hi:
        mid = (lo + hi + 1) // 2
        s = at(mid)
        if limits.met_by(s):
            lo, found = mid, s
        else:
            hi = mid - 1
    return Point(layout, found, d.gpus, split)


def _where(p: Point) -> str:
    users = p.serving.concurrency
    return f"{p.label.rsplit(' @', 1)[0]} at {users} user{'s' if users != 1 else ''}"


def unmet(points: list[Point], limits: Limits, gpus: str) -> str:
    """The line that says no layout meets ``limits``, and what is reachable: the smallest TTFT and TPOT
    any layout reaches, at what layout and concurrency."""
    said = []
    timed = [p for p in points if p.serving.ttft_s is not None]
    if limits.max_ttft_s is not None and timed:
        fast = min(timed, key=lambda p: p.serving.ttft_s or 0.0)
        said.append(f"the smallest TTFT reachable is {fast.serving.ttft_s:.3g} s ({_where(fast)})")
    if limits.max_tpot_s is not None and points:
        quick = min(points, key=lambda p: p.serving.tpot_s)
        said.append(f"the smallest TPOT {quick.serving.tpot_s * 1e3:.3g} ms ({_where(quick)})")
    return f"no layout of {gpus} meets the limits: " + "; ".join(said or ["no point has a TTFT"])


@record(frozen=True)
class LayoutSearch:
    """What :func:`search` found for one model, engine and set of GPUs."""

    deployment: Deployment
    prompt_tokens: int
    output_tokens: int
    limits: Limits
    points: tuple[Point, ...]
    frontier: tuple[Point, ...]
    best: Point | None  # most tokens/s per GPU within the limits
    goodput: Point | None  # the best layout at the largest concurrency within the limits

    def unmet(self) -> str | None:
        """Why no layout meets the limits and what is reachable (None: one does, or none were set)."""
        if self.best is not None or (self.limits.max_ttft_s, self.limits.max_tpot_s) == (None, None):
            return None
        return unmet(list(self.points), self.limits, f"{self.deployment.gpus} x {self.deployment.gpu.id}")


def search(d: Deployment, prompt_tokens: int, output_tokens: int, limits: Limits = Limits(),
           concurrencies: tuple[int, ...] = CONCURRENCIES) -> LayoutSearch:
    """Every layout at every concurrency, the frontier, the best within ``limits`` and its goodput."""
    points = sweep(d, prompt_tokens, output_tokens, concurrencies)
    if not points:
        raise NoFitError(f"no layout of {d.gpus} x {d.gpu.id} holds one request of "
                         f"{prompt_tokens + output_tokens} tokens of {d.model.id} on {d.engine.name}")
    chosen = best(points, limits)
    most = goodput(d, chosen.layout, prompt_tokens, output_tokens, limits, split=chosen.split) if chosen else None
    return LayoutSearch(d, prompt_tokens, output_tokens, limits, tuple(points), tuple(pareto(points)), chosen, most)
