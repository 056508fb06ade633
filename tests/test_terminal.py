"""The table on a terminal (output.terminal): drawn by hand, laid out as rich draws it, never importing rich.

* rich_drawing() below is what the CLI ran before (rich's Table, box SIMPLE_HEAD, cells folding; ASCII2, no
  style and 160 columns with NO_COLOR). Random tables, titles and notes, of ASCII, CJK and accented text, at
  every width from 1 to 200 columns, come out character for character the same, escape codes included.
* What a user relies on, asserted directly: every line fits the width; columns line up when cells hold wide
  characters; bold on the header only, and no escape code with NO_COLOR or on a dumb terminal; the width read
  from COLUMNS and from the terminal itself; a run on a pseudo-terminal imports no rich.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import unicodedata
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsadvisor.output.render import Document, Table, _shown_notes, _shown_table, _text_chart
from dsadvisor.output.terminal import TerminalTableRenderer, terminal_width

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def rich_drawing(doc: Document, width: int | None = None) -> str:
    """The terminal table as rich drew it (the CLI's renderer until December 2026): the reference."""
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    colour = not os.environ.get("NO_COLOR")
    buffer = io.StringIO()
    console = Console(file=buffer, width=width or (None if colour else 160),
                      color_system="auto" if colour else None, force_terminal=colour, no_color=not colour)
    for t in map(_shown_table, doc.tables):
        table = RichTable(title=Text(t.title), box=box.SIMPLE_HEAD if colour else box.ASCII2, title_justify="left")
        for col in t.columns:
            table.add_column(Text(col), overflow="fold")
        for row in t.rows:
            table.add_row(*map(Text, row))
        console.print(table)
    for note in _shown_notes(doc):
        console.print(note, markup=False, highlight=False)
    return buffer.getvalue() + _text_chart(doc)


@contextmanager
def environment(**values: str | None):
    """os.environ with ``values`` set (None: removed), restored after (hypothesis runs many examples per test)."""
    saved = {k: os.environ.get(k) for k in values}
    _put(values)
    try:
        yield
    finally:
        _put(saved)


def _put(values: dict[str, str | None]) -> None:
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def display_width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# words of the kinds real cells hold (ids, figures, prose), wide CJK, accented letters, and long unbroken runs;
# no ':' in notes (rich turned ':name:' into an emoji there, which a name must not be)
WORD = st.one_of(st.sampled_from(["deepseek-r1-distill-qwen-32b", "bf16", "1x", "A100-SXM-40GB", "21.0", "GB",
                                  "quality", "0.47", "on", "gpqa,", "(4", "of", "6);", "-", "深度求索", "模型",
                                  "café", "naïve", "x" * 37, "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p"]),
                 st.text(alphabet="abcXYZ019-_./,()深度é", min_size=1, max_size=14))
TEXT = st.lists(WORD, max_size=8).flatmap(
    lambda words: st.lists(st.sampled_from([" ", "  ", "\u00a0"]), min_size=len(words), max_size=len(words)).map(
        lambda gaps: "".join(w + g for w, g in zip(words, gaps)).rstrip(" ")))


@st.composite
def documents(draw) -> Document:
    tables = []
    for _ in range(draw(st.integers(1, 2))):
        ncols = draw(st.integers(1, 6))
        columns = tuple(draw(st.lists(TEXT, min_size=ncols, max_size=ncols)))
        rows = tuple(tuple(draw(st.lists(TEXT, min_size=ncols, max_size=ncols)))
                     for _ in range(draw(st.integers(0, 5))))
        tables.append(Table(draw(TEXT), columns, rows))
    notes = tuple(draw(st.lists(st.lists(TEXT, min_size=1, max_size=3).map("\n".join), max_size=3)))
    return Document(data={}, tables=tuple(tables), notes=notes)


@settings(max_examples=300, deadline=None)
@given(doc=documents(), width=st.integers(1, 200), no_color=st.booleans())
def test_drawn_as_rich_draws_it(doc, width, no_color):
    with environment(NO_COLOR="1" if no_color else None, TERM="xterm-256color", COLUMNS=None, LINES=None):
        assert TerminalTableRenderer(width=width).render(doc) == rich_drawing(doc, width)


@pytest.mark.parametrize("width", [20, 40, 80, 120, 160, 250])
def test_a_recommend_table_is_drawn_as_rich_draws_it(width, cli_doc):
    with environment(NO_COLOR=None, TERM="xterm-256color", COLUMNS=None, LINES=None):
        assert TerminalTableRenderer(width=width).render(cli_doc) == rich_drawing(cli_doc, width)


@pytest.fixture(scope="module")
def cli_doc():
    """The document `recommend --gpu A100 --vram 40` prints (20 rows of 11 columns, long reasons, notes)."""
    import dsadvisor.cli.advice_commands as commands
    from dsadvisor.cli import main

    docs = []
    real = commands.emit
    commands.emit = lambda doc, fmt: docs.append(doc)
    try:
        main(["recommend", "--gpu", "A100", "--vram", "40"])
    except SystemExit:
        pass
    finally:
        commands.emit = real
    return docs[0]


WIDE_TABLE = Document(data={}, tables=(Table("模型", ("模型", "value", "why"), (
    ("深度求索-r1", "1", "quality 0.47 on gpqa 深度求索 模型 and more words to wrap"),
    ("abc", "22222", "café naïve " * 6),
    ("deepseek-r1-distill-qwen-32b", "3", "x"))),))
WIDE_NOTES = Document(data={}, notes=("深度求索 " * 30,))


def _plain_lines(text: str) -> list[str]:
    return [ANSI.sub("", line) for line in text.splitlines()]


@pytest.mark.parametrize("width", [30, 45, 60, 80, 200])
@pytest.mark.parametrize("no_color", [False, True])
def test_every_line_fits_and_columns_line_up_with_wide_characters(width, no_color):
    with environment(NO_COLOR="1" if no_color else None, TERM="xterm-256color", COLUMNS=None, LINES=None):
        table = _plain_lines(TerminalTableRenderer(width=width).render(WIDE_TABLE))
        notes = _plain_lines(TerminalTableRenderer(width=width).render(WIDE_NOTES))
    assert all(display_width(line) <= width for line in table + notes) and len(notes) > 1
    assert len({display_width(line) for line in table}) == 1  # title, rules, rows: all as wide as the table
    if no_color:  # the ASCII box: a | under every + of the rule, at the same display column
        rule = table[1]
        pluses = [display_width(rule[:i]) for i, ch in enumerate(rule) if ch == "+"]
        rows = [line for line in table if line.startswith("|")]
        assert len(rows) >= 4
        for line in rows:
            assert [display_width(line[:i]) for i, ch in enumerate(line) if ch == "|"] == pluses


def test_bold_header_only_and_no_escapes_without_colour():
    doc = Document(data={}, tables=(Table("t", ("name", "value"), (("a", "1"),)),), notes=("n",))
    with environment(NO_COLOR=None, TERM="xterm-256color", COLUMNS=None, LINES=None):
        out = TerminalTableRenderer(width=80).render(doc)
    styled = [line for line in out.splitlines() if "\x1b" in line]
    assert len(styled) == 1 and "\x1b[1mname" in styled[0] and "\x1b[1mvalue" in styled[0]
    assert "─" in out
    for env in ({"NO_COLOR": "1", "TERM": "xterm-256color"}, {"NO_COLOR": None, "TERM": "dumb"}):
        with environment(COLUMNS=None, LINES=None, **env):
            plain = TerminalTableRenderer(width=80).render(doc)
        assert "\x1b" not in plain and "name" in plain


def test_width_from_columns_and_the_terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("LINES", raising=False)
    monkeypatch.setenv("COLUMNS", "57")
    assert terminal_width() == 57
    monkeypatch.setenv("TERM", "dumb")
    assert terminal_width() == 80  # as rich: a dumb terminal is 80 wide
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("COLUMNS", "wide")
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((0, 0)) if fd == 0 else
                        (_ for _ in ()).throw(OSError()))
    assert terminal_width() == 80  # a pseudo-terminal of size 0: 80
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((133, 40)))
    assert terminal_width() == 133


def _run_on_a_terminal(cols: int, env: dict[str, str], *args: str) -> str:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    code = ("import json, sys\nfrom dsadvisor.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
            "    pass\nsys.stderr.write(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'rich')))\n")
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdin=follower, stdout=follower,
                            stderr=subprocess.PIPE, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    err = proc.communicate(timeout=120)[1].decode()
    os.close(leader)
    assert proc.returncode == 0 and err.endswith("[]"), err  # no rich module imported
    return b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.mark.parametrize("cols", [60, 140])
def test_a_terminal_run_draws_at_its_width_without_rich(cols):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "DSADVISOR_CATALOG")}
    env["TERM"] = "xterm-256color"
    out = _run_on_a_terminal(cols, env, "recommend", "--gpu", "A100", "--vram", "40")
    lines = [ANSI.sub("", line) for line in out.splitlines()]
    assert max(map(display_width, lines)) == cols  # wrapped to the terminal, which the reasons fill
    assert "\x1b[1m" in out and "─" * 5 in out
    env["NO_COLOR"] = "1"
    plain = _run_on_a_terminal(cols, env, "recommend", "--gpu", "A100", "--vram", "40")
    assert "\x1b" not in plain and "+--" in plain
    assert max(len(line) for line in plain.splitlines()) == 160  # as before: NO_COLOR draws 160 wide


def test_a_note_is_printed_as_written():
    """rich's console.print turned ':smile:' in a note into an emoji; a note (which may hold a model's name) is text."""
    doc = Document(data={}, notes=("ollama run deepseek-r1:7b :smile: :x:",))
    with environment(NO_COLOR=None, TERM="xterm-256color", COLUMNS=None, LINES=None):
        assert TerminalTableRenderer(width=80).render(doc) == "ollama run deepseek-r1:7b :smile: :x:\n"
        assert "\U0001f604" in rich_drawing(doc, 80)  # what rich printed
