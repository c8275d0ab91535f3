"""Which containers hold on to which images and snapshots.

The contract with the runtime: every ``containers/<id>/state.json`` names its
image in ``image_id`` and its rootfs parent in ``image_chain_id`` (plus ``name``).
Images in use are not removed without force, and their snapshots are never
collected while a container still needs them, even after a forced ``rmi``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..fsutil import read_json
from ..record import dataclass, field


@dataclass
class Usage:
    by_image: dict[str, list[str]] = field(default_factory=dict)
    chain_ids: set[str] = field(default_factory=set)


def scan(containers_dir: Path) -> Usage:
    usage = Usage()
    try:
        entries = list(os.scandir(containers_dir))
    except FileNotFoundError:
        return usage
    for e in entries:
        state = read_json(Path(e.path) / "state.json", None)
        if not isinstance(state, dict):
            continue
        name = str(state.get("name") or e.name[:12])
        if image_id := state.get("image_id"):
            usage.by_image.setdefault(str(image_id), []).append(name)
        if chain := state.get("image_chain_id"):
            usage.chain_ids.add(str(chain))
    return usage
