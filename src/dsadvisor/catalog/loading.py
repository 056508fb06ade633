"""Reading catalog YAML safely: where the bundled files are, and limits on a user's files.

Only PyYAML's safe loader is used (no Python objects are ever constructed). A
user's file is checked while it is parsed, before anything is built from it:
its size, its nesting depth, and the size the document would have once its
aliases are expanded, so a 1 KB "billion laughs" file is refused in
milliseconds instead of being handed, exponentially large, to validation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsadvisor.errors import CatalogError, clipped, quoted
from dsadvisor.records import record


@record(frozen=True)
class Limits:
    """Bounds on a user's YAML file (documented in docs/catalog.md)."""

    max_bytes: int = 4 * 1024 * 1024  # 4 MiB: the bundled catalog is ~200 KB
    max_depth: int = 64  # the schema nests 4 levels deep
    max_nodes: int = 500_000  # after alias expansion
    # files and folders the walks of all --catalog folders and $DSADVISOR_CATALOG entries visit (`--catalog /`)
    max_walk_entries: int = 10_000
    # YAML files all --catalog and $DSADVISOR_CATALOG entries name together (the bundled catalog has ~40)
    max_yaml_files: int = 1_000
    max_problems: int = 20  # catalog problems described; the rest are counted (35,000 bad entries: 20 lines)


@dataclass
class Tally:
    """What the walks of one load have found so far: the limits hold for all of a user's entries together."""

    visited: int = 0
    found: int = 0


USER_LIMITS = Limits()
ENV_VAR = "DSADVISOR_CATALOG"


def bundled_catalog_dir() -> Path:
    """The catalog shipped with dsadvisor.

    An installed wheel carries it inside this package (dsadvisor/catalog/bundled); a source
    checkout or editable install finds it at the repository's top (catalog/).
    """
    here = Path(__file__).resolve().parent
    candidates = (here / "bundled", here.parents[2] / "catalog")
    for candidate in candidates:
        if (candidate / "models").is_dir():
            return candidate
    raise CatalogError([f"{here}: the bundled catalog is missing (looked in "
                        f"{' and '.join(str(c) for c in candidates)})"])


def yaml_files(path: Path, limits: Limits | None = USER_LIMITS, tally: Tally | None = None) -> list[Path]:
    """A file, or every *.yaml / *.yml file under a folder, in a stable order.

    Symlinked folders inside are not followed. With ``limits``, a walk that visits more than
    ``max_walk_entries`` files and folders, or finds more than ``max_yaml_files`` YAML files, stops
    with a CatalogError (a mistyped ``--catalog /`` would otherwise walk the whole file system).
    ``tally`` carries the counts of the walks before this one, so the limits hold for all together.
    """
    tally = tally if tally is not None else Tally()
    before, walked = tally.found, tally.visited
    if not path.is_dir():
        tally.found += 1
        if limits is not None and tally.found > limits.max_yaml_files:
            raise CatalogError([_too_many(path, limits, before)])
        return [path]
    found: list[Path] = []
    folders = [str(path)]
    while folders:
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    tally.visited += 1
                    if limits is not None and tally.visited > limits.max_walk_entries:
                        raise CatalogError([f"{clipped(path)}: folder holds more than {limits.max_walk_entries:,} "
                                            "files and folders" + (" with the catalog folders before it" if walked
                                                                   else "") + "; name a smaller catalog folder"])
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    elif os.path.splitext(entry.name)[1] in (".yaml", ".yml") and entry.is_file():
                        found.append(Path(entry.path))
                        tally.found += 1
                        if limits is not None and tally.found > limits.max_yaml_files:
                            raise CatalogError([_too_many(path, limits, before)])
        except OSError:  # a folder inside that cannot be listed holds nothing readable (as rglob skips it)
            continue
    return sorted(found)


def _too_many(path: Path, limits: Limits, before: int) -> str:
    if not before:
        return (f"{clipped(path)}: folder holds more than {limits.max_yaml_files:,} YAML files; "
                "name a smaller catalog folder")
    return (f"{clipped(path)}: with the {before:,} YAML files named before it (--catalog and $DSADVISOR_CATALOG), "
            f"more than {limits.max_yaml_files:,} YAML files in all; name fewer or smaller catalogs")


def user_catalog_paths(cli_paths: list[Path] | None) -> list[Path]:
    """``--catalog`` paths, after those named by $DSADVISOR_CATALOG (os.pathsep-separated)."""
    env = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    return env + list(cli_paths or [])


def read_at_most(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None past ``limit``: read, not trusted from stat (/dev/zero says 0 bytes)."""
    with open(path, "rb") as fh:
        raw = fh.read(limit + 1)
    return raw if len(raw) <= limit else None


def read_catalog_bytes(path: Path, limits: Limits | None = USER_LIMITS) -> bytes:
    """One file's bytes, read once (the cache key and the parse both use them); a CatalogError names the file."""
    try:
        raw = path.read_bytes() if limits is None else read_at_most(path, limits.max_bytes)
        if raw is None:
            cap = limits.max_bytes if limits is not None else 0
            raise CatalogError([f"{path}: file is over {cap:,} bytes; the limit is {cap:,}"])
    except IsADirectoryError:
        raise CatalogError([f"{path}: is a directory, not a YAML file"]) from None
    except FileNotFoundError:
        raise CatalogError([f"{path}: no such file"]) from None
    except OSError as exc:
        raise CatalogError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    return raw


def read_yaml(path: Path, limits: Limits | None = USER_LIMITS, raw: bytes | None = None) -> Any:
    """Parse one YAML file (``raw``: its bytes, already read); every failure is a CatalogError naming the file."""
    if raw is None:
        raw = read_catalog_bytes(path, limits)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError([f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    import yaml  # here, not at the top: a run that finds the catalog cached never parses YAML

    loader = _safe_loader_class()(text)
    try:
        aliases = False
        if limits is not None:
            aliases = _check_events(path, text, limits)
            loader.checked_path = path  # construct_mapping refuses a key given twice
        node = loader.get_single_node()
        if node is None:
            return None
        if aliases and limits is not None:  # without an alias the document is no larger than the events counted
            _check_expanded_size(path, node, limits)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise CatalogError([f"{path}{where}: invalid YAML: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:  # e.g. a NUL byte: the reader's message runs on to a second line
        raise CatalogError([f"{path}: invalid YAML: {str(exc).splitlines()[0]}"]) from None
    except (ValueError, OverflowError) as exc:  # a scalar the constructor cannot build: 2024-13-45, !!int x
        raise CatalogError([f"{path}: invalid YAML value: {str(exc).splitlines()[0]}"]) from None
    except RecursionError:
        raise CatalogError([f"{path}: nested too deeply"]) from None
    finally:
        loader.dispose()


_LOADER: Any = None


def _safe_loader_class():
    """libyaml's safe loader (~10x faster; in PyYAML's wheels), else the pure-Python one; with a
    ``checked_path`` it refuses a key given twice in one mapping as it builds the mapping (no extra walk)."""
    global _LOADER
    if _LOADER is None:
        import yaml

        class CheckedSafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            checked_path: Path | None = None

            def construct_mapping(self, node, deep=False):
                if self.checked_path is not None and isinstance(node, yaml.MappingNode):
                    _check_unique_keys(self.checked_path, node)
                return super().construct_mapping(node, deep=deep)

        _LOADER = CheckedSafeLoader
    return _LOADER


def _check_events(path: Path, text: str, limits: Limits) -> bool:
    """Depth and raw node count from the event stream (the parser is not recursive); whether it holds an
    alias (only then can the document expand beyond its events)."""
    import yaml

    opening = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    closing = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    alias, max_depth, max_nodes = yaml.AliasEvent, limits.max_depth, limits.max_nodes
    depth = events = 0
    aliases = False
    for event in yaml.parse(text, Loader=_safe_loader_class()):
        events += 1
        kind = type(event)
        if kind in opening:
            depth += 1
            if depth > max_depth:
                raise CatalogError([f"{path}: nested deeper than {limits.max_depth} levels"])
        elif kind in closing:
            depth -= 1
        elif kind is alias:
            aliases = True
        if events > max_nodes:
            raise CatalogError([f"{path}: more than {limits.max_nodes:,} YAML nodes"])
    return aliases


def _check_expanded_size(path: Path, root: Any, limits: Limits) -> None:
    """Count nodes as if aliases were copied, memoised per node so bombs cost O(nodes)."""
    import yaml

    size: dict[int, int] = {}
    open_nodes: set[int] = set()  # on the current path: meeting one again is a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in size:
            continue
        if not children_done and id(node) in open_nodes:
            raise CatalogError([f"{path}: an alias refers to a node that contains it (recursive YAML); refused"])
        if isinstance(node, yaml.ScalarNode):
            size[id(node)] = 1
            continue
        children = (
            [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        )
        if children_done:
            total = 1 + sum(size.get(id(c), 0) for c in children)
            if total > limits.max_nodes:
                raise CatalogError(
                    [f"{path}: expands to more than {limits.max_nodes:,} nodes (alias expansion); refused"]
                )
            size[id(node)] = total
            open_nodes.discard(id(node))
        else:
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)


def _check_unique_keys(path: Path, node: Any) -> None:
    """A key given twice in one mapping: PyYAML keeps the last silently (a whole `models:` section lost)."""
    import yaml

    seen: set[tuple[str, str]] = set()
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":  # not <<: *base
            continue
        if (key.tag, key.value) in seen:
            mark = key.start_mark
            raise CatalogError([f"{path}:{mark.line + 1}:{mark.column + 1}: key {quoted(key.value)} appears twice "
                                "in one mapping (YAML keeps only the last); refused"])
        seen.add((key.tag, key.value))
