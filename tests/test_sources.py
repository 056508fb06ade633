"""Every source in the bundled catalog is something a user can open: a URL, a paper with its
table, a seed article by its title and date, a file of this repository, or a label (a file's
``sources:`` entry) whose text is itself a URL. None names a file only the authors had
(``seeds/002_....txt``, ``reference/hardware.md``, ``calibration/README.md``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "catalog"

# The five articles the described variants come from, as a reader finds them: title and date.
SEED_ARTICLES = {
    "深度解析:DeepSeek模型版本演进与选型指南": "2025-09-17",
    "DeepSeek技术演进全解析:版本特性与选型指南": "2025-09-25",
    "DEEPSEEK参数量全解析:版本演进与工程实践指南": "2025-09-25",
    "DeepSeek开源模型综述与业内对比:技术解析与生态洞察": "2025-09-17",
    "DeepSeek进化全景:从初代到前沿的技术跃迁解析": "2025-09-25",
}
SEED_CITE = re.compile(r"seed article “([^”]+)” \((\d{4}-\d{2}-\d{2})\)")
URL = re.compile(r"https?://[^\s;,)]+")
PAPER_TABLE = re.compile(r"arXiv \d{4}\.\d{4,5}\b.*\b(Table|Figure|Section|rows)\b", re.I)
REPO_PATH = re.compile(r"\b((?:docs|benchmarks|catalog|src)/[\w./-]+)")
# file names a reader cannot open: the authors' working copies of seeds, references, calibration
PRIVATE = re.compile(r"seeds/|reference/(hardware|peers|deepseek-released)|/work/|(?<![\w/])calibration/|peers\.md")


def _files():
    return sorted(CATALOG.rglob("*.yaml"))


def _sources(node, out):
    """Every ``source`` string and every ``sources`` list entry under ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "source" and isinstance(value, str):
                out.append(value)
            elif key == "sources" and isinstance(value, list):
                out.extend(v for v in value if isinstance(v, str))
            else:
                _sources(value, out)
    elif isinstance(node, list):
        for value in node:
            _sources(value, out)
    return out


def _labels():
    labels = {}
    for path in _files():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        labels.update(data.get("sources") or {})
    return labels


LABELS = _labels()


def _openable(text: str) -> list[str]:
    """What in ``text`` a reader can open (empty: nothing)."""
    found = URL.findall(text) + [m.group(0) for m in PAPER_TABLE.finditer(text)]
    found += [f"seed {t}" for t, d in SEED_CITE.findall(text) if SEED_ARTICLES.get(t) == d]
    found += [p for p in REPO_PATH.findall(text) if (ROOT / p.rstrip(".")).exists()]
    found += [label for label in LABELS if re.search(rf"(?<![\w:-]){re.escape(label)}(?![\w-])", text)]
    return found


def _all():
    return [(path.relative_to(ROOT).as_posix(), s)
            for path in _files()
            for s in _sources(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, [])]


def test_the_catalog_has_sources_to_check():
    assert len(_all()) > 800 and len(LABELS) >= 10


def test_every_label_is_a_url_or_a_paper():
    bad = {k: v for k, v in LABELS.items() if not (URL.search(v) or PAPER_TABLE.search(v))}
    assert not bad


@pytest.mark.parametrize("path", [p.relative_to(ROOT).as_posix() for p in _files()])
def test_every_source_names_something_a_reader_can_open(path):
    data = yaml.safe_load((ROOT / path).read_text(encoding="utf-8")) or {}
    bad = [s for s in _sources(data, []) if not _openable(s)]
    assert not bad, f"{path}: sources with nothing to open: {bad[:5]}"


@pytest.mark.parametrize("path", [p.relative_to(ROOT).as_posix() for p in _files()])
def test_no_source_names_a_private_file(path):
    data = yaml.safe_load((ROOT / path).read_text(encoding="utf-8")) or {}
    bad = [s for s in _sources(data, []) + list((data.get("sources") or {}).values()) if PRIVATE.search(s)]
    assert not bad, f"{path}: {bad[:5]}"


def test_every_cited_seed_article_exists_with_its_date():
    cited = {(t, d) for _, s in _all() for t, d in SEED_CITE.findall(s)}
    assert cited, "the described variants cite the seed articles"
    assert {t for t, _ in cited} == set(SEED_ARTICLES)
    assert all(SEED_ARTICLES[t] == d for t, d in cited)


def test_the_seed_titles_match_the_articles_where_they_are_at_hand():
    seeds = ROOT.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("the seed articles are not beside this checkout")
    heads = " ".join(p.read_text(encoding="utf-8")[:400] for p in seeds.glob("*.txt"))
    for title, date in SEED_ARTICLES.items():
        assert title in heads and date.replace("-", ".") in heads, title


def test_a_private_file_name_or_a_bare_name_is_caught():
    assert PRIVATE.search("seeds/003_8835a1d058bdcd15.txt") and PRIVATE.search("reference/hardware.md")
    assert not _openable("NVIDIA H100 datasheet")
    assert not _openable('seed article “A made-up title” (2025-09-17)')
    assert _openable("NVIDIA H100 datasheet https://www.nvidia.com/en-us/data-center/h100/")
    assert _openable("Lin et al., AWQ, arXiv 2306.00978, Table 4")
