"""dsadvisor: which DeepSeek model to run on your hardware, how, and how fast.

Library entry points (each imports what it needs when called):
``dsadvisor.catalog.load_catalog``, ``dsadvisor.estimator.estimate``,
``dsadvisor.engine.recommend``. Nothing heavy is imported here.
"""

__version__ = "0.1.0"
