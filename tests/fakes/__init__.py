"""Test doubles of the engine: :class:`FakeEngine` passes ``tests/conformance``."""

from .engine import FakeClock, FakeEngine
from .fake_build import RemoteImage
from .programs import Program

__all__ = ["FakeClock", "FakeEngine", "Program", "RemoteImage"]
