"""SimPy model of Cloud.ru ML Space capacity, queueing, job lifecycles and billing.

Never imports Flask: the mock server, the scenarios and the what-if analyser all drive
:class:`simulator.world.World` (or the :class:`simulator.engine.Engine` under it) in-process.
"""

from simulator.config import SimConfig, load_config
from simulator.errors import Conflict, NotFound, Refused, Rejected
from simulator.world import World

__all__ = ["Conflict", "NotFound", "Refused", "Rejected", "SimConfig", "World", "load_config"]
