"""Data transfers: connectors, transfer rules, their schedules and runs, on the engine's clock."""

from simulator.transfers.runs import Entry, Run
from simulator.transfers.schedule import Schedule
from simulator.transfers.store import Connector, Transfer, Transfers, user_uid

__all__ = ["Connector", "Entry", "Run", "Schedule", "Transfer", "Transfers", "user_uid"]
