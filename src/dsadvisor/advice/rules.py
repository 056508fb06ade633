"""The rules a candidate deployment is checked against. Each is a small named unit:
an id, a one-line title, and a check returning pass, fail (with the reason) or unknown.

docs/rules.md lists them; ``RULES`` is the order they run and are reported in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

from dsadvisor import limits
from dsadvisor.errors import clipped
from dsadvisor.physics.estimate import Estimate
from dsadvisor.catalog.schema import Engine, Gpu, ModelEntry, QuantFormat

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


@dataclass(frozen=True)
class RuleResult:
    rule: str
    status: Status
    message: str


@dataclass(frozen=True)
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
    licenses: tuple[str, ...] = ()
    engines: tuple[str, ...] = ()
    quants: tuple[str, ...] = ()
    kv_dtypes: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    max_params: float | None = None
    prefer: str = "balanced"

    def __post_init__(self) -> None:
        """Built in Python too, it is held to the command line's ranges (``dsadvisor.limits.BOUNDS``,
        in the flags' units): a 1e300 limit would otherwise reach the JSON as ``inf``."""
        for flag, value in (
                ("--context", self.context), ("--prompt-tokens", self.prompt_tokens), ("--batch", self.batch),
                ("--max-ttft", self.max_ttft_s),
                ("--max-token-latency", None if self.max_token_latency_s is None else self.max_token_latency_s * 1e3),
                ("--min-tokens-per-s", self.min_tokens_per_s),
                ("--min-total-tokens-per-s", self.min_total_tokens_per_s),
                ("--min-accuracy", self.min_accuracy),
                ("--max-params", None if self.max_params is None else self.max_params / 1e9)):
            limits.check(flag, value)

    @property
    def accuracy_benchmark(self) -> str | None:
        if self.benchmark:
            return self.benchmark
        if self.task and self.min_accuracy is not None:
            return TASK_BENCHMARKS[self.task][0]
        return None


@dataclass(frozen=True)
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


def benchmark_score(model: ModelEntry, name: str) -> float | None:
    scores = [b.score for b in model.benchmarks if b.name == name]
    return max(scores) if scores else None


def _pass(rule: str, msg: str) -> RuleResult:
    return RuleResult(rule, Status.passed, msg)


def _fail(rule: str, msg: str) -> RuleResult:
    return RuleResult(rule, Status.failed, msg)


def _unknown(rule: str, msg: str) -> RuleResult:
    return RuleResult(rule, Status.unknown, msg)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    check: Callable[[Candidate], RuleResult | None]  # None: the rule does not apply


def _estimable(c: Candidate) -> RuleResult:
    if c.estimate is None:
        return _unknown("DSA001", f"{c.model.id} has no architecture and no parameter count to estimate from")
    if c.estimate.architecture_assumed:
        return _pass("DSA001", "estimated from an assumed shape (described variant; see basis)")
    return _pass("DSA001", "estimated from the released architecture")


def _fits(c: Candidate) -> RuleResult | None:
    e = c.estimate
    if e is None:
        return None
    m = e.memory
    where = f"{e.gpus} x {e.gpu_id}" if e.gpus > 1 else e.gpu_id
    if m.fits:
        return _pass("DSA002", f"{m.per_gpu / 1e9:.1f} GB per GPU of {m.usable / 1e9:.1f} GB usable on {where}")
    return _fail("DSA002", f"needs {m.per_gpu / 1e9:.1f} GB per GPU; {m.usable / 1e9:.1f} GB usable on {where}")


def _context(c: Candidate) -> RuleResult | None:
    e = c.estimate
    if e is None or c.max_context is None:
        return None
    if e.context <= c.max_context:
        return _pass("DSA003", f"context {e.context} within the model's {c.max_context}")
    return _fail("DSA003", f"context {e.context} exceeds the model's {c.max_context}")


def _hardware_support(c: Candidate) -> RuleResult:
    gpu, eng, q = c.gpu, c.engine, c.quant
    device = {"apple": "metal", "cpu": "cpu", "mobile": "cpu"}.get(gpu.category)
    if device is None:
        device = {"nvidia": "cuda", "amd": "rocm", "intel": "gaudi"}.get(gpu.vendor, "cpu")
    if device not in eng.devices:
        return _fail("DSA004", f"{eng.name} does not run on {gpu.name} ({device})")
    if device == "cuda" and eng.min_compute_capability and gpu.compute_capability:
        if _version(gpu.compute_capability) < _version(eng.min_compute_capability):
            return _fail("DSA004", f"{eng.name} needs compute capability {eng.min_compute_capability}; "
                                   f"{gpu.name} has {gpu.compute_capability}")
    if q.needs_dtypes and not set(q.needs_dtypes) & set(gpu.dtypes):
        return _fail("DSA004", f"{q.id} needs {'/'.join(q.needs_dtypes)} hardware support, which {gpu.name} lacks")
    if q.id in ("bf16",) and "bf16" not in gpu.dtypes:
        return _fail("DSA004", f"{gpu.name} has no bf16; use fp16")
    return _pass("DSA004", f"{eng.name} runs {q.id} on {gpu.name}")


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split(".") if x.isdigit())


def _limit(rule: str, label: str, value: float | None, limit: float | None, upper: bool, unit: str,
           allow_unknown: bool = False):
    if limit is None:
        return None
    if value is None:
        msg = f"{label} unknown (no rate in the catalog for this GPU)"
        return _pass(rule, msg + " (allowed by --allow-unknown)") if allow_unknown else _unknown(rule, msg)
    ok = value <= limit if upper else value >= limit
    sign = "<=" if upper else ">="
    text = f"{label} {value:.3g} {unit} (limit {sign} {limit:g})"
    return _pass(rule, text) if ok else _fail(rule, text)


def _ttft(c: Candidate):
    e = c.estimate
    return None if e is None else _limit("DSA005", "time to first token", e.ttft_s, c.constraints.max_ttft_s,
                                         True, "s", c.constraints.allow_unknown)


def _token_latency(c: Candidate):
    e = c.estimate
    return None if e is None else _limit("DSA006", "per-token latency", e.decode_step_s * 1e3,
                                         _ms(c.constraints.max_token_latency_s), True, "ms",
                                         c.constraints.allow_unknown)


def _ms(s: float | None) -> float | None:
    return None if s is None else s * 1e3


def _seq_speed(c: Candidate):
    e = c.estimate
    return None if e is None else _limit("DSA007", "tokens/s per sequence", e.per_sequence_tokens_per_s,
                                         c.constraints.min_tokens_per_s, False, "tok/s",
                                         c.constraints.allow_unknown)


def _total_speed(c: Candidate):
    e = c.estimate
    return None if e is None else _limit("DSA008", "tokens/s in total", e.decode_tokens_per_s,
                                         c.constraints.min_total_tokens_per_s, False, "tok/s",
                                         c.constraints.allow_unknown)


def _accuracy(c: Candidate) -> RuleResult | None:
    k = c.constraints
    bench = k.accuracy_benchmark
    if bench is None or k.min_accuracy is None:
        return None
    score = benchmark_score(c.model, bench)
    if score is None:
        msg = f"no {clipped(bench)} score in the catalog for {c.model.id}"
        return _pass("DSA009", msg + " (allowed by --allow-unknown)") if k.allow_unknown else _unknown("DSA009", msg)
    if c.expected_loss_percent is None:  # an unknown loss is not counted as none
        msg = (f"{bench} {score:g} before {c.quant.id}, whose quality loss on {c.model.id} no published "
               f"measurement gives (minimum {k.min_accuracy:g})")
        return _pass("DSA009", msg + " (allowed by --allow-unknown)") if k.allow_unknown else _unknown("DSA009", msg)
    adjusted = score * (1 - c.expected_loss_percent / 100)
    text = (f"{bench} {score:g}" + (f" -> {adjusted:.1f} after {c.quant.id}'s expected "
                                     f"{c.expected_loss_percent:g}% loss" if c.expected_loss_percent else "")
            + f" (minimum {k.min_accuracy:g})")
    return _pass("DSA009", text) if adjusted >= k.min_accuracy else _fail("DSA009", text)


def _filters(c: Candidate) -> RuleResult:
    k, m = c.constraints, c.model
    if m.status == "described" and not k.include_described:
        return _fail("DSA010", "a described variant (no released checkpoint); --released-only excludes it")
    if k.licenses:
        lic = m.license.value if m.license else None
        if lic is None or lic.casefold() not in {want.strip().casefold() for want in k.licenses}:
            return _fail("DSA010", f"license {lic or 'unknown'} is not one of {', '.join(map(clipped, k.licenses))}")
    if k.families and m.family.lower() not in {f.lower() for f in k.families}:
        return _fail("DSA010", f"family {m.family} not asked for")
    if k.max_params is not None and c.params_total is not None and c.params_total > k.max_params:
        return _fail("DSA010", f"{c.params_total / 1e9:.1f}B parameters exceed --max-params {k.max_params / 1e9:g}B")
    return _pass("DSA010", "passes the filters")


RULES: tuple[Rule, ...] = (
    Rule("DSA001", "The deployment can be estimated", _estimable),
    Rule("DSA010", "The model passes the user's filters (status, license, family, size)", _filters),
    Rule("DSA004", "The engine and format run on this hardware", _hardware_support),
    Rule("DSA002", "Weights, KV cache, activations and overheads fit in GPU memory", _fits),
    Rule("DSA003", "The context fits the model's maximum", _context),
    Rule("DSA005", "Time to first token within --max-ttft", _ttft),
    Rule("DSA006", "Per-token latency within --max-token-latency", _token_latency),
    Rule("DSA007", "Per-sequence decode speed at least --min-tokens-per-s", _seq_speed),
    Rule("DSA008", "Total decode throughput at least --min-total-tokens-per-s", _total_speed),
    Rule("DSA009", "Accuracy on the benchmark at least --min-accuracy, after the format's expected loss", _accuracy),
)


def run_rules(c: Candidate) -> tuple[RuleResult, ...]:
    return tuple(r for rule in RULES if (r := rule.check(c)) is not None)
