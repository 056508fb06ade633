"""Output formats: one interface (``Renderer.render(doc)``), one class per format, an enum to pick.

Renderers never compute: a command builds a ``Document`` (the data for JSON and
YAML, and the same figures as display rows for tables), and a renderer only lays
it out. Tables are drawn by hand: plain ASCII for a pipe (``PlainTableRenderer``), boxes, bold and
wrapping for a terminal (``output.terminal``).
"""

from __future__ import annotations

import io
import math
import re
import sys
from enum import Enum
from typing import TYPE_CHECKING, Any

from dsadvisor.errors import OutputError
from dsadvisor.records import record

if TYPE_CHECKING:  # the chart module is imported only to draw one (layouts), not on every run
    from dsadvisor.output.chart import Chart


@record(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@record(frozen=True)
class Document:
    data: dict[str, Any]  # the contract: JSON / YAML carry exactly this
    tables: tuple[Table, ...] = ()  # what a person reads: table / markdown / csv
    notes: tuple[str, ...] = ()  # lines under the tables
    chart: Chart | None = None  # drawn under the table in a terminal, alone by svg, with the tables by html
    csv: Table | None = None  # the one table CSV writes, when it is not the first (it holds one)


class Renderer:
    def render(self, doc: Document) -> str:  # pragma: no cover - interface
        raise NotImplementedError


def non_finite(data: Any, where: str = "") -> str | None:
    """Where in ``data`` the first infinite or NaN number is (``ranked[0].score.total``), or None."""
    if isinstance(data, float):
        return None if math.isfinite(data) else f"{where or 'the document'} = {data}"
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, (list, tuple)) else ()
    for key, value in items:
        found = non_finite(value, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}".lstrip("."))
        if found:
            return found
    return None


def _refuse_non_finite(doc: Document) -> None:
    """JSON has no infinity or NaN, and a consumer of YAML expects the same numbers: refuse, never emit."""
    found = non_finite(doc.data)
    if found:
        raise OutputError(f"the result holds a number no JSON or YAML reader can take ({found}); "
                          "refused: the inputs are out of any real range")


class JsonRenderer(Renderer):
    def render(self, doc: Document) -> str:
        _refuse_non_finite(doc)
        import json  # only when JSON is written: a table run does without it

        return json.dumps(doc.data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


class YamlRenderer(Renderer):
    def render(self, doc: Document) -> str:
        import yaml

        _refuse_non_finite(doc)
        return yaml.safe_dump(doc.data, sort_keys=False, allow_unicode=True)


# ------------------------------------------------------------------ what a reader must not be handed

# Characters that drive a terminal or reorder what it shows: C0 and C1 controls (ESC, BEL, CR, ...), DEL,
# the line and paragraph separators, and the bidirectional overrides and isolates (U+202E shows text
# backwards). Table and markdown output shows them as Python writes them (\n, \x1b, \u202e); a note keeps
# its newlines.
_CONTROLS = (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029,
             *range(0x202A, 0x202F), *range(0x2066, 0x206A))
VISIBLE = {c: repr(chr(c))[1:-1] for c in _CONTROLS}  # \n, \x1b, \u202e
VISIBLE_KEEPING_NEWLINES = {c: v for c, v in VISIBLE.items() if c != 0x0A}
CELL_LIMIT = 1_000  # the most characters of one cell a table shows (the longest real cell: about 450)
NOTE_LIMIT = 4_000  # the same for a note line (a plan's Kubernetes manifest is one note)


def shown(text: str, limit: int = CELL_LIMIT, keep_newlines: bool = False) -> str:
    """``text`` as a table or markdown shows it: controls escaped, and clipped to ``limit`` characters
    with its length said (a 1 MB name is ``xxxx… (1,000,000 characters)``, not a 1 MB wide table)."""
    text = text.translate(VISIBLE_KEEPING_NEWLINES if keep_newlines else VISIBLE)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 1]}\u2026 ({len(text):,} characters)"


def _shown_table(t: Table) -> Table:
    return Table(shown(t.title), tuple(shown(c) for c in t.columns),
                 tuple(tuple(shown(c) for c in row) for row in t.rows))


def _shown_notes(doc: Document) -> tuple[str, ...]:
    return tuple(shown(n, NOTE_LIMIT, keep_newlines=True) for n in doc.notes)


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def csv_cell(text: str) -> str:
    """A cell a spreadsheet will not run: one starting with = + - @ (or a tab or CR, which some strip
    first) gets a leading apostrophe, as OWASP's CSV-injection advice says; a plain number or '-' is kept."""
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and text != "-" and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class CsvRenderer(Renderer):
    """The document's CSV table, else its first (CSV holds one), header row first; formula-like cells
    defused (``csv_cell``)."""

    def render(self, doc: Document) -> str:
        out = io.StringIO()
        import csv

        # csv quotes a cell holding a character of its line terminator: with "\n" alone a lone "\r" (a pasted
        # file name echoed in an error) went out bare, and readers stop at it ("new-line character seen in
        # unquoted field"); "\r\n" quotes both, and each row's terminator is written back to "\n"
        writer = csv.writer(out, lineterminator="\r\n")
        table = doc.csv or (doc.tables[0] if doc.tables else None)
        if table is not None:
            for row in (table.columns, *table.rows):
                writer.writerow([csv_cell(c) for c in row])
                out.seek(out.tell() - 2)
                out.write("\n")
                out.truncate()
        return out.getvalue()


def _md(text: str) -> str:
    return shown(text).replace("|", "\\|")


class MarkdownRenderer(Renderer):
    def render(self, doc: Document) -> str:
        parts = []
        for t in doc.tables:
            lines = [f"### {_md(t.title)}", "", "| " + " | ".join(map(_md, t.columns)) + " |",
                     "|" + "---|" * len(t.columns)]
            lines += ["| " + " | ".join(map(_md, r)) + " |" for r in t.rows]
            parts.append("\n".join(lines))
        if doc.notes:
            parts.append("\n".join(f"- {n}" for n in _shown_notes(doc)))
        return "\n\n".join(parts) + "\n"


class PlainTableRenderer(Renderer):
    """ASCII boxes, one line per row, never wrapped: what a pipe, a log or grep gets.

    The layout of rich's ASCII box (tests/test_formats.py), drawn by hand as the terminal's table is
    (``output.terminal``): a pipe needs neither colour nor the terminal's width.
    """

    def render(self, doc: Document) -> str:
        lines: list[str] = []
        for t in map(_shown_table, doc.tables):
            cells = [list(t.columns)] + [list(r) for r in t.rows]
            widths = [max(_width(row[i]) for row in cells) for i in range(len(t.columns))]
            rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
            lines += [t.title, rule, _row(cells[0], widths), rule]
            lines += [_row(r, widths) for r in cells[1:]]
            lines.append(rule)
        lines += _shown_notes(doc)
        return "".join(line + "\n" for line in lines) + _text_chart(doc)


def _text_chart(doc: Document) -> str:
    if doc.chart is None:
        return ""
    from dsadvisor.output.chart import text_chart

    return "\n" + text_chart(doc.chart)


def _row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths)) + " |"


def _width(text: str) -> int:
    """Terminal columns: East Asian wide characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def _chart_of(doc: Document, fmt: str) -> Chart:
    if doc.chart is None:
        raise OutputError(f"-f {fmt} draws a chart and this command has none (`dsadvisor layouts` has one); "
                          "use -f table, json, yaml, csv or markdown")
    return doc.chart


class SvgRenderer(Renderer):
    """The document's chart alone, as a standalone SVG file."""

    def render(self, doc: Document) -> str:
        from dsadvisor.output.chart import svg_chart

        return svg_chart(_chart_of(doc, "svg"))


class HtmlRenderer(Renderer):
    """One self-contained page: the chart (inline SVG), the tables and the notes."""

    def render(self, doc: Document) -> str:
        from html import escape

        from dsadvisor.output.chart import svg_chart

        chart = _chart_of(doc, "html")
        parts = ['<!doctype html>\n<html lang="en"><head><meta charset="utf-8">',
                 f"<title>{escape(chart.title)}</title>",
                 "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
                 "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}</style></head><body>",
                 svg_chart(chart)]
        for t in doc.tables:
            t = _shown_table(t)
            parts.append(f"<h2>{escape(t.title)}</h2><table><tr>"
                         + "".join(f"<th>{escape(c)}</th>" for c in t.columns) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in t.rows]
            parts.append("</table>")
        parts += [f"<p>{escape(n)}</p>" for n in _shown_notes(doc)]
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    yaml = "yaml"
    csv = "csv"
    markdown = "markdown"
    svg = "svg"
    html = "html"

    def renderer(self) -> Renderer:
        if self is OutputFormat.table:  # boxes and wrapping for a person at a terminal, plain text for the rest
            if not sys.stdout.isatty():
                return PlainTableRenderer()
            from dsadvisor.output.terminal import TerminalTableRenderer

            return TerminalTableRenderer()
        return {
            OutputFormat.json: JsonRenderer,
            OutputFormat.yaml: YamlRenderer,
            OutputFormat.csv: CsvRenderer,
            OutputFormat.markdown: MarkdownRenderer,
            OutputFormat.svg: SvgRenderer,
            OutputFormat.html: HtmlRenderer,
        }[self]()
