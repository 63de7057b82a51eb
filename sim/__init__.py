"""loyalty-sim: how ordinary customers become loyal customers, and how they leave.

>>> from sim import simulate, Params
>>> results = simulate(Params(n_customers=300), seed=1, steps=10)
>>> round(float(results.metrics["loyal_share"].iloc[0]), 3)
0.0
"""

from .model import Intervention, LoyaltyModel
from .params import MerchantParams, Params, ParamError
from .simulate import Results, ScheduledChange, simulate

__all__ = ["simulate", "Results", "ScheduledChange", "LoyaltyModel", "Intervention", "Params", "MerchantParams", "ParamError"]
__version__ = "0.1.0"
