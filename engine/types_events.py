"""The event log's record (see :mod:`engine.types`).

Leaf module: imports nothing from the engine.
"""

from __future__ import annotations

from typing import Any

from engine.record import dataclass, field


@dataclass(frozen=True)
class EventRecord:
    """One line of ``events.jsonl``, docker's event shape."""

    type: str
    action: str
    actor_id: str
    attributes: dict[str, str] = field(default_factory=dict)
    time_nano: int = 0

    @property
    def time(self) -> float:
        return self.time_nano / 1e9

    def to_json(self) -> dict[str, Any]:
        return {
            "Type": self.type,
            "Action": self.action,
            "Actor": {"ID": self.actor_id, "Attributes": dict(self.attributes)},
            "time": self.time_nano // 1_000_000_000,
            "timeNano": self.time_nano,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> EventRecord:
        actor = d.get("Actor") or {}
        return cls(
            type=str(d.get("Type", "")),
            action=str(d.get("Action", "")),
            actor_id=str(actor.get("ID", "")),
            attributes={str(k): str(v) for k, v in (actor.get("Attributes") or {}).items()},
            time_nano=int(d.get("timeNano", 0)),
        )
