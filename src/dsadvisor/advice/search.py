"""The recommendation engine: search each model's deployments, keep the best that passes, rank models.

For every model the search walks format x engine x GPU count x KV dtype, cheapest
first, and keeps the best-scoring deployment that passes every hard rule; a
model with none keeps its closest attempt and the rules it failed. Results are
frozen objects; renderers only lay them out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import field

from dsadvisor.catalog.assumed import assumed_architecture
from dsadvisor.advice.audit import check_advice
from dsadvisor.advice.layouts import (LayoutChoice, Limits, best_layout, could_fit, goodput, limits_of,
                                      searches, served_layouts)
from dsadvisor.advice.layouts import served as serve_memo
from dsadvisor.catalog.store import Catalog, Loss
from dsadvisor.engines import serving_engine  # at the top: the search asks for engines about 4,600 times a run
from dsadvisor.errors import DsAdvisorError, InputError, UnknownNameError
from dsadvisor.physics.estimate import Deployment, Estimate, estimate, kv_format, offload_experts, pin_layout
from dsadvisor.physics.timing import Layout
from dsadvisor.catalog.hardware import capacity_bytes
from dsadvisor.physics.memory import weight_bytes
from dsadvisor.physics.offload import HOST_CPU, layer_expert_bytes
from dsadvisor.physics.params import count_params, moe_layer_count
from dsadvisor.kept import kept_by_identity
from dsadvisor.records import record, replace
from dsadvisor.serving.server import Serving, per_request, serve_estimated
from dsadvisor.advice.rules import (ACCURACY, DEFAULT_BENCHMARKS, FILTERS, FITS, HARDWARE_SUPPORT, LAYOUT_RULES,
                                    SPEED_RULES, TASK_BENCHMARKS,
                                    Candidate, Constraints, RuleResult, Status, benchmark_score, run_rules)
from dsadvisor.catalog.schema import Architecture, Artifact, Engine, Gpu, ModelEntry, QuantFormat
from dsadvisor.advice.summaries import summarize

DEFAULT_ENGINES = ("vllm", "sglang", "tensorrt-llm", "llama.cpp", "ollama")  # transformers: not a serving engine
# Score weights per --prefer: quality, speed, memory headroom, GPUs used (docs/rules.md)
WEIGHTS = {
    # balanced: GPUs break near-ties; at 0.15 eight GPUs cost 0.13, more than R1-0528's whole quality
    # lead over a one-GPU distill (0.18 x 0.55 = 0.10), so a box of eight H100s was told to run an 8B
    "balanced": (0.65, 0.25, 0.05, 0.05),
    "quality": (0.80, 0.10, 0.05, 0.05),
    "speed": (0.25, 0.60, 0.05, 0.10),
    "efficiency": (0.30, 0.20, 0.20, 0.30),
}
SCORE_TIE = 0.005  # closer than this, the earlier format and engine (the more common choice) stays
# A sequence this fast scores 1 on speed (log scale from 1 tok/s): several times
# reading speed, so faster is no better for one reader.
FAST_TOKENS_PER_S = 60.0
# 5% of usable memory free scores 1 on headroom: the estimate already holds the KV cache for the whole
# context, activations and the runtime, so more free memory buys nothing a practitioner values over a
# better format (Q4_K_M over Q3_K_M on a 24 GB card: the Ollama default, docs/guide.md).
ENOUGH_HEADROOM = 0.05


@record(frozen=True)
class Score:
    quality: float
    speed: float
    headroom: float
    gpus: float
    total: float
    quality_from: str  # which benchmarks the quality came from
    loss_percent: float | None = 0.0  # the format's expected quality loss; None: no published measurement


@record(frozen=True)
class Verdict:
    model: ModelEntry
    passed: bool
    estimate: Estimate | None
    results: tuple[RuleResult, ...]
    score: Score | None
    notes: tuple[str, ...] = ()
    loss: Loss | None = None  # the format's expected quality loss for this model, and what measured it
    artifact: Artifact | None = None  # the checkpoint that exists in this format for this engine
    convert: str | None = None  # how to make the checkpoint when none exists ("convert it yourself: ...")
    serving: Serving | None = None  # per request with the asked concurrency: what the table shows and rules check
    layout: LayoutChoice | None = None  # the layout searched for (advice.layouts); None: the engine's default
    plan_argv: tuple[str, ...] = ()  # the `dsadvisor plan` arguments that start this deployment
    deployment: Deployment | None = field(default=None, compare=False, repr=False)  # what was estimated

    @property
    def tier(self) -> int:
        """How the deployment ranks before its score: a known loss first, then a checkpoint that exists."""
        return tier(self.loss, self.convert is None)

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.status is Status.failed)

    @property
    def unknown(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.status is Status.unknown)


@record(frozen=True)
class Recommendation:
    ranked: tuple[Verdict, ...]
    rejected: tuple[Verdict, ...]
    constraints: Constraints
    hardware: tuple[str, ...]
    advice: tuple[str, ...] = field(default_factory=tuple)  # what would change a nothing-fits answer
    # the articles' described variants that pass the same rules: no public weights, so never ranked
    described: tuple[Verdict, ...] = ()
    base_left_out: int = 0  # base and RL-zero releases the ranking left out (--include-base)


@record(frozen=True)
class Hardware:
    gpu: Gpu
    max_gpus: int = 1
    free_bytes: float | None = None
    gpus_per_node: int = 8
    exact: bool = False  # use exactly max_gpus (check --exact), not the smallest count that passes
    host_bytes: float | None = None  # system memory for layers kept in CPU memory (--ram, or this machine's)
    offload: bool = False  # an engine that can (llama.cpp) may keep the layers that do not fit in CPU memory


@record(frozen=True)
class Skipped:
    """A format x engine x GPU count that could not be built, with the reason (the engine's own words)."""

    quant: QuantFormat
    engine: Engine
    gpus: int
    skip_reason: str


def expected_loss(catalog: Catalog, model: ModelEntry, fmt: QuantFormat) -> Loss:
    """The format's expected quality loss for this model (``Catalog.loss``): none in its native format,
    else the closest published measurement, else unknown (None), never counted as zero."""
    return catalog.loss(model, fmt)


def tier(loss: Loss | None, available: bool) -> int:
    """4: the model's native format, checkpoint at hand (practitioners serve the weights as shipped
    whenever they fit); 3: a known loss, checkpoint exists; 2: a known loss, convert it yourself; 1 and
    0: the same with an unknown loss. A deployment of a higher tier always ranks above a lower one."""
    if loss is not None and loss.basis == "native" and available:
        return 4
    return (2 if loss is None or loss.known else 0) + (1 if available else 0)


def availability(catalog: Catalog, model: ModelEntry, fmt: QuantFormat, eng) -> tuple[Artifact | None, str | None]:
    """The checkpoint an engine loads for this model in this format, and, when none exists and the engine
    cannot make it while loading, how to make it ("convert it yourself: ...")."""
    at_hand, art = _at_hand(catalog, model, fmt, eng)
    return (art, None) if at_hand else (None, _convert_hint(catalog, model, fmt, eng))


def _convert_hint(catalog: Catalog, model: ModelEntry, fmt: QuantFormat, eng) -> str:
    """How to make the model's checkpoint in this format for this engine, from the one it ships."""
    repo = model.hf_repo if model.hf_repo is not None else f"<checkpoint of {model.id}>"
    return serving_engine(eng).convert_hint(repo, catalog.native_formats(model)[0], fmt.id)


def _at_hand(catalog: Catalog, model: ModelEntry, fmt: QuantFormat, eng) -> tuple[bool, Artifact | None]:
    """Whether the engine has a checkpoint to load in this format (one exists, or it makes one while loading
    the model as shipped), and which: ``availability`` without its "convert it yourself" hint, which the
    search needs only for the deployments it tries."""
    return _checkpoints(catalog, model)(fmt, eng)


def _checkpoints(catalog: Catalog, model: ModelEntry) -> Callable[[QuantFormat, Engine], tuple[bool, Artifact | None]]:
    """``_at_hand`` for one model, what it reads of the model (its checkpoints by format and engine, the formats it
    ships in) looked up once for all its formats and engines: the search asks for every pair (1,744 an A100 run)."""
    index, native = catalog.artifact_index(model.id), catalog.native_formats(model)
    shipped = native[0]

    def at_hand(fmt: QuantFormat, eng: Engine) -> tuple[bool, Artifact | None]:
        art = index.get((fmt.id, eng.id))
        if art is not None:
            return True, art
        if model.hf_repo is None:  # a local checkpoint (--config) or a described variant: its own format is at hand
            return fmt.id in native, None
        official = index.get((shipped, eng.id))
        if serving_engine(eng).makes_at_load(shipped, fmt.id) and (official is not None or eng.id == "transformers"):
            return True, official
        return False, None

    return at_hand


def quality(model: ModelEntry, constraints: Constraints, ranges: dict[str, tuple[float, float]],
            loss: float | None, credits: Credits | None = None, scored: Scored | None = None) -> tuple[float, str]:
    """Mean over the task's benchmarks of the model's place between the catalog's worst and best (0-1),
    after the format's expected loss; a benchmark the model has no score on counts 0 (coverage: a model
    scored on one favourable benchmark does not beat one scored on all of them), unless ``credits``
    holds a lower bound for it (``dominance_credits``). Benchmarks no model in the catalog has a score
    on are left out. ``scored``: ``scored_benchmarks`` of the same model, constraints, ranges and credits
    (the same for every format of the model)."""
    found, asked = scored if scored is not None else scored_benchmarks(model, constraints, ranges, credits)
    kept = 1 - (loss or 0.0) / 100  # an unknown loss (None) is ranked below every known one instead
    parts = [(label, 1.0 if hi <= lo else min(1.0, max(0.0, (s * kept - lo) / (hi - lo)))) for label, s, lo, hi in found]
    if not parts:
        return 0.0, "no benchmark score"
    coverage = f" ({len(parts)} of {asked})" if len(parts) < asked else ""
    return sum(p for _, p in parts) / asked, ", ".join(n for n, _ in parts) + coverage


# the model's scores ``quality`` reads, whatever the format: (label, score, catalog's lowest, highest) of each
# benchmark asked that it has a score or a credit on, and how many benchmarks were asked
Scored = tuple[tuple[tuple[str, float, float, float], ...], int]


def scored_benchmarks(model: ModelEntry, constraints: Constraints, ranges: dict[str, tuple[float, float]],
                      credits: Credits | None = None) -> Scored:
    """What ``quality`` reads of the model, worked out once for all its formats."""
    asked = [n for n in task_benchmarks(constraints) if n in ranges]
    credited = (credits or {}).get(model.id, {})
    found = []
    for n in asked:
        s = benchmark_score(model, n)
        label = n
        if s is None and n in credited:
            s, source = credited[n]
            label = f"{n} >= {source}"
        if s is None:
            continue
        lo, hi = ranges[n]
        found.append((label, s, lo, hi))
    return tuple(found), len(asked)


def task_benchmarks(constraints: Constraints) -> tuple[str, ...]:
    """The benchmarks quality is scored on: --benchmark, else the task's, else the broad default set."""
    if constraints.benchmark:
        return (constraints.benchmark,)
    if constraints.task:
        return TASK_BENCHMARKS[constraints.task]
    return DEFAULT_BENCHMARKS


# model id -> benchmark -> (a score the model is credited with at least, the model it comes from)
Credits = dict[str, dict[str, tuple[float, str]]]
# Dominance needs this many benchmarks both models report: one shared benchmark is one favourable
# number (deepseek-math-7b-rl on GSM8K alone), not evidence that a model is the better one.
DOMINANCE_SHARED = 2
# What a benchmark measures: a lead carries over only to a benchmark of a skill both models were
# measured on. A reasoning distill that beats V3 on GPQA, AIME and LiveCodeBench says nothing of its
# MMLU (knowledge), and a math model that beats V2 on GSM8K and MATH nothing of V2's MMLU.
SKILL = {
    "mmlu": "knowledge", "mmlu-pro": "knowledge",
    "gpqa": "science", "hle": "science",
    "gsm8k": "math", "math": "math", "math-500": "math", "aime24": "math", "aime25": "math", "hmmt-feb25": "math",
    "humaneval": "code", "mbpp": "code", "livecodebench": "code",
}


def dominance_credits(models: list[ModelEntry], names: tuple[str, ...]) -> Credits:
    """For each model and each of ``names`` it has no score on, the highest score on it of a model it
    matches or beats on every benchmark both report (at least ``DOMINANCE_SHARED`` of them, one of the
    same skill, ``SKILL``): a lower bound, not a guess. Newer cards drop saturated benchmarks
    (R1-0528's card has no MATH-500; it beats R1 on AIME 2024 and 2025, GPQA and LiveCodeBench), and a
    missing score counted as 0 ranked it under R1 and the distills. Only published scores are
    credited, never credits of credits."""
    scores: dict[str, dict[str, float]] = {}
    for m in models:  # each benchmark's highest score (of its settings), in one pass over the model's scores
        own = scores[m.id] = {}
        for x in m.benchmarks:
            if x.name not in own or x.score > own[x.name]:
                own[x.name] = x.score
    credits: Credits = {}
    for a, own in scores.items():
        missing = [n for n in names if n not in own and n in SKILL]
        if not missing or len(own) < DOMINANCE_SHARED:
            continue
        wanted = set(missing)
        for b, theirs in scores.items():
            if wanted.isdisjoint(theirs):  # b has no score a could be credited with (most pairs: checked first)
                continue
            shared = own.keys() & theirs.keys()
            if b == a or len(shared) < DOMINANCE_SHARED or any(own[x] < theirs[x] for x in shared):
                continue
            skills = {SKILL.get(x) for x in shared}
            for n in missing:
                if n in theirs and SKILL[n] in skills and theirs[n] > credits.get(a, {}).get(n, (-math.inf, ""))[0]:
                    credits.setdefault(a, {})[n] = (theirs[n], b)
    return credits


def score(est: Estimate, q: tuple[float, str], prefer: str, loss: float | None = 0.0,
          served: Serving | None = None) -> Score:
    wq, ws, wh, wg = WEIGHTS[prefer]
    per_user = per_request(est, served).tokens_per_s_per_user
    speed = min(1.0, max(0.0, math.log10(max(per_user, 1.0)) / math.log10(FAST_TOKENS_PER_S)))
    m = est.memory
    headroom = min(1.0, max(0.0, (m.usable - m.per_gpu) / m.usable / ENOUGH_HEADROOM)) if m.usable else 0.0
    gpus = 1.0 / est.gpus
    total = wq * q[0] + ws * speed + wh * headroom + wg * gpus
    return Score(round(q[0], 4), round(speed, 4), round(headroom, 4), round(gpus, 4), round(total, 4), q[1], loss)


def gpu_counts(max_gpus: int) -> list[int]:
    counts, n = [], 1
    while n < max_gpus:
        counts.append(n)
        n *= 2
    return counts + [max_gpus]


def candidate_formats(catalog: Catalog, gpu: Gpu, k: Constraints, model: ModelEntry) -> list[QuantFormat]:
    """Weight formats worth trying: those asked for, else every format an engine runs, less the
    dominated ones (same bits and compute dtype as another with a smaller expected loss for this
    model, a known loss counting as smaller than an unknown one; fp16 where the GPU has bf16)."""
    fmts = [q for q in catalog.quantizations.values() if "weights" in q.applies_to]
    if k.quants:
        wanted = {catalog.quantization(n).id for n in k.quants}
        return [q for q in fmts if q.id in wanted]
    files: set[str] | None = None  # the formats the model's checkpoints are in: read only for a published recipe
    kept: list[tuple[QuantFormat, tuple]] = []
    best: dict[tuple, QuantFormat] = {}
    for q, key, recipe in _sized(catalog, _formats_here(catalog, gpu, k, fmts)):
        if not format_exists_for(q, model):
            continue
        if recipe:
            files = files if files is not None else {a.format for a in catalog.artifacts_of(model.id)}
            if q.id not in files:
                continue
        kept.append((q, key))
        held = best.get(key)
        if held is None or _loss_key(catalog.loss(model, q)) < _loss_key(catalog.loss(model, held)):
            best[key] = q
    return [q for q, key in kept if best[key] is q]


def _sized(catalog: Catalog, fmts: list[QuantFormat]) -> list[tuple[QuantFormat, tuple, bool]]:
    """Each format with its ``_size_key`` and ``published_recipe``: the same for every model, so worked out once
    per format (kept in ``memo`` with the format, by id)."""
    known = catalog.memo.setdefault("sized_formats", {})
    out = []
    for q in fmts:
        held = known.get(q.id)  # type: ignore[attr-defined]
        if held is None or held[0] is not q:
            held = known[q.id] = (q, _size_key(q), published_recipe(q))  # type: ignore[index]
        out.append(held)
    return out


def _formats_here(catalog: Catalog, gpu: Gpu, k: Constraints, fmts: list[QuantFormat]) -> list[QuantFormat]:
    """``fmts`` an engine the search may use runs on ``gpu``, less fp16 where the GPU has bf16 (else bf16):
    the same for every model, so worked out once per GPU and engines (kept in ``memo`` with the GPU and
    formats it was worked out for)."""
    key = ("formats_here", tuple(k.engines or DEFAULT_ENGINES), id(gpu))
    held = catalog.memo.get(key)
    if held is not None and held[0] is gpu and held[1] == fmts:  # type: ignore[index]
        return list(held[2])  # type: ignore[index]
    here = [q for q in fmts if q.engines and _runs_here(catalog, gpu, q, k)]
    if "bf16" in gpu.dtypes:
        here = [q for q in here if q.id != "fp16"]
    else:
        here = [q for q in here if q.id != "bf16"]
    catalog.memo[key] = (gpu, fmts, tuple(here))
    return here


def _size_key(q: QuantFormat) -> tuple:
    """What makes two formats the same size and speed: their bits (a mix's per tensor class: Q2_K's nominal 2.63
    is its Q2_K block alone, its file averages 3.1-3.2) and the dtype they compute in."""
    return q.bits_per_weight, q.expert_bits, tuple(sorted(q.tensor_bits.items())), q.compute_dtype


def format_exists_for(fmt: QuantFormat, model: ModelEntry) -> bool:
    """A format that stores routed experts apart (V4's FP8 with FP4 experts) exists only where the
    model ships in it: no tool builds it from another checkpoint."""
    shipped = model.weights_dtype.value.lower() if model.weights_dtype else None
    return not fmt.expert_bits_per_weight or shipped == fmt.id


def published_recipe(fmt: QuantFormat) -> bool:
    """A format that gives the routed experts bits of their own (Unsloth's dynamic GGUFs): one publisher's
    recipe for one model family, offered only where a file in it exists, never as "convert it yourself"."""
    return bool(fmt.tensor_bits) and any(c.startswith("expert_") for c in fmt.tensor_bits)


def _runs_here(catalog: Catalog, gpu: Gpu, fmt: QuantFormat, k: Constraints) -> bool:
    """Whether an engine the search may use runs ``fmt`` on ``gpu`` (its support matrix): a format none
    runs here does not stand in for one that does (AWQ for GPTQ on a V100)."""
    from dsadvisor.engines.base import support_key

    names = tuple(k.engines or DEFAULT_ENGINES)
    key = ("runs_here", names, support_key(gpu, fmt, None, None))  # the same for every model: asked once
    if key not in catalog.memo:
        catalog.memo[key] = any(serving_engine(catalog.engine(e)).unsupported(gpu, fmt) is None for e in names)
    return bool(catalog.memo[key])


def _loss_key(loss: Loss) -> tuple[bool, float]:
    return (not loss.known, loss.percent or 0.0)


@record(frozen=True)
class Option:
    """One format on one engine for one model: its loss, its checkpoint (or how to make it), its tier."""

    fmt: QuantFormat
    eng: Engine
    loss: Loss
    artifact: Artifact | None
    convert: str | None
    q: tuple[float, str]
    tier: int


def options(catalog: Catalog, model: ModelEntry, hw: Hardware, k: Constraints, ranges: dict[str, tuple[float, float]],
            engines: list, credits: Credits | None = None) -> Iterator[Option]:
    """Every format x engine worth trying, best tier first, then least loss, then the engines' order. Each is
    built (its checkpoint, how to make it, its quality) when the search reaches it: most models pass with
    their first few and never reach the rest (1,744 built for ~160 tried in an A100 search)."""
    order = []
    at_hand_for = _checkpoints(catalog, model)
    for i, fmt in enumerate(candidate_formats(catalog, hw.gpu, k, model)):
        loss = catalog.loss(model, fmt)
        loss_key = _loss_key(loss)
        for j, eng in enumerate(engines):
            if fmt.id in eng.formats:
                at_hand, art = at_hand_for(fmt, eng)
                rank = tier(loss, at_hand)
                order.append(((-rank, loss_key, i, j), fmt, eng, loss, rank, art if at_hand else None, at_hand))
    order.sort(key=lambda x: x[0])
    scored = scored_benchmarks(model, k, ranges, credits)
    qualities: dict[str, tuple[float, str]] = {}  # by format: the same for each of its engines
    for _, fmt, eng, loss, rank, art, at_hand in order:
        convert = None if at_hand else _convert_hint(catalog, model, fmt, eng)
        if fmt.id not in qualities:
            qualities[fmt.id] = quality(model, k, ranges, loss.percent, credits, scored)
        yield Option(fmt, eng, loss, art, convert, qualities[fmt.id], rank)


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
            if best_pass is not None and bound <= _total(best_pass) + SCORE_TIE:
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
                fallback = v if fallback is None or _total(v) > _total(fallback) else fallback
                break
            if isinstance(v, Verdict) and v.passed:
                if best_pass is None or v.tier > best_pass.tier or _total(v) > _total(best_pass) + SCORE_TIE:
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
    """A model's misses in the order they were tried: the closest (``_closeness``, the first of equals)
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
        if self._closest is None or not _closeness(self._closest[1])[0]:
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
        mine, held = _closeness(v), _closeness(self._closest[1])
        if mine > held or (mine == held and at < self._closest[0]):
            self._closest = (at, v)


def _total(v: Verdict) -> float:
    """The verdict's score; a verdict with none (nothing estimated) ranks below every other."""
    return v.score.total if v.score is not None else -math.inf


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


def _shape(catalog: Catalog, model: ModelEntry) -> Architecture | None:
    """The model's architecture, or the shape a described variant's estimate will assume; None without one."""
    arch = catalog.architecture(model)
    if arch is None:
        try:
            arch, _ = assumed_architecture(model)
        except InputError:
            return None
    return arch


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
        if not v.passed and _layout_may_fix(v) and searches(hw.gpu, dep, k.batch, _limits(k)):
            other = _searched(catalog, hw, k, opt, params_total, max_ctx, model, dep)
            v = other if other is not None and (other.passed or _closeness(other) > _closeness(v)) else v
        if v.passed:
            return v
        if miss is None or _closeness(v) > _closeness(miss):
            miss = v
    return miss if miss is not None else Skipped(fmt, eng, n, reason or "no deployment could be estimated")


def _verdict_at(hw: Hardware, k: Constraints, opt: Option, params_total: float | None, max_ctx: int | None,
                model: ModelEntry, dep: Deployment, est: Estimate, served: Serving) -> Verdict:
    """The rules' verdict on ``dep`` as estimated and served, scored."""
    return _judge(hw, k, opt.fmt, opt.eng, params_total, max_ctx,
                  Verdict(model, False, est, (), score(est, opt.q, k.prefer, opt.loss.percent, served),
                          loss=opt.loss, artifact=opt.artifact, convert=opt.convert, serving=served, deployment=dep),
                  arch=dep.architecture, kv=dep.kv_format or dep.kv_dtype)


def _limits(k: Constraints) -> Limits:
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
    found = best_layout(catalog, dep, _limits(k),
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


def _closeness(v: Verdict) -> tuple:
    """An engine that runs on this hardware first (a miss the support matrix rules out teaches nothing
    about sizing), then fewer failed rules, then less memory over capacity: the most instructive miss."""
    m = v.estimate.memory if v.estimate else None
    over = m.per_gpu / m.usable if m and m.usable > 0 else math.inf
    return (all(r.rule != HARDWARE_SUPPORT.id for r in v.failed), -len(v.failed), -over)


def derived(catalog: Catalog) -> None:
    """Work out into ``catalog.memo`` what every search asks of the catalog alone and costs more to work out than to
    read back, for ``load_catalog(derive=...)`` to cache with it: the audit's findings on the articles' hardware
    advice (~40 whole estimates' sizing), each model's checkpoints by format and engine, and the artifacts' size
    check. Each is kept under the key and with the objects its own function checks, so an answer is only ever read
    for the very objects it was worked out for. (Each model's loss in every format would save ~20M instructions of
    a ``recommend`` but cost ~15M to unpickle in every other command: left out.)"""
    from dsadvisor.physics.artifacts import kept_size_problems

    kept_size_problems(catalog)
    for m in catalog.models.values():
        catalog.artifact_index(m.id)
        if m.status == "described":
            for a in m.hardware_advice:
                check_advice(catalog, m, a)


def score_ranges(catalog: Catalog) -> dict[str, tuple[float, float]]:
    """Each benchmark's lowest and highest score in the catalog."""
    ranges: dict[str, tuple[float, float]] = {}
    for m in catalog.models.values():
        for b in m.benchmarks:
            lo, hi = ranges.get(b.name, (b.score, b.score))
            ranges[b.name] = (min(lo, b.score), max(hi, b.score))
    return ranges


def recommend(catalog: Catalog, hardware: list[Hardware], k: Constraints,
              models: list[ModelEntry] | None = None, searched: int | None = None) -> Recommendation:
    """Rank models for the given hardware (several kinds: each model takes its best).

    A deployment that misses only memory or speed rules at the engine's default layout is searched
    for a layout that passes (advice.layouts); those that pass at the default are searched too for a
    layout that serves their users sooner wherever that could bring them into the best ``searched`` of
    their section (None: all), and those best carry their goodput."""
    if k.prefer not in WEIGHTS:
        raise InputError(f"--prefer must be one of {', '.join(WEIGHTS)}")
    engines = [catalog.engine(e) for e in (k.engines or DEFAULT_ENGINES)]
    for kv in k.kv_dtypes:  # a misspelt --kv-dtype is an error, not every deployment failing silently
        kv_format(catalog, kv)
    families = sorted({m.family for m in catalog.models.values()})
    known = {f.lower() for f in families}
    for fam in k.families:  # likewise a misspelt --family (matched case-blind, as rules.py matches it)
        if fam.lower() not in known:
            raise UnknownNameError("family", fam, families)
    check_names(catalog, k)
    best = score_ranges(catalog)
    credits = dominance_credits(list(catalog.models.values()), task_benchmarks(k))
    pool, left_out = (models, 0) if models is not None else candidates(catalog, k)
    ranked, rejected = [], []
    for m in pool:
        verdicts = [evaluate_model(catalog, m, hw, k, best, engines, credits) for hw in hardware]
        if m.status == "described" and m.hardware_advice:  # the article's own advice beside the estimate
            notes = tuple(f.detail for a in m.hardware_advice if (f := check_advice(catalog, m, a)))
            verdicts = [replace(v, notes=v.notes + notes) for v in verdicts]
        passing = [v for v in verdicts if v.passed]
        if passing:
            ranked.append(max(passing, key=lambda v: (v.tier, _total(v))))
        else:
            rejected.append(max(verdicts, key=lambda v: _closeness(v)))
    # across models as within one: a known loss before an unknown one, then a checkpoint that exists
    # before one the user must make ("convert it yourself"), then the score
    ranked.sort(key=_rank)
    # each section of the answer (ranked models, described variants) shows its own best ``searched``
    is_described: Callable[[Verdict], bool] = lambda v: models is None and v.model.status == "described"
    ranked = _with_layouts(catalog, hardware, k, ranked, searched, section=is_described)
    rejected.sort(key=lambda v: v.model.id)
    # split by the same test (was `v not in described`: ~330 comparisons of whole verdicts, models and all, ~5M
    # instructions; verdicts that compare equal have equal models, so the test puts them on the same side)
    described = [v for v in ranked if is_described(v)]
    ranked = [v for v in ranked if not is_described(v)]
    advice = () if ranked else tuple(nothing_fits_advice(rejected, k))
    return Recommendation(tuple(ranked), tuple(rejected), k, tuple(h.gpu.id for h in hardware), advice,
                          tuple(described), left_out)


def _rank(v: Verdict) -> tuple:
    return (v.loss is not None and not v.loss.known, v.convert is not None, -_total(v), v.model.id)


def _with_layouts(catalog: Catalog, hardware: list[Hardware], k: Constraints, ranked: list[Verdict],
                  searched: int | None, section: Callable[[Verdict], object] = lambda v: None) -> list[Verdict]:
    """``ranked`` with the best ``searched`` of each ``section`` (None: all) at their best layout, each with
    its goodput, ranked again; every verdict with the `dsadvisor plan` arguments that start it."""
    from dsadvisor.advice.layouts import plan_argv

    groups: dict[object, list[Verdict]] = {}
    for v in ranked:
        groups.setdefault(section(v), []).append(v)
    out = []
    for group in groups.values():
        out += _best_with_layouts(catalog, hardware, k, group, searched)
    out = [replace(v, plan_argv=plan_argv(v, _hardware_of(hardware, v), k.pinned)) for v in out]
    out.sort(key=_rank)
    return out


def _best_with_layouts(catalog: Catalog, hardware: list[Hardware], k: Constraints, ranked: list[Verdict],
                       top: int | None) -> list[Verdict]:
    """``ranked`` with every verdict that could reach the best ``top`` once its layout is searched searched
    (the rest keep the engine's default layout), and the best ``top`` with their goodput.

    A searched layout changes a verdict's score by its speed and memory headroom only (the model, format,
    engine and GPU count stay), so no layout lifts it above ``_rank_at_best``: a verdict whose best cannot
    beat the ``top``-th of those already settled is not searched. Before, only the first ``top`` at the
    default layout were searched, and one ranked below them could beat them once searched."""
    out = list(ranked)
    pending = [i for i, v in enumerate(out) if _layout_searchable(_hardware_of(hardware, v), k, v)
               and v.layout is None]
    settled = [_rank(v) for i, v in enumerate(out) if i not in set(pending)]
    for i in sorted(pending, key=lambda i: _rank_at_best(out[i], k)):
        settled.sort()
        if top is not None and (top < 1 or len(settled) >= top and not _rank_at_best(out[i], k) < settled[top - 1]):
            break  # neither this one nor any after it (their best is no better) reaches the top
        out[i] = _layout_searched(catalog, _hardware_of(hardware, out[i]), k, out[i])
        settled.append(_rank(out[i]))
    best = sorted(range(len(out)), key=lambda i: _rank(out[i]))[:top]
    for i in best:
        out[i] = _with_goodput(catalog, _hardware_of(hardware, out[i]), k, out[i])
    return out


def _hardware_of(hardware: list[Hardware], v: Verdict) -> Hardware:
    return next((h for h in hardware if v.estimate is not None and h.gpu.id == v.estimate.gpu_id), hardware[0])


def _layout_searchable(hw: Hardware, k: Constraints, v: Verdict) -> bool:
    """Whether a layout can change ``v``'s answer (advice.layouts.searches), the user letting it."""
    dep = v.deployment
    if dep is None or v.estimate is None or v.serving is None or not k.layout_search or k.pinned:
        return False
    return searches(hw.gpu, replace(dep, layout=None), k.batch, _limits(k))


def _rank_at_best(v: Verdict, k: Constraints) -> tuple:
    """The best ``_rank`` any layout of ``v``'s deployment can reach: its score with the speed and headroom
    terms at their most (1), as ``score`` sums and rounds them (both monotone, so no layout scores above it)."""
    sc, e = v.score, v.estimate
    if sc is None or e is None:
        return _rank(v)
    wq, ws, wh, wg = WEIGHTS[k.prefer]
    best = round(wq * sc.quality + ws * 1.0 + wh * 1.0 + wg * (1.0 / e.gpus), 4)
    return (v.loss is not None and not v.loss.known, v.convert is not None, -best, v.model.id)


def _layout_searched(catalog: Catalog, hw: Hardware, k: Constraints, v: Verdict) -> Verdict:
    """A passing verdict at the engine's default layout, at the layout that serves its users soonest (its
    own when none is sooner)."""
    assert v.deployment is not None
    limits, dep = _limits(k), replace(v.deployment, layout=None)  # as searched: a layout found for a miss is its own
    found = best_layout(catalog, dep, limits, lambda d, e, s: _rejudged(catalog, hw, k, v, d, e, s),
                        lambda w: w.passed)
    if found is not None and found[0].passed and _sooner(found[0], v):
        return replace(found[0], layout=found[1])
    assert v.estimate is not None
    return replace(v, layout=LayoutChoice(_layout_of(v.estimate), True, served_layouts(catalog, dep).fit, limits))


def _with_goodput(catalog: Catalog, hw: Hardware, k: Constraints, v: Verdict) -> Verdict:
    """A searched verdict with its goodput (the most users its layout serves within the limits)."""
    if v.layout is None or v.estimate is None or v.deployment is None or not _layout_searchable(hw, k, v):
        return v
    dep = replace(v.deployment, layout=None)
    return replace(v, layout=replace(v.layout, goodput=goodput(catalog, dep, v.estimate, _limits(k))))


def _sooner(a: Verdict, b: Verdict) -> bool:
    sa, sb = a.serving, b.serving
    return sa is not None and sb is not None and \
        (sa.tokens_per_s_total, sa.tokens_per_s_per_user) > (sb.tokens_per_s_total, sb.tokens_per_s_per_user)


def _layout_of(e: Estimate) -> Layout:
    return Layout(tp=e.tp, pp=e.pp, ep=e.ep, dp_attention=e.dp_attention, mtp=e.mtp)


def _rejudged(catalog: Catalog, hw: Hardware, k: Constraints, v: Verdict, dep: Deployment, est: Estimate,
              served: Serving) -> Verdict:
    """``v``'s model, format and engine at another layout: scored and judged again."""
    sc = v.score
    assert sc is not None
    moved = replace(v, estimate=est, serving=served, deployment=dep,
                    score=score(est, (sc.quality, sc.quality_from), k.prefer, sc.loss_percent, served))
    return replace(judge(catalog, moved, hw, k), deployment=dep)


def candidates(catalog: Catalog, k: Constraints) -> tuple[list[ModelEntry], int]:
    """The models recommend weighs, and how many releases it left out: a user downloads and chats with
    instruct releases, so base and RL-zero checkpoints come in only with ``include_base``. Described
    variants are weighed too (their own section of the answer)."""
    models = [m for m in catalog.models.values() if m.kind == "model"]
    kept = [m for m in models if k.include_base or m.status == "described" or m.tuning == "instruct"]
    return kept, len(models) - len(kept)


def check_names(catalog: Catalog, k: Constraints) -> None:
    """A misspelt --benchmark or --license is an unknown name, never a rule every model fails or an
    unknown score --allow-unknown lets pass: a CI gate must not pass on a typo. --license is a whole
    license name (case-insensitive), so a blank one is no license at all."""
    benchmarks = sorted({b.name for m in catalog.models.values() for b in m.benchmarks})
    if k.benchmark is not None and k.benchmark.casefold() not in {b.casefold() for b in benchmarks}:
        raise UnknownNameError("benchmark", k.benchmark, benchmarks)
    licenses = sorted({m.license.value for m in catalog.models.values() if m.license})
    known = {lic.casefold() for lic in licenses}
    for lic in k.licenses:
        if not lic.strip():
            raise InputError("--license must name a license, not be empty (a blank one would match none)")
        if lic.strip().casefold() not in known:
            raise UnknownNameError("license", lic, licenses, hint="a whole license name, as `dsadvisor show` lists it")


def nothing_fits_advice(rejected: list[Verdict], k: Constraints) -> list[str]:
    """Which rule rules out the most of the models the filters kept, and what would change that."""
    kept = [v for v in rejected if all(r.rule != FILTERS.id for r in v.failed)]  # what the user left out
    if rejected and not kept:
        return [f"{FILTERS.id} leaves no model: loosen --released-only, --license, --family or --max-params"]
    counts: dict[str, int] = {}
    for v in kept:
        for r in v.failed + v.unknown:
            counts[r.rule] = counts.get(r.rule, 0) + 1
    if not counts:
        return ["no model could be estimated on this hardware"]
    top = max(counts, key=lambda r: counts[r])
    lines = [f"{top} rules out the most models ({counts[top]} of the {len(kept)} the filters keep)"]
    sized = [v.estimate for v in kept if v.estimate is not None]
    if top == FITS.id and sized:
        e = min(sized, key=lambda est: est.memory.per_gpu)
        lines.append(f"the smallest deployment, {e.model_id} as {e.quant_id} on {e.engine_id}, needs "
                     f"{e.memory.per_gpu / 1e9:.1f} GB per GPU: more VRAM, more GPUs, or a lower-bit format")
        kv_tokens = e.memory.kv_capacity_tokens
        if kv_tokens > 0 and e.memory.per_gpu - e.memory.kv_cache <= e.memory.usable:
            lines.append(f"a shorter context would fit it: at most {kv_tokens // max(1, e.batch):,} tokens "
                         f"per sequence at batch {e.batch}")
    elif top == ACCURACY.id:
        lines.append("lower --min-accuracy, pick another --benchmark, or --allow-unknown for unscored models")
    elif top in SPEED_RULES:
        lines.append("relax the latency limit, allow more GPUs (--gpus), or a lower-bit format")
    return lines
