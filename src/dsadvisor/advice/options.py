"""What the search tries for one model: the engines (``DEFAULT_ENGINES``), the GPU counts, the weight formats
worth trying on a GPU (those asked for, else those an engine runs there, less the dominated ones), the checkpoint
each engine loads or how to make it (``availability``), and every format x engine in the order tried
(``options``: best tier first, then least loss, then the engines' order).

Layer 5 (advice), read after ``advice.verdicts``: ``advice.model_search`` walks these options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dsadvisor.advice.rules import Constraints
from dsadvisor.advice.scoring import Credits, quality, scored_benchmarks
from dsadvisor.advice.verdicts import Hardware, tier
from dsadvisor.catalog.schema import Artifact, Engine, Gpu, ModelEntry, QuantFormat
from dsadvisor.catalog.store import Catalog, Loss
from dsadvisor.engines import serving_engine
from dsadvisor.records import record


DEFAULT_ENGINES = ("vllm", "sglang", "tensorrt-llm", "llama.cpp", "ollama")  # transformers: not a serving engine


def gpu_counts(max_gpus: int) -> list[int]:
    counts, n = [], 1
    while n < max_gpus:
        counts.append(n)
        n *= 2
    return counts + [max_gpus]


def expected_loss(catalog: Catalog, model: ModelEntry, fmt: QuantFormat) -> Loss:
    """The format's expected quality loss for this model (``Catalog.loss``): none in its native format,
    else the closest published measurement, else unknown (None), never counted as zero."""
    return catalog.loss(model, fmt)


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
