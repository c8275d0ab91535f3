"""Per-container cgroups on v1, v2 and hybrid hosts (standard library only).

    driver = get_driver(config)                 # picks V1Driver or V2Driver
    handle = driver.create(container_id, Limits(memory=512 << 20))
    driver.add_pid(handle, init_pid)
    driver.freeze(handle); driver.thaw(handle)  # pause / unpause
    driver.remove(handle)                       # kills leftovers, rmdir everywhere

Other processes rebuild a handle with ``driver.handle(container_id)``.
"""

from __future__ import annotations

from .base import DEFAULT_CPU_PERIOD, MIN_MEMORY, CgroupDriver, CgroupHandle, Limits, Write
from .detect import Mode, detect, get_driver
from .v1 import V1Driver
from .v2 import V2Driver

__all__ = [
    "DEFAULT_CPU_PERIOD",
    "MIN_MEMORY",
    "CgroupDriver",
    "CgroupHandle",
    "Limits",
    "Mode",
    "V1Driver",
    "V2Driver",
    "Write",
    "detect",
    "get_driver",
]
