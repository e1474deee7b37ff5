"""The ``--demo`` market: simulated venues that speak each venue's real wire format."""

from goquant_bot.venues.sim.model import SimConfig
from goquant_bot.venues.sim.simulator import SIMULATED_LABEL, SimulatedVenues

__all__ = ["SIMULATED_LABEL", "SimConfig", "SimulatedVenues"]
