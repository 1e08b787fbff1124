"""Latency: every AWS request waits a set time before it is answered (for the benchmarks)."""

import time

from .context import GATES
from .registry import patch
from .settings import SETTINGS


@patch("latency")
def _latency() -> None:
    """Not an AWS rule but a benchmark aid: a real AWS call takes tens of milliseconds, a moto call
    a fraction of one, so a benchmark against the emulator measures nothing of peerwire's
    concurrency. Setting `latency_ms` (default 0, no wait): every request to any service (EC2,
    STS, Route 53, ...) sleeps that long before it is dispatched; the settings endpoint does not.
    The wait runs in the request's own thread of moto's threaded server and holds no lock, so N
    calls in flight at once take about one latency, not N. It runs before every other gate, so a
    denied or DryRun call waits too. moto: answers at once."""

    def gate(response):
        delay = SETTINGS["latency_ms"]
        if delay > 0:
            time.sleep(delay / 1000)
        return None

    GATES.insert(0, gate)
