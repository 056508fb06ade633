"""How the search scores a deployment (docs/rules.md): the model's quality on the task's benchmarks after the
format's expected loss (a missing score credited by dominance where another model's scores bound it), its speed
per user, its memory headroom and the GPUs it takes, weighted as ``--prefer`` asks.

Layer 5 (advice). The search reads in this order: ``scoring`` (here), ``verdicts``, ``options``,
``model_search``, ``search``.
"""

from __future__ import annotations

import math

from dsadvisor.advice.rules import DEFAULT_BENCHMARKS, TASK_BENCHMARKS, Constraints, benchmark_score
from dsadvisor.catalog.schema import ModelEntry
from dsadvisor.catalog.store import Catalog
from dsadvisor.physics.estimate import Estimate
from dsadvisor.records import record
from dsadvisor.serving.server import Serving, per_request


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


def score_ranges(catalog: Catalog) -> dict[str, tuple[float, float]]:
    """Each benchmark's lowest and highest score in the catalog."""
    ranges: dict[str, tuple[float, float]] = {}
    for m in catalog.models.values():
        for b in m.benchmarks:
            lo, hi = ranges.get(b.name, (b.score, b.score))
            ranges[b.name] = (min(lo, b.score), max(hi, b.score))
    return ranges
