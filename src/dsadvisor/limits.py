"""The range of every number a user may give, in the units the command line takes (docs/cli.md).

One table, ``BOUNDS``, read by the command line (before anything runs) and by the library (a
``Constraints`` or a hardware request built in Python is held to the same ranges). The ceilings catch
typos and overflow (``--max-params 1e300`` became ``inf`` in the JSON) without limiting real hardware
or real workloads: each is orders of magnitude beyond anything that exists.

``MAX_HOST_BYTES`` bounds the system memory a plan may ask for (llama.cpp's layers kept in CPU memory,
a Kubernetes memory request): the largest shared-memory servers sold hold tens of terabytes.
"""

from __future__ import annotations

import math

from dsadvisor.errors import InputError
from dsadvisor.records import record


@record(frozen=True)
class Bound:
    low: float
    high: float
    low_allowed: bool = True  # False: the value must be greater than ``low``
    integer: bool = False
    unit: str = ""

    def describe(self) -> str:
        if self.low_allowed:
            return f"between {self.low:g} and {self.high:g}"
        return f"greater than {self.low:g} and at most {self.high:g}"


MAX_HOST_BYTES = 64 * 2**40  # 64 TiB of system memory: more than any machine sold has

BOUNDS: dict[str, Bound] = {
    "--vram": Bound(0.001, 100_000, unit="GB"),  # 100 TB on one device
    "--ram": Bound(0.001, MAX_HOST_BYTES / 1e9, unit="GB"),  # 70,369 GB: MAX_HOST_BYTES
    "--gpus": Bound(1, 100_000, integer=True),
    "--context": Bound(1, 100_000_000, integer=True, unit="tokens"),
    "--prompt-tokens": Bound(1, 100_000_000, integer=True, unit="tokens"),
    "--batch": Bound(1, 1_000_000, integer=True, unit="sequences"),
    "--tp": Bound(1, 100_000, integer=True, unit="GPUs"),
    "--pp": Bound(1, 100_000, integer=True, unit="stages"),
    "--dp-attention": Bound(1, 100_000, integer=True, unit="groups"),
    # draft tokens of MTP speculative decoding: the lengths published acceptance rates cover
    # (physics.deployment.MAX_MTP_DRAFT_TOKENS)
    "--mtp": Bound(0, 3, integer=True, unit="draft tokens"),
    "--output-tokens": Bound(1, 100_000_000, integer=True, unit="tokens"),
    "--concurrency": Bound(1, 1_000_000, integer=True, unit="requests"),  # --batch's new name
    "--top": Bound(1, 1_000_000, integer=True),
    "--max-ttft": Bound(0, 1e6, low_allowed=False, unit="s"),  # 11 days
    "--max-token-latency": Bound(0, 1e9, low_allowed=False, unit="ms"),  # the same 11 days
    "--min-tokens-per-s": Bound(0, 1e9, low_allowed=False, unit="tok/s"),
    "--min-total-tokens-per-s": Bound(0, 1e12, low_allowed=False, unit="tok/s"),
    "--min-accuracy": Bound(0, 100, unit="%"),
    "--memory-fraction": Bound(0, 1, low_allowed=False),
    "--min-params": Bound(0, 1e6, unit="billions"),  # a quadrillion parameters (schema.MAX_PARAMS)
    "--max-params": Bound(0, 1e6, low_allowed=False, unit="billions"),
}


def problem(flag: str, value: float | None) -> str | None:
    """What is wrong with ``value`` for ``flag`` (one line), or None when it is in range."""
    if value is None:
        return None
    b = BOUNDS[flag]
    if isinstance(value, float) and not math.isfinite(value):
        return f"{flag} must be a finite number, not {value}"
    if value < b.low or (value == b.low and not b.low_allowed) or value > b.high:
        return f"{flag} must be {b.describe()}, not {value:g}"
    if b.integer and int(value) != value:
        return f"{flag} must be a whole number, not {value:g}"
    return None


def check(flag: str, value: float | None) -> float | None:
    """``value`` when it is in ``flag``'s range; else an ``InputError`` saying the range."""
    message = problem(flag, value)
    if message:
        raise InputError(message)
    return value
