"""dsadvisor: which DeepSeek model to run on your hardware, how, and how fast.

The library's calls are in ``dsadvisor.api`` (docs/api.md): ``load_catalog``, ``estimate``,
``recommend``, ``check`` and ``plan``, each returning the frozen object the command line renders.
Nothing is imported here, so ``import dsadvisor`` and the CLI start fast.
"""

__version__ = "0.1.0"
