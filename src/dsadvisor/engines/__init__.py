"""Layer 3, the serving engines: one interface (``base.ServingEngine``), one module per engine.

``serving_engine(spec)`` gives the implementation for a catalog engine entry; an engine a user's
catalog adds, with no module here, gets the generic one (its support matrix from the catalog data,
no launch command). Modules are imported when first asked for. Imports only the catalog and
physics layers.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dsadvisor.catalog.schema import Engine
    from dsadvisor.engines.base import ServingEngine

# catalog engine id -> module in this package holding its ServingEngine subclass ``ENGINE``
MODULES = {"vllm": "vllm", "sglang": "sglang", "tensorrt-llm": "trtllm", "llama.cpp": "llamacpp",
           "transformers": "transformers"}


def serving_engine(spec: "Engine") -> "ServingEngine":
    """The implementation of catalog engine ``spec``."""
    name = MODULES.get(spec.id)
    if name is None:
        from dsadvisor.engines.base import ServingEngine

        generic = ServingEngine(spec)
        generic.launches = False
        return generic
    return import_module(f"dsadvisor.engines.{name}").ENGINE(spec)
