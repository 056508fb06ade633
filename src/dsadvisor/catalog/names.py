"""What a Hugging Face repo id, a GGUF file name and an Ollama tag may be: the checks the schema's records run
on the names that reach the shell commands ``plan`` prints, when they are built (from YAML, or in Python).

Layer 1 (catalog), read beside ``catalog.schema``, which imports it only when it builds a model or an artifact
(a catalog read from YAML; never a run that reads a cached catalog). Each pattern is compiled the first time
it is matched (``re`` keeps it): the schema compiled its six patterns when imported, about 3.6M instructions
(callgrind) of every run.
"""

from __future__ import annotations

import re

from dsadvisor.errors import quoted


# A Hugging Face repo id, as huggingface_hub's validate_repo_id reads it: ``name`` or
# ``namespace/name``, each part of letters, digits, '-', '_' and '.', starting and ending with a
# letter, digit or '_'; no '--' or '..'; the name at most 96 characters; no '.git' ending. Kept to
# ASCII (the Hub's own ids are; its \w would admit any Unicode letter). The id reaches the launch
# commands `plan` prints, so nothing a shell reads specially ($, `, ;, quotes, spaces) gets in.
_REPO_PART = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?"
_REPO_CHARS = r"[^A-Za-z0-9_./-]"
MAX_REPO_NAME = 96


def repo_id_problem(value: str) -> str | None:
    """Why ``value`` is no Hugging Face repo id, or None."""
    bad = re.search(_REPO_CHARS, value)
    if bad:
        return f"holds {bad.group()!r} (only ASCII letters, digits, '-', '_', '.' and one '/')"
    parts = value.split("/")
    if len(parts) > 2:
        return "has more than one '/' (a repo id is name or namespace/name)"
    if "--" in value or ".." in value:
        return "holds '--' or '..'"
    if len(parts[-1]) > MAX_REPO_NAME:
        return f"has a name longer than {MAX_REPO_NAME} characters"
    if value.endswith(".git"):
        return "ends in '.git'"
    if not all(re.fullmatch(_REPO_PART, p) for p in parts):
        return "has a part that is empty or starts or ends with '-' or '.'"
    return None


def check_repo_id(value: str) -> str:
    problem = repo_id_problem(value)
    if problem:
        raise ValueError(f"{quoted(value)} is not a Hugging Face repo id: it {problem}")
    return value


# A GGUF file inside a repository (a split file's first part, or a sub-folder's file): it reaches
# shell commands, so only ASCII letters, digits and '._-/' with no '..' and no leading '/' or '-'.
FILE = r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$"
# An Ollama model tag, as `ollama pull` takes it: name[:tag], lower-case name, optional namespace.
OLLAMA_TAG = r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)?(:[A-Za-z0-9][A-Za-z0-9._-]*)?$"
