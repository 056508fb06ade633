"""What a server is asked to do: how many requests at once, how long their prompts and answers are.

A benchmark at fixed concurrency (and a team's chat server at its busy hour) is a closed loop:
``concurrency`` users each send a request, wait for the whole answer, and send the next. The
figures in :mod:`dsadvisor.serving.server` are per request under that load.
"""

from __future__ import annotations


from dsadvisor.errors import InputError
from dsadvisor.physics.estimate import DEFAULT_ANSWER
from dsadvisor.records import record

# Defaults when the user names no workload. A chat turn: a 2K-token prompt (history + question), a
# 512-token answer; concurrency by the class of hardware (one person on a desktop card, a team on a
# datacenter box). Stated in every output that uses them.
DEFAULT_PROMPT_TOKENS = 2048
DEFAULT_OUTPUT_TOKENS = DEFAULT_ANSWER  # 512
DEFAULT_CONCURRENCY = {"datacenter": 32, "workstation": 4}  # every other category: 1


@record(frozen=True)
class Workload:
    concurrency: int = 1  # requests in flight at once
    prompt_tokens: int = DEFAULT_PROMPT_TOKENS
    output_tokens: int = DEFAULT_OUTPUT_TOKENS
    # Share of requests whose prompts arrive together with the other users' (None: the server model's
    # default, a benchmark's first wave): 1.0 for a client that keeps its users in lock step
    # (every prompt and answer the same length), 0.0 for users that never meet.
    in_step: float | None = None

    def __post_init__(self) -> None:
        for name in ("concurrency", "prompt_tokens", "output_tokens"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be at least 1")
        if self.in_step is not None and not 0.0 <= self.in_step <= 1.0:
            raise InputError("the share of requests arriving together must be between 0 and 1")

    @property
    def context(self) -> int:
        """Tokens a sequence holds at its end: what the KV cache must keep per request."""
        return self.prompt_tokens + self.output_tokens

    @property
    def mean_context(self) -> int:
        """Tokens a decode step reads on average over an answer."""
        return self.prompt_tokens + self.output_tokens // 2


def default_concurrency(category: str) -> int:
    return DEFAULT_CONCURRENCY.get(category, 1)
