"""Every field of the catalog's schema is read by the code: a field set in YAML but never read
misleads whoever fills it in (``cpu_offload`` and ``weight_only`` were such fields)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from dsadvisor.catalog import engine_schema, schema

PACKAGE = Path(schema.__file__).resolve().parents[1]
# shown as they are (``dsadvisor show`` renders every field through as_dict), not computed with
DOCUMENTATION_ONLY = {("ModelEntry", "description")}


def _records():
    for module in (schema, engine_schema):
        for name, obj in vars(module).items():
            if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == module.__name__:
                yield name, obj


def test_every_schema_field_is_read_outside_the_schema():
    code = "\n".join(p.read_text() for p in PACKAGE.rglob("*.py") if p.name not in ("schema.py", "engine_schema.py"))
    unread = [(name, f.name) for name, rec in _records() for f in dataclasses.fields(rec)
              if not re.search(rf"\.{f.name}\b|[\"']{f.name}[\"']|\b{f.name}=", code)]
    assert set(unread) <= DOCUMENTATION_ONLY, f"fields no code reads: {sorted(set(unread) - DOCUMENTATION_ONLY)}"


def test_weight_only_is_derived_from_the_compute_dtype(catalog):
    for q in catalog.quantizations.values():
        assert q.weight_only == (q.compute_dtype in ("bf16", "fp16")), q.id
