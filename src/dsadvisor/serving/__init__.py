"""Layer 4, serving under load: the workload and each engine's scheduler.

Empty for now: the serving issue fills it (concurrency, prompt and output lengths, continuous
batching, parallel layouts). Imports only the layers below it.
"""
