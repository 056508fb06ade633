"""Layer 7, the output: documents built from results, and renderers that only lay them out.

Imports only the layers below it; the CLI (``dsadvisor.cli``) is the one module above.
"""
