"""Live classroom markets: participants run competing merchants, a facilitator steers rounds.

- :mod:`sim.workshop.room` — a workshop: seats, rounds, the facilitator's controls, the figures shown.
- :mod:`sim.workshop.decisions` — what participants decide and which market events exist.
- :mod:`sim.workshop.log` — the append-only log every change is written to before it takes effect.
"""

from .decisions import DECISIONS, MARKET_EVENTS, check_decision, check_event
from .log import EventLog, Record
from .room import Round, Seat, Workshop, WorkshopError, new_code

__all__ = ["DECISIONS", "MARKET_EVENTS", "check_decision", "check_event", "EventLog", "Record", "Round", "Seat",
           "Workshop", "WorkshopError", "new_code"]
