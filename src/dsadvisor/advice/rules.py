"""The rules a candidate deployment is checked against, in a registry.

Each rule is a small named unit registered with :func:`rule`: its id (the registry key, written
once, in the decorator), a one-line title, the rules it ``requires`` and, optionally, when it
``applies``. Its check returns a :class:`Finding` (pass, fail with the reason, or unknown) and never
repeats its id. A rule that does not apply (its option was not given) is left out of the results; a
rule whose prerequisite did not pass is ``skipped``, never run on input that is not there.

Code elsewhere names a rule by its object (``rules.FITS.id``), never by a string literal.
docs/rules.md lists them; ``RULES`` holds them in the order they are reported in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from enum import Enum
from types import MappingProxyType

from dsadvisor import limits
from dsadvisor.errors import clipped
from dsadvisor.physics.estimate import Estimate
from dsadvisor.records import record
from dsadvisor.serving.server import PerRequest, Serving, per_request
from dsadvisor.catalog.schema import Architecture, Engine, Gpu, ModelEntry, QuantFormat
from dsadvisor.engines import serving_engine

# Benchmarks each task is judged by, most telling first (the first is the one
# --min-accuracy uses when only --task is given).
TASK_BENCHMARKS = {
    "general": ("mmlu", "mmlu-pro", "gpqa"),
    "code": ("humaneval", "livecodebench", "mbpp"),
    "math": ("math-500", "math", "gsm8k", "aime24"),
    "reasoning": ("aime24", "gpqa", "math-500", "livecodebench"),
    "chat": ("mmlu", "mmlu-pro", "gsm8k"),
}
# With no --task: broad benchmarks only, so a specialist scored on one narrow
# benchmark (a coder on HumanEval) does not outrank generalists.
DEFAULT_BENCHMARKS = ("mmlu", "mmlu-pro", "gpqa", "aime24", "math-500", "livecodebench")


class Status(str, Enum):
    passed = "pass"
    failed = "fail"
    unknown = "unknown"
    skipped = "skipped"  # a prerequisite did not pass: the rule had nothing sound to check


@record(frozen=True)
class RuleResult:
    rule: str  # the rule's id
    status: Status
    message: str


@record(frozen=True)
class Finding:
    """What a rule's check found; the registry adds the rule's id."""

    status: Status
    message: str


@record(frozen=True)
class Constraints:
    """What the user asked for; None means 'no constraint'."""

    context: int | None = None
    prompt_tokens: int | None = None
    batch: int = 1
    max_ttft_s: float | None = None
    max_token_latency_s: float | None = None
    min_tokens_per_s: float | None = None  # per sequence
    min_total_tokens_per_s: float | None = None
    benchmark: str | None = None
    min_accuracy: float | None = None
    task: str | None = None
    allow_unknown: bool = False
    include_described: bool = True
    include_base: bool = False  # rank base and RL-zero releases too (recommend leaves them out)
    licenses: tuple[str, ...] = ()
    engines: tuple[str, ...] = ()
    quants: tuple[str, ...] = ()
    kv_dtypes: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    max_params: float | None = None
    prefer: str = "balanced"
    # A pinned layout (plan/check --tp/--pp/--ep/--dp-attention); None: the search chooses
    tp: int | None = None
    pp: int | None = None
    ep: bool | None = None
    dp_attention: int | None = None
    mtp: int | None = None  # MTP draft tokens (speculative decoding); 0: off, pinned; None: chosen (off in plan)
    # recommend and check search layouts where they can change the answer (advice.layouts); plan keeps
    # the engine's default unless pinned, so `recommend` names the pins that reproduce its choice
    layout_search: bool = True

    @property
    def pinned(self) -> bool:
        return (self.tp, self.pp, self.ep, self.dp_attention, self.mtp) != (None, None, None, None, None)

    def __post_init__(self) -> None:
        """Built in Python too, it is held to the command line's ranges (``dsadvisor.limits.BOUNDS``,
        in the flags' units): a 1e300 limit would otherwise reach the JSON as ``inf``."""
        for flag, value in (
                ("--context", self.context), ("--prompt-tokens", self.prompt_tokens), ("--concurrency", self.batch),
                ("--max-ttft", self.max_ttft_s),
                ("--max-token-latency", None if self.max_token_latency_s is None else self.max_token_latency_s * 1e3),
                ("--min-tokens-per-s", self.min_tokens_per_s),
                ("--min-total-tokens-per-s", self.min_total_tokens_per_s),
                ("--min-accuracy", self.min_accuracy), ("--tp", self.tp), ("--pp", self.pp),
                ("--dp-attention", self.dp_attention), ("--mtp", self.mtp),
                ("--max-params", None if self.max_params is None else self.max_params / 1e9)):
            limits.check(flag, value)

    @property
    def accuracy_benchmark(self) -> str | None:
        if self.benchmark:
            return self.benchmark
        if self.task and self.min_accuracy is not None:
            return TASK_BENCHMARKS[self.task][0]
        return None


@record(frozen=True)
class Candidate:
    """Everything a rule may look at."""

    model: ModelEntry
    gpu: Gpu
    quant: QuantFormat
    engine: Engine
    estimate: Estimate | None
    constraints: Constraints
    expected_loss_percent: float | None = 0.0  # None: no published measurement of this format's loss
    params_total: float | None = None
    max_context: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # why no estimate could be built for this format x engine x GPU count (the engine's own words);
    # None when it was built, or when the model has no shape to build one from
    skip_reason: str | None = None
    # the engine keeps the layers that do not fit in CPU memory (llama.cpp), and --offload allows it
    offload: bool = False
    arch: Architecture | None = None  # the shape estimated (its attention kind meets the support matrix)
    kv: QuantFormat | str | None = None  # the KV cache format, or the name of a 16-bit one
    # per-request figures with --concurrency (--batch) requests in flight: what the latency rules check
    serving: Serving | None = None


def benchmark_score(model: ModelEntry, name: str) -> float | None:
    scores = [b.score for b in model.benchmarks if b.name == name]
    return max(scores) if scores else None


def passed(message: str) -> Finding:
    return Finding(Status.passed, message)


def failed(message: str) -> Finding:
    return Finding(Status.failed, message)


def unknown(message: str) -> Finding:
    return Finding(Status.unknown, message)


Check = Callable[[Candidate], Finding]


@record(frozen=True)
class Rule:
    """One registered rule: ``id`` is its registry key."""

    id: str
    title: str
    check: Check
    requires: tuple[str, ...] = ()  # ids of rules that must pass first
    applies: Callable[[Candidate], bool] | None = None  # None: always

    def __call__(self, c: Candidate) -> Finding:
        return self.check(c)


_REGISTRY: dict[str, Rule] = {}
RULES: Mapping[str, Rule] = MappingProxyType(_REGISTRY)  # id -> rule, in the order they are reported


def rule(*, id: str, title: str, requires: tuple[str, ...] = (),
         applies: Callable[[Candidate], bool] | None = None) -> Callable[[Check], Rule]:
    """Register the decorated check as rule ``id``; the name it is bound to becomes the :class:`Rule`."""
    if id in _REGISTRY:
        raise ValueError(f"rule {id} is registered twice")
    missing = [r for r in requires if r not in _REGISTRY]
    if missing:
        raise ValueError(f"rule {id} requires {', '.join(missing)}, which must be registered before it")

    def register(check: Check) -> Rule:
        _REGISTRY[id] = Rule(id, title, check, tuple(requires), applies)
        return _REGISTRY[id]

    return register


def run_rules(c: Candidate) -> tuple[RuleResult, ...]:
    """Every rule that applies to ``c``, in registry order; one whose prerequisite did not pass is skipped."""
    results: dict[str, RuleResult] = {}
    for r in _REGISTRY.values():
        if r.applies is not None and not r.applies(c):
            continue
        blocked = [req for req in r.requires if req in results and results[req].status is not Status.passed]
        if blocked:
            results[r.id] = RuleResult(r.id, Status.skipped, f"not checked: {', '.join(blocked)} did not pass")
        else:
            found = r.check(c)
            results[r.id] = RuleResult(r.id, found.status, found.message)
    return tuple(results.values())


def _estimated(c: Candidate) -> bool:
    return c.estimate is not None


def _built(c: Candidate) -> Estimate:
    """The candidate's estimate; only called by rules that require ESTIMABLE, so it is there."""
    if c.estimate is None:  # pragma: no cover - the registry skips these rules first
        raise ValueError("rule run without an estimate")
    return c.estimate


@rule(id="DSA001", title="The deployment can be estimated")
def ESTIMABLE(c: Candidate) -> Finding:
    if c.estimate is None:
        if c.skip_reason:
            return failed(c.skip_reason)
        return unknown(f"{c.model.id} has no architecture and no parameter count to estimate from")
    if c.estimate.architecture_assumed:
        return passed("estimated from an assumed shape (described variant; see basis)")
    return passed("estimated from the released architecture")


@rule(id="DSA010", title="The model passes the user's filters (status, license, family, size)")
def FILTERS(c: Candidate) -> Finding:
    k, m = c.constraints, c.model
    if m.status == "described" and not k.include_described:
        return failed("a described variant (no released checkpoint); --released-only excludes it")
    if k.licenses:
        lic = m.license.value if m.license else None
        if lic is None or str(lic).casefold() not in {want.strip().casefold() for want in k.licenses}:
            return failed(f"license {lic or 'unknown'} is not one of {', '.join(map(clipped, k.licenses))}")
    if k.families and m.family.lower() not in {f.lower() for f in k.families}:
        return failed(f"family {m.family} not asked for")
    if k.max_params is not None and c.params_total is not None and c.params_total > k.max_params:
        return failed(f"{c.params_total / 1e9:.1f}B parameters exceed --max-params {k.max_params / 1e9:g}B")
    return passed("passes the filters")


@rule(id="DSA004", title="The engine and format run on this hardware")
def HARDWARE_SUPPORT(c: Candidate) -> Finding:
    """The engine's own support matrix (engines.base.ServingEngine.unsupported): the same answer
    recommend, check, plan and estimate give."""
    gpu, eng, q = c.gpu, c.engine, c.quant
    why = serving_engine(eng).cannot_load(c.model) or serving_engine(eng).unsupported(gpu, q, c.arch, c.kv)
    if why:
        return failed(why)
    return passed(f"{eng.name} runs {q.id} on {gpu.name}")


@rule(id="DSA002", title="Weights, KV cache, activations and overheads fit in GPU memory",
      requires=(ESTIMABLE.id,))
def FITS(c: Candidate) -> Finding:
    e = _built(c)
    m = e.memory
    where = f"{e.gpus} x {e.gpu_id}" if e.gpus > 1 else e.gpu_id
    if m.fits:
        moved = (f"; the routed experts of {e.cpu_moe_layers} MoE layers ({e.host_bytes / 1e9:.1f} GB) in system "
                 "memory (llama.cpp --n-cpu-moe)" if e.cpu_moe_layers else "")
        return passed(f"{m.per_gpu / 1e9:.1f} GB per GPU of {m.usable / 1e9:.1f} GB usable on {where}{moved}")
    need = f"needs {m.per_gpu / 1e9:.1f} GB per GPU; {m.usable / 1e9:.1f} GB usable on {where}"
    if c.offload:
        return passed(f"{need}: {c.engine.name} keeps the layers that do not fit in CPU memory (--offload)")
    return failed(need + _experts_hint(c, e))


def _experts_hint(c: Candidate, e: Estimate) -> str:
    """How much system memory would let llama.cpp keep the routed experts that do not fit there
    (--n-cpu-moe), when the rest fits the GPUs; "" otherwise."""
    from dsadvisor.physics.offload import HOST_MEMORY_USABLE, host_bytes, layers_to_free
    from dsadvisor.physics.params import moe_layer_count

    arch, m = c.arch, e.memory
    if arch is None or not arch.is_moe or c.gpu.unified_memory or not serving_engine(c.engine).offloads_experts:
        return ""
    layers = layers_to_free(arch, c.quant, (m.per_gpu - m.usable) * e.gpus)
    if layers >= moe_layer_count(arch):
        return ""
    ram = host_bytes(arch, c.quant, layers) / HOST_MEMORY_USABLE
    return (f" (with --ram {ram / 1e9:.0f} or more, llama.cpp keeps the routed experts of {layers} MoE layers "
            "in system memory: --n-cpu-moe)")


@rule(id="DSA003", title="The context fits the model's maximum", requires=(ESTIMABLE.id,),
      applies=lambda c: c.max_context is not None)
def CONTEXT(c: Candidate) -> Finding:
    context = _built(c).context
    if c.max_context is None or context <= c.max_context:
        return passed(f"context {context} within the model's {c.max_context}")
    return failed(f"context {context} exceeds the model's {c.max_context}")


def _limit(label: str, value: float | None, limit: float | None, upper: bool, unit: str,
           allow_unknown: bool = False) -> Finding:
    if value is None:
        msg = f"{label} unknown (no rate in the catalog for this GPU)"
        return passed(msg + " (allowed by --allow-unknown)") if allow_unknown else unknown(msg)
    if limit is None:  # pragma: no cover - the rule applies only when the limit is given
        raise ValueError(f"{label}: no limit")
    ok = value <= limit if upper else value >= limit
    sign = "<=" if upper else ">="
    text = f"{label} {value:.3g} {unit} (limit {sign} {limit:g})"
    return passed(text) if ok else failed(text)


@rule(id="DSA005", title="Time to first token within --max-ttft", requires=(ESTIMABLE.id,),
      applies=lambda c: c.constraints.max_ttft_s is not None)
def TTFT(c: Candidate) -> Finding:
    return _limit("time to first token", _load(c).ttft_s, c.constraints.max_ttft_s, True, "s", c.constraints.allow_unknown)


@rule(id="DSA006", title="Per-token latency within --max-token-latency", requires=(ESTIMABLE.id,),
      applies=lambda c: c.constraints.max_token_latency_s is not None)
def TOKEN_LATENCY(c: Candidate) -> Finding:
    return _limit("per-token latency", _load(c).tpot_s * 1e3, _ms(c.constraints.max_token_latency_s),
                  True, "ms", c.constraints.allow_unknown)


def _load(c: Candidate) -> PerRequest:
    return per_request(_built(c), c.serving)


def _ms(s: float | None) -> float | None:
    return None if s is None else s * 1e3


@rule(id="DSA007", title="Per-sequence decode speed at least --min-tokens-per-s", requires=(ESTIMABLE.id,),
      applies=lambda c: c.constraints.min_tokens_per_s is not None)
def SEQUENCE_SPEED(c: Candidate) -> Finding:
    return _limit("tokens/s per sequence", _load(c).tokens_per_s_per_user, c.constraints.min_tokens_per_s,
                  False, "tok/s", c.constraints.allow_unknown)


@rule(id="DSA008", title="Total decode throughput at least --min-total-tokens-per-s", requires=(ESTIMABLE.id,),
      applies=lambda c: c.constraints.min_total_tokens_per_s is not None)
def TOTAL_SPEED(c: Candidate) -> Finding:
    return _limit("tokens/s in total", _load(c).tokens_per_s_total, c.constraints.min_total_tokens_per_s,
                  False, "tok/s", c.constraints.allow_unknown)


SPEED_RULES = (TTFT.id, TOKEN_LATENCY.id, SEQUENCE_SPEED.id, TOTAL_SPEED.id)
LAYOUT_RULES = (FITS.id, *SPEED_RULES)  # the rules another split over the same GPUs can change


@rule(id="DSA009", title="Accuracy on the benchmark at least --min-accuracy, after the format's expected loss",
      applies=lambda c: c.constraints.accuracy_benchmark is not None and c.constraints.min_accuracy is not None)
def ACCURACY(c: Candidate) -> Finding:
    k = c.constraints
    bench, minimum = k.accuracy_benchmark or "", k.min_accuracy or 0.0
    score = benchmark_score(c.model, bench)
    if score is None:
        msg = f"no {clipped(bench)} score in the catalog for {c.model.id}"
        return passed(msg + " (allowed by --allow-unknown)") if k.allow_unknown else unknown(msg)
    if c.expected_loss_percent is None:  # an unknown loss is not counted as none
        msg = (f"{bench} {score:g} before {c.quant.id}, whose quality loss on {c.model.id} no published "
               f"measurement gives (minimum {minimum:g})")
        return passed(msg + " (allowed by --allow-unknown)") if k.allow_unknown else unknown(msg)
    adjusted = score * (1 - c.expected_loss_percent / 100)
    text = (f"{bench} {score:g}" + (f" -> {adjusted:.1f} after {c.quant.id}'s expected "
                                     f"{c.expected_loss_percent:g}% loss" if c.expected_loss_percent else "")
            + f" (minimum {minimum:g})")
    return passed(text) if adjusted >= minimum else failed(text)
