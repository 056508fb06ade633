"""An artifact's stated size against the weights its architecture computes in its format.

A checkpoint's download is its weights (plus a tokenizer and config, megabytes): a stated size far
from what the architecture gives in that format means the entry names the wrong model, format or
size. Hugging Face checkpoints hold the multi-token-prediction modules (V3/R1 ship them); GGUF files
and Ollama tags do not (llama.cpp's converter skips them), so each is compared with its own count.
"""

from __future__ import annotations

from typing import cast

from dsadvisor.catalog.schema import Artifact
from dsadvisor.catalog.store import Catalog
from dsadvisor.physics.memory import mtp_module_bytes, weight_bytes
from dsadvisor.physics.params import count_params

# How far a stated size may be from the computed weights before it contradicts them. Format mixes
# move real files by up to ~10% (a Q4_K_M file keeps some tensors at Q6_K; a GPTQ file of R1 keeps
# attention at 16 bits or not), and pages round sizes to whole GB or GiB.
SIZE_TOLERANCE = 0.15


def computed_bytes(catalog: Catalog, artifact: Artifact) -> int | None:
    """The weights the model's architecture gives in the artifact's format; None with no architecture."""
    entry = catalog.models.get(artifact.model)
    arch = catalog.architecture(entry) if entry else None
    fmt = catalog.quantizations.get(artifact.format)
    if arch is None or fmt is None:
        return None
    p = count_params(arch)
    total = weight_bytes(p, fmt, arch).total
    if artifact.file is None and artifact.ollama_tag is None and p.mtp:  # safetensors keep the MTP modules
        total += int(mtp_module_bytes(p, fmt, arch))
    return total


def size_problem(catalog: Catalog, artifact: Artifact) -> str | None:
    """Why the artifact's stated size contradicts its architecture, or None."""
    computed = computed_bytes(catalog, artifact)
    if artifact.size_bytes is None or not computed:
        return None
    off = artifact.size_bytes / computed - 1
    if abs(off) <= SIZE_TOLERANCE:
        return None
    where = catalog.origin.get(f"artifacts:{artifact.id}", "catalog")
    return (f"{where}: artifacts (id {artifact.id}): field size_bytes: {artifact.size_bytes:,} bytes contradicts "
            f"the architecture: {artifact.model} in {artifact.format} computes to {computed:,} bytes of weights "
            f"({off:+.0%}, more than {SIZE_TOLERANCE:.0%} off); check the model, format and size")


def size_problems(catalog: Catalog) -> list[str]:
    """Every artifact whose size contradicts its architecture, one line each."""
    return [p for a in catalog.artifacts.values() if (p := size_problem(catalog, a))]


def kept_size_problems(catalog: Catalog) -> list[str]:
    """``size_problems``, kept in the catalog's memo (and so in its cache entry, when worked out before it is
    written: ``advice.search.derived``)."""
    key = ("artifact-sizes",)
    if key not in catalog.memo:
        catalog.memo[key] = size_problems(catalog)
    return cast("list[str]", catalog.memo[key])


def checked(catalog: Catalog) -> Catalog:
    """The catalog, once no artifact's size contradicts its architecture; else a CatalogError naming each."""
    from dsadvisor.errors import CatalogError

    problems = kept_size_problems(catalog)
    if problems:
        raise CatalogError(list(problems))
    return catalog
