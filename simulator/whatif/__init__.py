"""Cost what-if analyser: replay one workload against several configurations and seeds.

``run_whatif(workload, configurations, seeds)`` returns a :class:`WhatIfResult`; the report
module renders it as a terminal table, JSON, CSV and a self-contained HTML page with plots.
"""

from simulator.whatif.configs import Axes, Configuration, configurations, read_configurations
from simulator.whatif.runner import Task, WhatIfResult, run_task, run_whatif

__all__ = [
    "Axes",
    "Configuration",
    "Task",
    "WhatIfResult",
    "configurations",
    "read_configurations",
    "run_task",
    "run_whatif",
]
