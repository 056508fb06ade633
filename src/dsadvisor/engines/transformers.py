"""Hugging Face transformers: a library, not a server. It is estimated (the calibration harness
measured it) but has no launch command."""

from __future__ import annotations

from dsadvisor.engines.base import LaunchJob, ServingEngine
from dsadvisor.errors import InputError


class Transformers(ServingEngine):
    load_conversions = {"bf16": ("fp16",), "fp16": ("bf16",)}  # --dtype: either 16-bit type from the other
    id = "transformers"
    launches = False

    def server_argv(self, job: LaunchJob, notes: list[str]) -> list[str]:
        raise InputError("transformers is a library, not a serving engine: no launch command; "
                         "plan with --engine vllm, sglang, tensorrt-llm or llama.cpp")


ENGINE = Transformers
