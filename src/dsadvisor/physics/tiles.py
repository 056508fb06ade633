"""How llama.cpp's batched quantized matmul (MMQ, ggml-cuda/mmq.cuh) tiles its output.

A matmul of N token columns runs ceil(N / max) column tiles of J columns each, J the smallest multiple of the
column step that covers N / tiles (``mmq_x_best`` in ggml-cuda/mmq.cuh: J = 8..128 in steps of 8 on NVIDIA).
Each tile passes over all the weights of its rows and multiplies all J columns, used or not: N = 9 costs what
N = 16 does. A routed-expert matmul (``mul_mat_id``) tiles each expert's own tokens, J chosen for the average
expert (N x k / E tokens); an expert a step routes no token to is skipped, one with more tokens than J takes
more tiles. With uniform routing an expert's tokens are binomial (N, k / E).
"""

from __future__ import annotations

import math
from functools import lru_cache


def tile_width(columns: int, step: int, widest: int) -> tuple[int, int]:
    """(tiles, columns a tile) for ``columns`` token columns."""
    tiles = max(1, math.ceil(columns / widest))
    return tiles, step * math.ceil(columns / tiles / step)


def dense_tiles(columns: int, step: int, widest: int) -> tuple[int, int]:
    """(passes over the weights, columns multiplied) of one dense matmul of ``columns`` token columns."""
    tiles, width = tile_width(columns, step, widest)
    return tiles, tiles * width


def expert_tiles(tokens: int, experts: int, per_token: int, step: int, widest: int) -> tuple[float, float]:
    """Expected (passes over one expert's weights, columns it multiplies) of a routed-expert matmul of
    ``tokens`` tokens, each routed to ``per_token`` of ``experts`` experts."""
    _, width = tile_width(math.ceil(tokens * per_token / experts), step, widest)
    passes = _expected_ceil(tokens, per_token / experts, width)
    return passes, passes * width


@lru_cache(maxsize=256)  # recommend asks the same few (batch, routing, tile) cases for every candidate
def _expected_ceil(n: int, p: float, width: int) -> float:
    """E[ceil(X / width)] for X ~ Binomial(n, p): the sum over m >= 0 of P(X > m x width)."""
    if p >= 1.0 or n > 4096:  # many tokens: the tiles of the mean, plus half a tile of imbalance
        return float(math.ceil(n / width)) if p >= 1.0 else n * p / width + 0.5
    log_p, log_q = math.log(p), math.log1p(-p)
    exp, lgamma, log_n = math.exp, math.lgamma, math.lgamma(n + 1)  # the same sums, in the same order, as written out
    total, below = 0.0, 0.0  # below: P(X <= k), accumulated
    for k in range(n + 1):
        below += exp(log_n - lgamma(k + 1) - lgamma(n - k + 1) + k * log_p + (n - k) * log_q)
        if k % width == 0:
            total += max(0.0, 1.0 - below)  # P(X > k) for k = m x width
        if k > n * p and 1.0 - below < 1e-13:  # the rest of the tail adds less than 1e-13 a tile
            break
    return total
