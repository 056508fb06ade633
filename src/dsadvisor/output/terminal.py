"""The table a person reads on a terminal: a bold header, a rule under it, cells wrapped to the terminal's width.

Laid out as rich (13.8 to 15) draws ``rich.table.Table`` with box SIMPLE_HEAD and folding cells, and with NO_COLOR
at 160 columns in ASCII boxes and no style: the same column widths (each column's widest and narrowest fit,
the widest columns narrowed first), the same word wrapping and folding of long words, the same lines. Drawn
by hand because importing rich and drawing a 20-row table with it made a terminal ``recommend`` take ~45 ms more
than a piped one (161 against 114 ms; now 117: docs/performance.md, sixth pass); tests/test_terminal.py draws
random tables both ways and compares them character for character. One difference: rich turned ``:name:`` in a
note into an emoji; a note is printed as written. Like every renderer it only lays out what it is given.
"""

from __future__ import annotations

import os
import re

from dsadvisor.output.render import (Document, Renderer, Table, _shown_notes, _shown_table, _text_chart,
                                     _width)

Segment = tuple[str, bool]  # text, bold
Line = list[Segment]

BOLD, RESET = "\x1b[1m", "\x1b[0m"
NO_COLOR_WIDTH = 160  # the width drawn at with NO_COLOR (as before: a fixed width, like a pipe's plain table)
_WORD = re.compile(r"\s*\S+\s*")  # a word with the spaces after it (the first also with those before)
_TRAILING_SPACE = re.compile(r"\s+$")


class TerminalTableRenderer(Renderer):
    """Boxes and a bold header for a terminal (ASCII and no style with NO_COLOR), wrapped to its width."""

    def __init__(self, width: int | None = None):
        self.width = width

    def render(self, doc: Document) -> str:
        colour = not os.environ.get("NO_COLOR")
        width = terminal_width(self.width) if colour else self.width or NO_COLOR_WIDTH
        lines: list[Line] = []
        for t in map(_shown_table, doc.tables):
            lines += table_lines(t, width, ascii_box=not colour)
        for note in _shown_notes(doc):
            lines += [[(line, False)] for part in note.split("\n") for line in wrap(part, width, pad=False)]
        bold = colour and not _dumb()
        return "".join(_ansi(line, bold) + "\n" for line in lines) + _text_chart(doc)


def _dumb() -> bool:
    return os.environ.get("TERM", "").lower() in ("dumb", "unknown")


def _digits(name: str) -> int | None:
    value = os.environ.get(name)
    try:
        return int(value) if value is not None and value.isdigit() else None
    except ValueError:  # a digit int() does not read ("²"): as if unset
        return None


def terminal_width(given: int | None = None) -> int:
    """The width to draw at, found as rich's Console finds it: ``given`` or COLUMNS, but 80 on a dumb terminal
    (TERM dumb or unknown) unless LINES is set too; else the size of the first of stdin, stdout and stderr
    that is a terminal; 80 if none says (a pseudo-terminal of size 0)."""
    width = given if given is not None else _digits("COLUMNS")
    if width is not None and _digits("LINES") is not None:
        return width
    if _dumb():
        return 80
    if width is not None:
        return width
    for fd in (0, 1, 2):
        try:
            found = os.get_terminal_size(fd).columns
        except (OSError, ValueError):
            continue
        return found or 80
    return 80


def _ansi(line: Line, bold: bool) -> str:
    return "".join(BOLD + text + RESET if strong and bold and text else text for text, strong in line)


def _crop(line: Line, width: int) -> Line:
    """The line cut to ``width`` columns (a wide character across the edge becomes a space)."""
    if sum(_width(text) for text, _ in line) <= width:
        return line
    out: Line = []
    used = 0
    for text, strong in line:
        if used + _width(text) < width:
            out.append((text, strong))
            used += _width(text)
        else:
            out.append((set_cells(text, width - used), strong))
            break
    return out


# ------------------------------------------------------------------ cells of text


def set_cells(text: str, total: int) -> str:
    """``text`` padded with spaces or cut to exactly ``total`` columns; a wide character across the cut
    becomes a space."""
    if text.isascii():
        return text[:total] + " " * (total - len(text))
    if total <= 0:
        return ""
    size = _width(text)
    if size <= total:
        return text + " " * (total - size)
    used = 0
    for i, ch in enumerate(text):
        w = _width(ch)
        if used + w > total:
            return text[:i] + " " * (total - used)
        used += w
    return text  # pragma: no cover - size > total means the loop returns


def chop(word: str, width: int) -> list[str]:
    """``word`` cut into pieces of at most ``width`` columns (a character wider than ``width`` gets a piece of
    its own, after an empty one when it comes first, as rich cuts)."""
    if word.isascii():
        return [word[i:i + width] for i in range(0, len(word), width)]
    pieces: list[str] = []
    size = start = 0
    for i, ch in enumerate(word):
        w = _width(ch)
        if size + w > width:
            pieces.append(word[start:i])
            start, size = i, 0
        size += w
    if size:
        pieces.append(word[start:])
    return pieces


def _breaks(text: str, width: int) -> list[int]:
    """Where ``text`` is broken into lines of ``width`` columns: before a word that does not fit the line,
    and inside a word wider than a line (rich's ``divide_line`` with folding)."""
    breaks: list[int] = []
    used = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group()
        size = _width(word.rstrip())
        if width - used >= size:
            used += _width(word)
        elif size > width:
            pieces = chop(word, width)
            for i, piece in enumerate(pieces):
                if start:
                    breaks.append(start)
                if i == len(pieces) - 1:
                    used = _width(piece)
                else:
                    start += len(piece)
        elif used and start:
            breaks.append(start)
            used = _width(word)
    return breaks


def wrap(text: str, width: int, pad: bool) -> list[str]:
    """One line of text (no newline) wrapped to ``width`` columns: words kept whole where they fit, longer
    ones folded; each line padded to ``width`` when ``pad``. Nothing at all when ``width`` is under 1."""
    if width < 1:
        return []
    if len(text) <= width and text.isascii():  # fits as it is (most cells)
        return [text + " " * (width - len(text)) if pad else text]
    edges = [0, *_breaks(text, width), len(text)]
    lines = []
    for a, b in zip(edges, edges[1:]):
        line = text[a:b]
        if len(line) > width:  # spaces past the edge go (rich's rstrip_end)
            space = _TRAILING_SPACE.search(line)
            if space:
                line = line[:len(line) - min(len(space.group()), len(line) - width)]
        size = _width(line)
        if size > width:
            line = set_cells(line, width)
        elif pad:
            line += " " * (width - size)
        lines.append(line)
    return lines


# ------------------------------------------------------------------ the table


def _fit(natural: int, room: int) -> int:
    """A column as wide as its widest cell plus padding (``natural``), at most ``room``; 0 with no room. (rich
    also measures each cell's longest word, but lays a table out by the widest fit alone.)"""
    return min(natural, room) if room >= 1 else 0


def _reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """``total`` taken from ``values`` in proportion to ``ratios``, at most ``maximums`` each (rich's
    ``ratio_reduce``)."""
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    out = []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            taken = min(maximum, round(ratio * total / total_ratio))
            out.append(value - taken)
            total -= taken
            total_ratio -= ratio
        else:
            out.append(value)
    return out


def _collapse(widths: list[int], room: int) -> list[int]:
    """Narrow the widest columns to the next widest, and so on, until the table fits ``room``."""
    excess = sum(widths) - room
    while sum(widths) and excess > 0:
        widest = max(widths)
        second = max((w for w in widths if w != widest), default=0)
        if not widest - second:
            break
        ratios = [1 if w == widest else 0 for w in widths]
        widths = _reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
        excess = sum(widths) - room
    return widths


def column_widths(columns: list[tuple[str, ...]], room: int) -> list[int]:
    """Each column's width (padding included, borders not) in ``room`` columns: as wide as its widest cell
    if all fit, else the widest columns narrowed first, then all evenly, each then as wide as it needs."""
    natural = [max(map(_width, cells)) + 2 for cells in columns]  # one column of padding each side
    widths = [_fit(n, room) or 1 for n in natural]
    if sum(widths) > room:
        widths = _collapse(widths, room)
        if sum(widths) > room:
            widths = _reduce(sum(widths) - room, [1] * len(widths), widths, widths)
        widths = [_fit(n, w) for n, w in zip(natural, widths)]
    return widths


def _cell(lines: list[str], width: int, height: int, header: bool) -> list[Line]:
    """A cell's lines inside one column of padding each side, blank lines added below to ``height`` (above
    for the header, which sits on the rule); the header's padding and blanks bold as its text."""
    drawn: list[Line] = [[(" ", header), (line, header), (" ", header)] for line in lines]
    blank: list[Line] = [[(" " * width, header)] for _ in range(height - len(lines))]
    return blank + drawn if header else drawn + blank


def _row(cells: tuple[str, ...], widths: list[int], edge: str, header: bool) -> list[Line]:
    """A row's lines: its cells side by side between the edges, each line one plain segment but the header's."""
    wrapped = [wrap(c, w - 2, pad=True) for c, w in zip(cells, widths)]
    height = max(map(len, wrapped))
    if not height:  # every column too narrow for a character: one blank line, unstyled
        return [[(edge + edge.join(" " * w for w in widths) + edge, False)]]
    if not header:
        padded = [[f" {line} " for line in lines] + [" " * w] * (height - len(lines))
                  for lines, w in zip(wrapped, widths)]
        return [[(edge + edge.join(cell[i] for cell in padded) + edge, False)] for i in range(height)]
    drawn = [_cell(lines, w, height, header) for lines, w in zip(wrapped, widths)]
    out = []
    for i in range(height):
        line: Line = [(edge, False)]
        for j, cell in enumerate(drawn):
            line += cell[i] + ([(edge, False)] if j < len(drawn) - 1 else [])
        out.append(line + [(edge, False)])
    return out


def table_lines(t: Table, width: int, ascii_box: bool) -> list[Line]:
    """The title (wrapped to the table's width), the header in bold, a rule, the rows; in ``width``
    columns. With ``ascii_box`` the boxes are ASCII (+, -, |)."""
    if not t.columns:
        return [[]]
    extra = 2 + len(t.columns) - 1  # the edges and one divider between columns
    columns = list(zip(t.columns, *t.rows))
    widths = column_widths(columns, width - extra)
    table_width = sum(widths) + extra
    corner, across, cross, edge = ("+", "-", "+", "|") if ascii_box else (" ", "\u2500", "\u2500", " ")
    rule = corner + cross.join(across * w for w in widths) + corner
    top = rule if ascii_box else " " * table_width
    lines: list[Line] = [[(line, False)] for line in wrap(t.title, table_width, pad=True)] if t.title else []
    lines.append([(top, False)])
    lines += _row(t.columns, widths, edge, header=True)
    lines.append([(rule, False)])
    for row in t.rows:
        lines += _row(row, widths, edge, header=False)
    lines.append([(top, False)])
    return lines if table_width <= width else [_crop(line, width) for line in lines]
