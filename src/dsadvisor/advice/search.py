"""The recommendation engine: search each model's deployments, keep the best that passes, rank models.

For every model the search walks format x engine x GPU count x KV dtype, cheapest
first, and keeps the best-scoring deployment that passes every hard rule; a
model with none keeps its closest attempt and the rules it failed. Results are
frozen objects; renderers only lay them out.

Layer 5 (advice). The search reads in this order: ``scoring`` (how a deployment scores), ``verdicts`` (what
the search returns and how results order), ``options`` (what it tries for a model), ``model_search`` (one
model's best deployment or closest miss, each deployment judged by the rules), and last this module:
``recommend`` over every model, the best of them searched for the layout that serves their users soonest, the
checks of the names the user gave, the advice when nothing fits. The public names of those modules import
from here too, as they did before the search was split.
"""

from __future__ import annotations

from collections.abc import Callable

from dsadvisor.advice.audit import check_advice
from dsadvisor.advice.layouts import LayoutChoice, best_layout, goodput, searches, served_layouts
from dsadvisor.advice.model_search import evaluate_model, judge, search_limits
from dsadvisor.advice.options import DEFAULT_ENGINES
from dsadvisor.advice.rules import ACCURACY, FILTERS, FITS, SPEED_RULES, Constraints
from dsadvisor.advice.scoring import WEIGHTS, dominance_credits, score, score_ranges, task_benchmarks
from dsadvisor.advice.verdicts import Hardware, Recommendation, Verdict, closeness, rank, total
from dsadvisor.catalog.schema import ModelEntry
from dsadvisor.catalog.store import Catalog
from dsadvisor.errors import InputError, UnknownNameError
from dsadvisor.physics.estimate import Deployment, Estimate, kv_format
from dsadvisor.physics.timing import Layout
from dsadvisor.records import replace
from dsadvisor.serving.server import Serving

# What this module held before the search was split into the modules above: importable from here as before.
from dsadvisor.advice.options import (Option, availability, candidate_formats, expected_loss,  # noqa: E402,F401
                                      format_exists_for, gpu_counts, options, published_recipe)
from dsadvisor.advice.scoring import (DOMINANCE_SHARED, ENOUGH_HEADROOM, FAST_TOKENS_PER_S,  # noqa: E402,F401
                                      SCORE_TIE, SKILL, Credits, Score, Scored, quality, scored_benchmarks)
from dsadvisor.advice.verdicts import Skipped, tier  # noqa: E402,F401


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
            ranked.append(max(passing, key=lambda v: (v.tier, total(v))))
        else:
            rejected.append(max(verdicts, key=lambda v: closeness(v)))
    # across models as within one: a known loss before an unknown one, then a checkpoint that exists
    # before one the user must make ("convert it yourself"), then the score
    ranked.sort(key=rank)
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
    out = [replace(v, plan_argv=plan_argv(v, hw := _hardware_of(hardware, v), k.pinned, catalog.gpus.get(hw.gpu.id)))
           for v in out]
    out.sort(key=rank)
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
    settled = [rank(v) for i, v in enumerate(out) if i not in set(pending)]
    for i in sorted(pending, key=lambda i: _rank_at_best(out[i], k)):
        settled.sort()
        if top is not None and (top < 1 or len(settled) >= top and not _rank_at_best(out[i], k) < settled[top - 1]):
            break  # neither this one nor any after it (their best is no better) reaches the top
        out[i] = _layout_searched(catalog, _hardware_of(hardware, out[i]), k, out[i])
        settled.append(rank(out[i]))
    best = sorted(range(len(out)), key=lambda i: rank(out[i]))[:top]
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
    return searches(hw.gpu, replace(dep, layout=None), k.batch, search_limits(k))


def _rank_at_best(v: Verdict, k: Constraints) -> tuple:
    """The best ``rank`` any layout of ``v``'s deployment can reach: its score with the speed and headroom
    terms at their most (1), as ``score`` sums and rounds them (both monotone, so no layout scores above it)."""
    sc, e = v.score, v.estimate
    if sc is None or e is None:
        return rank(v)
    wq, ws, wh, wg = WEIGHTS[k.prefer]
    best = round(wq * sc.quality + ws * 1.0 + wh * 1.0 + wg * (1.0 / e.gpus), 4)
    return (v.loss is not None and not v.loss.known, v.convert is not None, -best, v.model.id)


def _layout_searched(catalog: Catalog, hw: Hardware, k: Constraints, v: Verdict) -> Verdict:
    """A passing verdict at the engine's default layout, at the layout that serves its users soonest (its
    own when none is sooner)."""
    assert v.deployment is not None
    limits, dep = search_limits(k), replace(v.deployment, layout=None)  # as searched: a layout found for a miss is its own
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
    return replace(v, layout=replace(v.layout, goodput=goodput(catalog, dep, v.estimate, search_limits(k))))


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
