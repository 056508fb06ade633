"""Layer 1, the catalog: what is known, with its sources.

The YAML schema (``schema``; an engine's records in ``engine_schema``, the checks of names that reach shell
commands in ``names``), safe reading (``loading``), the merged and cached catalog with lookups by name
(``store``), a local config.json read into an architecture (``hfconfig``), the stated shape of a described
variant (``assumed``), GPUs by the names people type (``hardware``), and what a user typed resolved to
catalog objects (``resolve``). Imports nothing above it.
"""
