"""Output formats: one interface (``Renderer.render(doc)``), one class per format, an enum to pick.

Renderers never compute: a command builds a ``Document`` (the data for JSON and
YAML, and the same figures as display rows for tables), and a renderer only lays
it out. rich is imported only when a table is drawn.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from dataclasses import dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Document:
    data: dict[str, Any]  # the contract: JSON / YAML carry exactly this
    tables: tuple[Table, ...] = ()  # what a person reads: table / markdown / csv
    notes: tuple[str, ...] = ()  # lines under the tables


class Renderer:
    def render(self, doc: Document) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class JsonRenderer(Renderer):
    def render(self, doc: Document) -> str:
        return json.dumps(doc.data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


class YamlRenderer(Renderer):
    def render(self, doc: Document) -> str:
        import yaml

        return yaml.safe_dump(doc.data, sort_keys=False, allow_unicode=True)


class CsvRenderer(Renderer):
    """The first table only (CSV holds one), header row first."""

    def render(self, doc: Document) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if doc.tables:
            writer.writerow(doc.tables[0].columns)
            writer.writerows(doc.tables[0].rows)
        return out.getvalue()


class MarkdownRenderer(Renderer):
    def render(self, doc: Document) -> str:
        parts = []
        for t in doc.tables:
            esc = [[c.replace("|", "\\|") for c in row] for row in t.rows]
            lines = [f"### {t.title}", "", "| " + " | ".join(t.columns) + " |",
                     "|" + "---|" * len(t.columns)]
            lines += ["| " + " | ".join(r) + " |" for r in esc]
            parts.append("\n".join(lines))
        if doc.notes:
            parts.append("\n".join(f"- {n}" for n in doc.notes))
        return "\n\n".join(parts) + "\n"


class PlainTableRenderer(Renderer):
    """ASCII boxes, one line per row, never wrapped: what a pipe, a log or grep gets.

    Drawn by hand because importing rich costs about as much as a whole ``recommend``
    (docs/performance.md), and a pipe needs neither colour nor the terminal's width.
    """

    def render(self, doc: Document) -> str:
        lines: list[str] = []
        for t in doc.tables:
            cells = [list(t.columns)] + [list(r) for r in t.rows]
            widths = [max(_width(row[i]) for row in cells) for i in range(len(t.columns))]
            rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
            lines += [t.title, rule, _row(cells[0], widths), rule]
            lines += [_row(r, widths) for r in cells[1:]]
            lines.append(rule)
        lines += doc.notes
        return "".join(line + "\n" for line in lines)


def _row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths)) + " |"


def _width(text: str) -> int:
    """Terminal columns: East Asian wide characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


class RichTableRenderer(Renderer):
    """Boxes and colour for a terminal (none with NO_COLOR), wrapped to its width."""

    def __init__(self, width: int | None = None):
        self.width = width

    def render(self, doc: Document) -> str:
        from rich import box
        from rich.console import Console
        from rich.table import Table as RichTable

        colour = not os.environ.get("NO_COLOR")
        console = Console(file=io.StringIO(), width=self.width or (None if colour else 160),
                          color_system="auto" if colour else None, force_terminal=colour, no_color=not colour)
        for t in doc.tables:
            table = RichTable(title=t.title, box=box.SIMPLE_HEAD if colour else box.ASCII2, title_justify="left")
            for col in t.columns:
                table.add_column(col, overflow="fold")
            for row in t.rows:
                table.add_row(*row)
            console.print(table)
        for note in doc.notes:
            console.print(note, markup=False, highlight=False)
        return console.file.getvalue()


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    yaml = "yaml"
    csv = "csv"
    markdown = "markdown"

    def renderer(self) -> Renderer:
        if self is OutputFormat.table:  # rich for a person at a terminal, plain text for everything else
            return RichTableRenderer() if sys.stdout.isatty() else PlainTableRenderer()
        return {
            OutputFormat.json: JsonRenderer,
            OutputFormat.yaml: YamlRenderer,
            OutputFormat.csv: CsvRenderer,
            OutputFormat.markdown: MarkdownRenderer,
        }[self]()
