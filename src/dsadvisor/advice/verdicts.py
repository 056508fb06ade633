"""What the search returns, and how its results order: the hardware it searched (``Hardware``), one model's
verdict (``Verdict``: its deployment, the rules' results, its score), the whole ranking (``Recommendation``), a
deployment that could not be built (``Skipped``); the tier that ranks a deployment before its score (``tier``),
a verdict's score (``total``), the order of passing verdicts (``rank``) and of misses (``closeness``).

Layer 5 (advice), read after ``advice.scoring``: the frozen objects the later search modules (``options`` to
``search``) pass on and the renderers lay out.
"""

from __future__ import annotations

import math
from dataclasses import field

from dsadvisor.advice.layouts import LayoutChoice
from dsadvisor.advice.rules import HARDWARE_SUPPORT, Constraints, RuleResult, Status
from dsadvisor.advice.scoring import Score
from dsadvisor.catalog.schema import Artifact, Engine, Gpu, ModelEntry, QuantFormat
from dsadvisor.catalog.store import Loss
from dsadvisor.physics.estimate import Deployment, Estimate
from dsadvisor.records import record
from dsadvisor.serving.server import Serving


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


def tier(loss: Loss | None, available: bool) -> int:
    """4: the model's native format, checkpoint at hand (practitioners serve the weights as shipped
    whenever they fit); 3: a known loss, checkpoint exists; 2: a known loss, convert it yourself; 1 and
    0: the same with an unknown loss. A deployment of a higher tier always ranks above a lower one."""
    if loss is not None and loss.basis == "native" and available:
        return 4
    return (2 if loss is None or loss.known else 0) + (1 if available else 0)


def total(v: Verdict) -> float:
    """The verdict's score; a verdict with none (nothing estimated) ranks below every other."""
    return v.score.total if v.score is not None else -math.inf


def rank(v: Verdict) -> tuple:
    return (v.loss is not None and not v.loss.known, v.convert is not None, -total(v), v.model.id)


def closeness(v: Verdict) -> tuple:
    """An engine that runs on this hardware first (a miss the support matrix rules out teaches nothing
    about sizing), then fewer failed rules, then less memory over capacity: the most instructive miss."""
    m = v.estimate.memory if v.estimate else None
    over = m.per_gpu / m.usable if m and m.usable > 0 else math.inf
    return (all(r.rule != HARDWARE_SUPPORT.id for r in v.failed), -len(v.failed), -over)
