"""Request load and the replica count it calls for: pure functions of the deployment and time.

Load is the rate of real predict calls over the last ``rps_window_s`` plus the deployment's
synthetic daily profile (24 hourly values, by UTC hour of the virtual clock).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from simulator.deployments.model import Deployment

HOUR = 3600.0
DAY = 24 * HOUR


def profile_rps(profile: Sequence[float], epoch: float) -> float:
    """The synthetic rps of ``profile`` at ``epoch`` (0 without a profile)."""
    if not profile:
        return 0.0
    return float(profile[int(epoch % DAY // HOUR)])


def next_change(profile: Sequence[float], epoch: float) -> float:
    """The first hour boundary after ``epoch`` where the profile's value changes (inf if never)."""
    if not profile or len(set(profile)) == 1:
        return math.inf
    now = profile_rps(profile, epoch)
    boundary = (epoch // HOUR + 1) * HOUR
    while profile_rps(profile, boundary) == now:
        boundary += HOUR
    return boundary


def busy_until(profile: Sequence[float], epoch: float) -> float:
    """When the profile last had load (``epoch`` itself if it has load now; -inf if never)."""
    if profile_rps(profile, epoch) > 0:
        return epoch
    if not any(profile):
        return -math.inf
    boundary = epoch // HOUR * HOUR
    while profile_rps(profile, boundary - HOUR) == 0:
        boundary -= HOUR
    return boundary


class Autoscaler:
    """The scaling rule, from the config's ``inference:`` section."""

    def __init__(self, settings: dict[str, float]) -> None:
        self.target_rps = float(settings["target_rps_per_replica"])
        self.window = float(settings["rps_window_s"])
        self.up_delay = float(settings["scale_up_delay_s"])
        self.down_delay = float(settings["scale_down_delay_s"])
        self.idle_s = float(settings["scale_to_zero_after_s"])

    def observed_rps(self, dep: Deployment, now: float) -> float:
        """Predict calls per second over the window ending at env time ``now``."""
        while dep.predicts and dep.predicts[0] <= now - self.window:
            dep.predicts.popleft()
        return len(dep.predicts) / self.window

    def rps(self, dep: Deployment, now: float, start_epoch: float) -> float:
        return self.observed_rps(dep, now) + profile_rps(dep.spec.daily_rps, start_epoch + now)

    def idle_deadline(self, dep: Deployment, now: float, start_epoch: float) -> float:
        """Env time at which a ``min: 0`` deployment without load may scale to zero."""
        last = dep.created_at - start_epoch
        if dep.last_predict is not None:
            last = max(last, dep.last_predict + self.window)
        last = max(last, busy_until(dep.spec.daily_rps, start_epoch + now) - start_epoch)
        return last + self.idle_s

    def desired(self, dep: Deployment, now: float, start_epoch: float) -> int:
        """Replicas the load calls for now, within [min, max]; 0 only after the idle window."""
        spec = dep.spec
        load = self.rps(dep, now, start_epoch)
        if load > 0:
            wanted = math.ceil(load / self.target_rps - 1e-9)
            return max(spec.min_replicas, 1, min(spec.max_replicas, wanted))
        if spec.min_replicas > 0:
            return spec.min_replicas
        if now >= self.idle_deadline(dep, now, start_epoch) or dep.target == 0:
            return 0
        return min(1, spec.max_replicas)
