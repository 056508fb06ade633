"""Layer 2, the physics: what one deployment costs and delivers, from first principles.

Parameter counts (``params``), bytes held (``memory``), time per prefill and decode step
(``timing``), their combination into an ``Estimate`` (``estimate``), and the estimates beside
measurements (``calibration``). Imports only the catalog layer.
"""
