"""The catalog: bundled YAML plus a user's files, validated, merged, and looked up by name.

A user's entry with the same id as a bundled one replaces it. Validated catalogs
are cached (see ``dsadvisor.catalog.cache``): reading and validating the YAML costs more than
the whole of a ``recommend`` run, and a cached catalog of plain dataclasses loads
without importing PyYAML or pydantic.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import field, replace
from pathlib import Path
from typing import Any

from dsadvisor.errors import CatalogError, InputError, UnknownNameError, clipped, quoted, suggest, typed
from dsadvisor.catalog.loading import (USER_LIMITS, Limits, Tally, bundled_catalog_dir, read_catalog_bytes,
                                       read_yaml, user_catalog_paths, yaml_files)
from dsadvisor.catalog.schema import (Architecture, Artifact, CatalogFile, Engine, Gpu, ModelEntry, QualityLoss,
                                      QuantFormat, validate)
from dsadvisor.records import record

SECTIONS = ("models", "gpus", "quantizations", "engines", "artifacts")
# Formats that hold every model here as shipped (DeepSeek ships bf16 or fp8; both widen into 16 bits
# exactly): serving in them loses nothing, by definition
SIXTEEN_BIT = ("bf16", "fp16")
# The formats each shipped dtype is, bit for bit: fp8 checkpoints run as fp8 W8A8, or weight-only
# through Marlin on GPUs without fp8 tensor cores (the same bytes)
NATIVE_FORMATS = {"fp8": ("fp8", "fp8-marlin"), "bf16": ("bf16",), "fp16": ("fp16",),
                  "fp8-fp4experts": ("fp8-fp4experts",),  # DeepSeek-V4: FP8 with FP4 routed experts
                  "int4-experts": ("int4-experts",),  # Kimi-K2.5 (--config): INT4 routed experts, the rest bf16
                  # a local AWQ / GPTQ checkpoint (--config: its quantization_config)
                  "awq-int4": ("awq-int4",), "gptq-int4": ("gptq-int4",)}
# Engines that load GGUF files (or tags of them), never a Hugging Face safetensors checkpoint
GGUF_ENGINES = ("llama.cpp", "ollama")


@record(frozen=True)
class Loss:
    """A format's expected quality loss for one model: the figure, or None when nothing published
    measures it; ``basis`` says what the figure was measured on."""

    percent: float | None
    basis: str  # "native", "this checkpoint", "this model", "this family", "other models", "unknown"
    source: str = ""
    note: str = ""

    @property
    def known(self) -> bool:
        return self.percent is not None

    def describe(self) -> str:
        if self.percent is None:
            return "quality loss unknown: no published measurement"
        if self.basis == "native":
            return "no quality loss: the model's own format"
        return f"{self.percent:.2g}% expected quality loss (measured on {self.basis}: {self.source})"


@record(frozen=True)
class Override:
    """A bundled entry that a user's file replaced: said on every run that uses it (docs/catalog.md)."""

    id: str
    kind: str  # model, gpu, quantization, engine or artifact
    file: str  # the user's file whose entry is in use


KINDS = {"models": "model", "gpus": "gpu", "quantizations": "quantization", "engines": "engine",
         "artifacts": "artifact"}


@record(frozen=True)
class Catalog:
    models: dict[str, ModelEntry]
    gpus: dict[str, Gpu]
    quantizations: dict[str, QuantFormat]
    engines: dict[str, Engine]
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # "section:id" -> file it came from
    overrides: tuple[Override, ...] = ()  # bundled entries a user's file replaced, in load order
    _model_index: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    # results derived from this catalog alone (the audit's advice findings), kept with it so they die
    # with it: never found again under another catalog's id() in a long-lived process
    memo: dict[object, object] = field(default_factory=dict, repr=False, compare=False)

    # ----------------------------------------------------------------- lookup
    def model(self, name: str) -> ModelEntry:
        """A model by id, display name, Hugging Face repo (with or without ``deepseek-ai/``), alias, or an
        Ollama tag (``deepseek-r1:14b``: a name with a colon; an unknown one suggests the tags known)."""
        if ":" in name:
            return self.models[self.ollama_artifact(name).model]
        for key in (_key(name), _loose(name)):
            ids = self._model_index.get(key)
            if ids and len(ids) == 1:
                return self.models[ids[0]]
            if ids:
                raise InputError(f"model name {quoted(name)} is ambiguous: it could be {', '.join(ids)}; give the id")
        # ids, then names (a set's order varies from run to run, and so would the suggestions)
        raise UnknownNameError("model", name, [*self.models, *sorted(_names(self.models.values()))])

    def architecture(self, entry: ModelEntry) -> Architecture | None:
        """The entry's own architecture, or the one it borrows with ``architecture_from``."""
        seen = set()
        while entry.architecture is None and entry.architecture_from and entry.id not in seen:
            seen.add(entry.id)
            entry = self.models[entry.architecture_from]
        return entry.architecture

    def with_model(self, entry: ModelEntry) -> "Catalog":
        """This catalog with one more model (a local config.json's), found by its id."""
        index = dict(self._model_index)
        index[_key(entry.id)] = (entry.id,)
        return replace(self, models={**self.models, entry.id: entry}, _model_index=index, memo={})

    def quantization(self, name: str) -> QuantFormat:
        return _by_id_or_alias(self.quantizations, name, "quantization format")

    # -------------------------------------------------------------- artifacts
    def ollama_artifact(self, tag: str) -> Artifact:
        """The artifact an Ollama tag names (``deepseek-r1`` is ``deepseek-r1:latest``)."""
        tags = {a.ollama_tag: a for a in self.artifacts.values() if a.ollama_tag}
        for t, a in tags.items():
            if tag.strip().lower() in (t.lower(), f"{t.lower()}:latest"):
                return a
        raise UnknownNameError("Ollama tag", tag, sorted(tags),
                               "dsadvisor knows the tags in its catalog's artifacts; `ollama list` shows yours")
    def artifacts_of(self, model_id: str) -> list[Artifact]:
        """The checkpoints that exist for a model: its official weights first (the catalog's repository
        in the format it ships in, unless an artifact entry lists them), then the listed ones.
        Kept in ``memo``: recommend asks for every model x format x engine (was 0.23 s of 0.74 s)."""
        key = ("artifacts_of", model_id)
        if key not in self.memo:
            self.memo[key] = tuple(self._artifacts_of(model_id))
        return list(self.memo[key])  # type: ignore[call-overload]

    def _artifacts_of(self, model_id: str) -> list[Artifact]:
        listed = list(self._listed_by_model().get(model_id, ()))
        entry = self.models.get(model_id)
        official = _official(entry, self) if entry is not None else None
        if official is not None and not any(a.repo == official.repo and a.format == official.format
                                            and a.file is None for a in listed):
            listed.insert(0, official)
        return sorted(listed, key=lambda a: (not a.official, a.ollama_tag is not None, a.id))

    def _listed_by_model(self) -> dict[str, list[Artifact]]:
        """The artifact entries of every model, in the catalog's order: one pass over them for all models
        (each model's own pass over every artifact was 58 passes of ~250 in an A100 recommend). Kept in
        ``memo`` with the ``artifacts`` it was built from."""
        held = self.memo.get("artifacts_by_model")
        if held is not None and held[0] is self.artifacts:  # type: ignore[index]
            return held[1]  # type: ignore[index]
        found: dict[str, list[Artifact]] = {}
        for a in self.artifacts.values():
            found.setdefault(a.model, []).append(a)
        self.memo["artifacts_by_model"] = (self.artifacts, found)
        return found

    def artifact(self, model_id: str, quant_id: str, engine_id: str) -> Artifact | None:
        """The checkpoint an engine would load for a model in a format: the official one first, then one
        with a published measurement, then one whose size is stated, smallest first; None when none exists.
        Read from a per-model index kept in ``memo``: recommend asks for every format x engine of a model."""
        return self.artifact_index(model_id).get((quant_id, engine_id))

    def artifact_index(self, model_id: str) -> dict[tuple[str, str], Artifact]:
        """(format, engine) -> the checkpoint ``artifact`` picks, for one model; kept in ``memo``."""
        key = ("artifact", model_id)
        if key not in self.memo:
            self.memo[key] = self._artifact_index(model_id)
        return self.memo[key]  # type: ignore[return-value]

    def _artifact_index(self, model_id: str) -> dict[tuple[str, str], Artifact]:
        """(format, engine) -> the artifact ``artifact`` picks: the first after a stable sort of those listed."""
        found: dict[tuple[str, str], list[Artifact]] = {}
        for a in self.artifacts_of(model_id):
            for engine_id in dict.fromkeys(a.engines):
                found.setdefault((a.format, engine_id), []).append(a)
        return {k: min(v, key=lambda a: (not a.official, not a.quality_loss, a.size_bytes is None,
                                         a.size_bytes or 0)) for k, v in found.items()}

    def native_formats(self, entry: ModelEntry) -> tuple[str, ...]:
        """The formats the model is served in as shipped, plus the 16-bit ones (lossless widenings).
        Kept in ``memo`` with the entry it was worked out for (recommend asks 2,400 times a run)."""
        key = ("native_formats", entry.id)
        held = self.memo.get(key)
        if held is not None and held[0] is entry:  # type: ignore[index]
            return held[1]  # type: ignore[index]
        found = self._native_formats(entry)
        self.memo[key] = (entry, found)
        return found

    def _native_formats(self, entry: ModelEntry) -> tuple[str, ...]:
        shipped = entry.weights_dtype.value.lower() if entry.weights_dtype else "bf16"
        key = shipped if shipped in NATIVE_FORMATS else next((k for k in NATIVE_FORMATS if shipped.startswith(k)), "bf16")
        return NATIVE_FORMATS[key] + tuple(f for f in SIXTEEN_BIT if f not in NATIVE_FORMATS[key])

    def loss(self, entry: ModelEntry, fmt: QuantFormat) -> Loss:
        """The format's expected quality loss for this model, from the closest measurement published:
        none for its native format; else this model's own checkpoints, then figures measured on this
        model, on its family, on other models; None (unknown) when no source measures the format.
        Kept in ``memo`` with the entry and format it was worked out for (recommend asks for every format
        of a model several times)."""
        key = ("loss", entry.id, fmt.id)
        held = self.memo.get(key)
        if held is not None and held[0] is entry and held[1] is fmt:  # type: ignore[index]
            return held[2]  # type: ignore[index]
        loss = self._loss(entry, fmt)
        self.memo[key] = (entry, fmt, loss)
        return loss

    def _loss(self, entry: ModelEntry, fmt: QuantFormat) -> Loss:
        if fmt.id in self.native_formats(entry):
            return Loss(0.0, "native", "the model's own format (lossless by definition)")
        for basis, figures in self._measured(entry, fmt):
            if figures:
                worst = max(figures, key=lambda q: q.percent)  # the largest: conservative
                return Loss(worst.percent, basis, worst.source, worst.note or "")
        return Loss(None, "unknown")

    def _measured(self, entry: ModelEntry, fmt: QuantFormat) -> Iterator[tuple[str, Sequence[QualityLoss]]]:
        """The published figures of ``fmt``'s loss that could stand for ``entry``'s, closest first, each tier worked
        out only when the closer ones hold none: this model's own checkpoints (few artifacts carry a figure, so
        they are looked up in an index of those that do), figures on this model, on its family, on other models."""
        yield "this checkpoint", self._checkpoint_losses().get((entry.id, fmt.id), ())
        by_model, by_family, others = self._format_losses(fmt)
        yield "this model", by_model.get(entry.id, ())
        yield "this family", by_family.get(entry.family, ())
        yield "other models", others

    def _format_losses(self, fmt: QuantFormat) -> tuple[dict[str, list[QualityLoss]], dict[str, list[QualityLoss]],
                                                         list[QualityLoss]]:
        """``fmt``'s loss figures measured on each model, on each family, and on models outside the catalog, each
        in the format's order: one pass over its figures for every model asked about (the search asks for every
        model x format, ~800 an A100 run; each was three passes). Kept in ``memo`` with the format."""
        key = ("format_losses", fmt.id)
        held = self.memo.get(key)
        if held is not None and held[0] is fmt:  # type: ignore[index]
            return held[1]  # type: ignore[index]
        by_model: dict[str, list[QualityLoss]] = {}
        by_family: dict[str, list[QualityLoss]] = {}
        others: list[QualityLoss] = []
        for q in fmt.quality_loss:
            for m in dict.fromkeys(q.models):  # a figure once per model, as `entry.id in q.models` reads it
                by_model.setdefault(m, []).append(q)
            for f in dict.fromkeys(q.families):
                by_family.setdefault(f, []).append(q)
            if not q.models and not q.families:
                others.append(q)
        found = (by_model, by_family, others)
        self.memo[key] = (fmt, found)
        return found

    def _checkpoint_losses(self) -> dict[tuple[str, str], list[QualityLoss]]:
        """(model, format) -> the loss figures its checkpoints carry, in ``artifacts_of`` order: built once for all
        models from the artifacts that have one (kept in ``memo`` with the ``artifacts`` it was built from)."""
        held = self.memo.get("checkpoint_losses")
        if held is not None and held[0] is self.artifacts:  # type: ignore[index]
            return held[1]  # type: ignore[index]
        found: dict[tuple[str, str], list[QualityLoss]] = {}
        for model_id in dict.fromkeys(a.model for a in self.artifacts.values() if a.quality_loss):
            for a in self.artifacts_of(model_id):
                found.setdefault((model_id, a.format), []).extend(a.quality_loss)
        self.memo["checkpoint_losses"] = (self.artifacts, found)
        return found

    def engine(self, name: str) -> Engine:
        return _by_id_or_alias(self.engines, name, "engine")


def _official(entry: ModelEntry, catalog: "Catalog") -> Artifact | None:
    """The model's own repository as an artifact, in the format it ships in."""
    if entry.hf_repo is None or entry.status != "released":
        return None
    fmt = catalog.native_formats(entry)[0]
    engines = [e.id for e in catalog.engines.values() if fmt in e.formats and e.id not in GGUF_ENGINES]
    if not engines:
        return None
    return Artifact(id=f"{entry.id}-official", model=entry.id, format=fmt, repo=entry.hf_repo, engines=engines,
                    license=entry.license.value if entry.license else None, official=True,
                    source=f"https://huggingface.co/{entry.hf_repo}",
                    note="the weights as the authors ship them")


def _key(name: str) -> str:
    key = typed(name).strip().lower()
    return key.removeprefix("deepseek-ai/")


def _loose(name: str) -> str:
    return re.sub(r"[\s_.\-/]", "", _key(name))


def _names(entries) -> set[str]:
    return {e.name for e in entries}


def _by_id_or_alias(table: dict[str, Any], name: str, kind: str):
    if name in table:
        return table[name]
    key = _loose(name)
    for item in table.values():
        if key in {_loose(item.id), _loose(item.name), *(_loose(a) for a in item.aliases)}:
            return item
    raise UnknownNameError(kind, name, list(table) + [a for i in table.values() for a in i.aliases])


def _index_models(models: dict[str, ModelEntry]) -> dict[str, tuple[str, ...]]:
    """normalised name -> ids; an id always wins over another entry's alias."""
    index: dict[str, list[str]] = {}

    def add(key: str, mid: str) -> None:
        ids = index.setdefault(key, [])
        if mid not in ids:
            ids.append(mid)

    for m in models.values():
        names = [m.id, m.name, *m.aliases]
        if m.hf_repo:
            names += [m.hf_repo, m.hf_repo.rsplit("/", 1)[-1]]
        for n in names:
            add(_key(n), m.id)
            add(_loose(n), m.id)
    for m in models.values():  # exact ids are never ambiguous
        index[_key(m.id)] = [m.id]
    return {k: tuple(v) for k, v in index.items()}


# --------------------------------------------------------------- validation

def validate_file(path: Path, limits: Limits | None = USER_LIMITS, raw: bytes | None = None,
                  shown: int | None = None) -> CatalogFile:
    """Parse and validate one YAML file (``raw``: its bytes, if already read); a CatalogError lists its
    problems, one per line: the first ``shown`` (default ``limits.max_problems``; all without limits)
    described, the rest counted in ``more``."""
    from pydantic import ValidationError

    data = read_yaml(path, limits, raw)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CatalogError([f"{path}: top level must be a mapping with sections {', '.join(SECTIONS)}"])
    try:
        return validate(CatalogFile, data)
    except ValidationError as exc:
        if shown is None:
            shown = limits.max_problems if limits is not None else exc.error_count()
        errors = exc.errors(include_url=False, include_input=False)  # a bad entry's input can be huge
        described = [_describe(path, data, err) for err in errors[:max(shown, 0)]]
        more = len(errors) - len(described)
        raise CatalogError(described, more, (str(path),) if more else ()) from None


def _describe(path: Path, data: dict, err: Any) -> str:
    """One line: file, entry (section[index] and its id), field, problem."""
    full = loc = list(err["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] in SECTIONS and isinstance(loc[1], int):
        section, index = loc[0], loc[1]
        items = data.get(section)
        entry_id = None
        if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
            entry_id = items[index].get("id")
        where = f"{section}[{index}]" + (f" (id {clipped(entry_id)})" if entry_id else "")
        loc = loc[2:]
    # pydantic reports a union's branches in the location; keep only field names and indices
    fields = ".".join(str(p) for p in loc if isinstance(p, int) or not re.search(r"[\[\]()]", str(p)))
    msg = err["msg"]
    if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        msg = "unknown field"
        known = _record_fields(full[:-1]) if full else None
        key = str(full[-1]) if full else ""
        guess = suggest(key, [f for f in known if f != key], n=1) if known else []
        if guess:
            msg += f"; did you mean {guess[0]!r}?"
        elif len(full) == 1:  # a misplaced key at the top of the file
            msg += f"; a file's top level holds {', '.join(known or ())}"
    elif err["type"] in ("missing", "missing_keyword_argument"):
        msg = "required field is missing"
    elif err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    parts = [str(path)] + [p for p in (where, f"field {fields}" if fields else "") if p]
    return ": ".join(parts) + f": {msg}"


def _record_fields(loc: list) -> list[str] | None:
    """The fields of the record at ``loc`` (a pydantic location inside a file), or None where it
    cannot be told (a union's branch, a key that is no field)."""
    import dataclasses
    import types
    import typing

    import annotated_types

    from dsadvisor.catalog import schema

    tp: Any = schema.CatalogFile
    for part in [*loc, None]:
        while True:  # Optional[X], X | None, Annotated[X, ...]: X
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if typing.get_origin(tp) is typing.Annotated:
                tp = args[0]
            elif typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
                tp = args[0]
            else:
                break
        if part is None:
            return schema.field_names(tp) if dataclasses.is_dataclass(tp) else None
        if isinstance(part, int) and typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
        elif isinstance(part, str) and dataclasses.is_dataclass(tp) and part in schema.field_names(tp):
            # the annotations are strings; the constraint markers resolve from annotated_types
            tp = typing.get_type_hints(tp, vars(schema), vars(annotated_types), include_extras=True)[part]
        else:
            return None
    return None  # pragma: no cover - the loop returns at its last part (None)


# ------------------------------------------------------------------ loading

def load_catalog(paths: list[Path] | None = None, *, bundled: bool = True, use_env: bool = True,
                 derive: Callable[[Catalog], object] | None = None) -> Catalog:
    """The bundled catalog plus ``paths`` (files or folders) and $DSADVISOR_CATALOG.

    Each of a user's files is read once: the same bytes key the cache (``dsadvisor.catalog.cache``) and,
    on a miss, are parsed, so a file rewritten in between cannot leave one file's models cached under
    another's key.

    ``derive``: called on a catalog just built that is about to be cached, to work out answers that depend on
    the catalog alone into its ``memo``, which is cached with it (the key covers the package's code, so an
    entry never holds answers of other code). If it raises, the entry is written without them.
    """
    from dsadvisor.catalog import cache

    files = _input_files(paths, bundled=bundled, use_env=use_env)
    raw = _read_user_files(files)
    entry = _cache_entry(files, raw)
    if entry is not None:
        cached = cache.read_entry(entry, Catalog)
        if cached is not None:
            return cached  # type: ignore[return-value]
    catalog = _build(files, raw)
    if entry is not None:
        if derive is not None:
            _derive(catalog, derive)
        cache.write_entry(entry, catalog)
    return catalog


def _derive(catalog: Catalog, derive: Callable[[Catalog], object]) -> None:
    """``derive(catalog)``; on any error the memo is as it was (what the run needs is worked out as usual)."""
    before = dict(catalog.memo)
    try:
        derive(catalog)
    except Exception:  # noqa: BLE001 - only speed is at stake: the search asks again and says what is wrong
        catalog.memo.clear()
        catalog.memo.update(before)


def cache_entry(paths: list[Path] | None = None, *, bundled: bool = True, use_env: bool = True) -> Path | None:
    """The cache file ``load_catalog`` with these arguments would read and write now (None: uncached)."""
    files = _input_files(paths, bundled=bundled, use_env=use_env)
    return _cache_entry(files, _read_user_files(files))


def _read_user_files(files: list[tuple[Path, bool]]) -> dict[Path, bytes | CatalogError]:
    """Each of a user's files, read once (or the error reading it gave, said by _build in its place)."""
    raw: dict[Path, bytes | CatalogError] = {}
    for path, is_user in files:
        if is_user and path not in raw:
            try:
                raw[path] = read_catalog_bytes(path, USER_LIMITS)
            except CatalogError as exc:
                raw[path] = exc
    return raw


def _cache_entry(files: list[tuple[Path, bool]], raw: dict[Path, bytes | CatalogError]) -> Path | None:
    from dsadvisor.catalog import cache

    folder = cache.cache_dir()
    if folder is None or any(isinstance(r, CatalogError) for r in raw.values()):
        return None
    # the package's code: an edited module in a source checkout invalidates the cache too (the entry keeps
    # answers worked out by the code as well as the catalog: ``derive``)
    inputs: list[tuple[str | Path, bytes | None]] = [(path, None) for path in package_sources()]
    for path, is_user in files:
        data = raw[path] if is_user else None
        inputs.append((path, data if isinstance(data, bytes) else None))
    try:
        return cache.entry_path(folder, inputs)
    except OSError:  # a bundled file that cannot be stat'ed: parsed uncached (and said there)
        return None


def package_sources() -> list[str]:
    """Every module of the dsadvisor package, by path (as strings: ~65 files, each stat'ed every run), sorted."""
    found: list[str] = []
    folders = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for e in entries:
                if e.name.endswith(".py"):
                    found.append(e.path)
                elif e.name != "__pycache__" and not e.name.startswith(".") and e.is_dir():
                    folders.append(e.path)
    return sorted(found)


def _input_files(paths: list[Path] | None, *, bundled: bool, use_env: bool) -> list[tuple[Path, bool]]:
    """(file, is it a user's) for every YAML file to load, bundled first."""
    user = user_catalog_paths(paths) if use_env else list(paths or [])
    files: list[tuple[Path, bool]] = []
    if bundled:
        files += [(p, False) for p in yaml_files(bundled_catalog_dir(), None)]
    tally = Tally()  # the limits on a user's files hold for all of them together
    for p in user:
        try:
            exists = p.exists()
        except (OSError, ValueError) as exc:  # a name too long for the file system raises rather than answer False
            raise CatalogError([f"{clipped(p)}: cannot read: {getattr(exc, 'strerror', None) or exc}"]) from None
        if not exists:
            raise CatalogError([f"{clipped(p)}: no such file or directory"])
        found = yaml_files(p, USER_LIMITS, tally)
        if p.is_dir() and not found:
            raise CatalogError([f"{clipped(p)}: folder holds no .yaml or .yml file"])
        files += [(f, True) for f in found]
    return files


def _build(files: list[tuple[Path, bool]], raw: dict[Path, bytes | CatalogError]) -> Catalog:
    tables: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    origin: dict[str, str] = {}
    sources: dict[str, str] = {}
    problems = _Problems(USER_LIMITS.max_problems)
    bundled: set[str] = set()
    replaced: dict[str, Override] = {}
    for path, is_user in files:
        try:
            if is_user:
                data = raw[path]
                if isinstance(data, CatalogError):
                    raise data
                parsed = validate_file(path, raw=data, shown=problems.room())
            else:
                parsed = validate_file(path, None)
        except CatalogError as exc:
            problems.take(exc, path)
            continue
        sources.update(parsed.sources)
        for section in SECTIONS:
            seen: set[str] = set()  # one id twice in one file is a mistake, not a replacement
            for index, item in enumerate(getattr(parsed, section)):
                if item.id in seen:
                    problems.add(path, lambda: f"{path}: {section}[{index}] (id {item.id}): field id: "
                                 "already used by an earlier entry in this file")
                    continue
                seen.add(item.id)
                key = f"{section}:{item.id}"
                if key in origin and not is_user:
                    problems.add(path, lambda: f"{path}: {section} id {item.id!r} is already defined in "
                                 f"{origin[key]}")
                    continue
                if is_user and key in bundled:  # a user's entry replaces a bundled one: said every run
                    replaced[key] = Override(item.id, KINDS[section], str(path))
                elif not is_user:
                    bundled.add(key)
                tables[section][item.id] = item
                origin[key] = str(path)
    problems.raise_any()
    models = tables["models"]
    # a bundled checkpoint describes the bundled model: a user's replacement of the model drops it
    tables["artifacts"] = {i: a for i, a in tables["artifacts"].items()
                           if f"artifacts:{i}" not in bundled or f"artifacts:{i}" in replaced
                           or f"models:{a.model}" not in replaced}
    for where, line in [*_architecture_problems(models, origin), *_artifact_references(tables, origin)]:
        problems.add(where, lambda: line)
    problems.raise_any()
    return Catalog(
        models=models,
        gpus=tables["gpus"],
        quantizations=tables["quantizations"],
        engines=tables["engines"],
        artifacts=tables["artifacts"],
        sources=sources,
        origin=origin,
        overrides=tuple(replaced.values()),
        _model_index=_index_models(models),
    )


class _Problems:
    """A load's problems: the first ``shown`` described, the rest only counted (and their files named), so
    35,000 bad entries cost 20 descriptions, not 35,000."""

    def __init__(self, shown: int):
        self.shown, self.more = shown, 0
        self.lines: list[str] = []
        self.more_files: dict[str, None] = {}  # files with problems past the shown ones, in order

    def room(self) -> int:
        return max(self.shown - len(self.lines), 0)

    def add(self, path: Path, describe) -> None:
        if self.room():
            self.lines.append(describe())
        else:
            self.more += 1
            self.more_files[str(path)] = None

    def take(self, exc: CatalogError, path: Path) -> None:
        """One file's problems (``exc``, from reading or validating ``path``)."""
        room = self.room()
        self.lines += exc.problems[:room]
        more = exc.more + len(exc.problems[room:])
        if more:
            self.more += more
            self.more_files[str(path)] = None

    def raise_any(self) -> None:
        if self.lines or self.more:
            raise CatalogError(self.lines, self.more, tuple(self.more_files))


def _architecture_problems(models: dict[str, ModelEntry], origin: dict[str, str]) -> list[tuple[Path, str]]:
    """``architecture_from`` that names no model, and chains that come back on themselves (a -> b -> a,
    a -> a): such a model would have no shape, and every later estimate of it would be undetermined."""
    problems: list[tuple[Path, str]] = []
    for m in models.values():
        if m.architecture_from and m.architecture_from not in models:
            where = origin["models:" + m.id]
            problems.append((Path(where), f"{where}: models (id {m.id}): field architecture_from: "
                                          f"no model with id {m.architecture_from!r}"))
    if problems:
        return problems
    walked: set[str] = set()  # every id a walk has passed: each is walked once (a 35,000-long chain is linear)
    for m in models.values():
        chain: list[str] = []
        at: str | None = m.id
        while at is not None and at not in walked:
            walked.add(at)
            chain.append(at)
            at = models[at].architecture_from
        if at is not None and at in chain:  # this walk met itself: a cycle (one met by an earlier walk is said)
            cycle = chain[chain.index(at):]
            first = min(cycle)  # said the same way whichever member the walk started from
            turn = cycle[cycle.index(first):] + cycle[:cycle.index(first)]
            where = origin["models:" + first]
            problems.append((Path(where), f"{where}: models (id {first}): field architecture_from: a cycle, "
                                          f"{' -> '.join([*turn, first])}; one of them needs an architecture"))
    return problems


def _artifact_references(tables: dict[str, dict[str, Any]], origin: dict[str, str]) -> list[tuple[Path, str]]:
    """An artifact names a model, a format and engines the catalog holds: (file, problem) for each that does not."""
    problems: list[tuple[Path, str]] = []
    for a in tables["artifacts"].values():
        file = Path(origin["artifacts:" + a.id])
        where = f"{origin['artifacts:' + a.id]}: artifacts (id {a.id})"
        for name, value, table in (("model", a.model, "models"), ("format", a.format, "quantizations")):
            if value not in tables[table]:
                guess = suggest(value, list(tables[table]), n=1)
                what = table[:-1] if table != "quantizations" else "format"
                problems.append((file, f"{where}: field {name}: no {what} {quoted(value)}"
                                       + (f"; did you mean {guess[0]!r}?" if guess else "")))
        for e in a.engines:
            if e not in tables["engines"]:
                problems.append((file, f"{where}: field engines: no engine {quoted(e)} "
                                       f"(known: {', '.join(tables['engines'])})"))
    return problems
