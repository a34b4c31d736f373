"""SimPy model of Cloud.ru ML Space capacity, queueing, job lifecycles and billing.

Never imports Flask: the mock server, the scenarios and the what-if analyser all drive
:class:`simulator.world.World` (or the :class:`simulator.engine.Engine` under it) in-process.
"""

from simulator.config import SimConfig, load_config
from simulator.errors import Rejected
from simulator.world import World

__all__ = ["Rejected", "SimConfig", "World", "load_config"]
