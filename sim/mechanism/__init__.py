"""The loyalty-formation mechanism, one process per module, steps A–H and the processes around them.

Each module holds a process's vectorised rule (a function over the whole population, or the
customers it concerns, on the :class:`~sim.mechanism.state.Population` arrays), the phase that runs
it in a step (``*_phase``, a function of the :class:`~sim.mechanism.context.StepContext`; the order
is :data:`sim.model.SCHEDULE`), and its readable twin for one customer (``*_one``, plain Python;
``*_readable`` for the market-wide ones), from which :class:`sim.reference.Customer` and
:class:`sim.reference.ReferenceModel` are assembled. Changing a rule touches its module, its twin
beside it, and its test.

=================  ======  ===========================================  ==========================================
module             step    theory                                       functions
=================  ======  ===========================================  ==========================================
``need``           need    a customer needs the service, and where      :func:`need`, :func:`visit`
                           it buys
``encounter``      A       service encounter                            :func:`encounter`
``evaluation``     B       perception and evaluation                    :func:`perceive`, :func:`evaluate`,
                                                                        :func:`felt`, :func:`update_satisfaction`
``price_rise``     B       a noticed price rise                         :func:`notice_price_rise`
``purchase``       ·       spend, share of wallet, trial purchases      (phases ``pay``, ``trial``)
``reinforcement``  C, D    satisfied: positive reinforcement (Cycle A)  :func:`reinforce`
``complaints``     E       dissatisfied: complain or stay silent        :func:`complain`
``recovery``       F       service recovery, evaluated again (Cycle B)  :func:`recover`, :func:`reevaluate_recoveries`
``trust``          G       trust accumulates slowly, breaks fast        :func:`accumulate_trust`
``loyalty``        H       trust turns into loyalty; intention          :func:`become_loyal`, :func:`intention`
``expectations``   ·       expectations adapt                           :func:`adapt_expectations`
``switching_costs`` ·      switching costs grow; cross-selling          :func:`grow_switching_costs`, :func:`cross_sell`
``word_of_mouth``  ·       word of mouth                                :func:`spread_word_of_mouth`
``choice``         ·       choice, switching, churn                     :func:`choose_merchant`, :func:`leave`
``relationship``   ·       a relationship starts                        :func:`start_relationship`
``arrival``        ·       newcomers arrive                             :func:`arrive`
=================  ======  ===========================================  ==========================================

The merchants' books (phases ``open`` and ``books``) are in :mod:`sim.merchants`. ``state``
declares the customers' state (every variable once, stages, event flags, reasons, the population
arrays, the step's counts); ``common`` the helpers several processes share; ``context`` the step
context.
Satisfaction is on a 0–1 scale where 0.5 means "exactly what I expected". Quality and value are on
a 0–1 scale too. Every random draw comes from the model's one ``numpy.random.Generator``.

This package re-exports every public name of its modules, so ``from sim import mechanism as mc``
then ``mc.evaluate`` works as well as ``from sim.mechanism.evaluation import evaluate``.
"""

from __future__ import annotations

from . import (arrival, choice, common, complaints, context, encounter, evaluation, expectations, loyalty,
               need, price_rise, purchase, recovery, reinforcement, relationship, state, switching_costs, trust,
               word_of_mouth)
MODULES = (state, common, context, need, encounter, evaluation, price_rise, purchase, reinforcement, complaints,
           recovery, trust, loyalty, expectations, switching_costs, word_of_mouth, choice, relationship, arrival)

#: every public name of the modules (a module and its main function may share a name, e.g. ``need``:
#: here the name is the function's; import the module as ``sim.mechanism.need``)
__all__ = sorted({name for mod in MODULES for name in mod.__all__})

from .arrival import *  # noqa: F401,F403
from .choice import *  # noqa: F401,F403
from .common import *  # noqa: F401,F403
from .complaints import *  # noqa: F401,F403
from .context import *  # noqa: F401,F403
from .encounter import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .expectations import *  # noqa: F401,F403
from .loyalty import *  # noqa: F401,F403
from .need import *  # noqa: F401,F403
from .price_rise import *  # noqa: F401,F403
from .purchase import *  # noqa: F401,F403
from .recovery import *  # noqa: F401,F403
from .reinforcement import *  # noqa: F401,F403
from .relationship import *  # noqa: F401,F403
from .state import *  # noqa: F401,F403
from .switching_costs import *  # noqa: F401,F403
from .trust import *  # noqa: F401,F403
from .word_of_mouth import *  # noqa: F401,F403

