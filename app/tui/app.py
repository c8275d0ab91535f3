"""``PydockApp``: composition and routing only.

Panels are Textual *modes*, one screen stack each, so a modal opened in one panel
stays with it and every panel keeps its own focus and scroll. Panels are listed in
:data:`PANELS`; keys ``1``–``5`` pick one and ``[``/``]`` cycle. Each panel's module is
imported when its screen is first built, so start-up pays only for the first panel.

Two app-level thread workers keep the panels live: the event follower
(``live.py``) routes each burst of engine events to the panels that list those
objects, and the stats hub (``stats_hub.py``) samples once a second for the panels
that show live numbers.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import HelpPanel

from engine import Engine

from .commands import PydockCommands
from .containers_screen import ContainersScreen
from .images_screen import ImagesScreen
from .live import EngineChanged, EventFollower, kinds_for
from .panel import PanelScreen
from .settings import Settings
from .settings_apply import apply_settings
from .stats_hub import StatsHub, StatsSampled

Clock = Callable[[], float]


@dataclass(frozen=True)
class Panel:
    """A top-level panel: its mode name, its title and how to build its screen."""

    mode: str
    title: str
    factory: Callable[[Engine, Clock, bool], Screen[None]]


def _containers(engine: Engine, clock: Clock, show_ids: bool) -> Screen[None]:
    return ContainersScreen(engine, clock=clock, show_ids=show_ids)


def _images(engine: Engine, clock: Clock, show_ids: bool) -> Screen[None]:
    return ImagesScreen(engine, clock=clock)


def _volumes(engine: Engine, clock: Clock, show_ids: bool) -> Screen[None]:
    from .volumes_screen import VolumesScreen

    return VolumesScreen(engine, clock=clock)


def _networks(engine: Engine, clock: Clock, show_ids: bool) -> Screen[None]:
    from .networks_screen import NetworksScreen

    return NetworksScreen(engine, clock=clock, show_ids=show_ids)


def _monitor(engine: Engine, clock: Clock, show_ids: bool) -> Screen[None]:
    from .monitor_screen import MonitorScreen

    return MonitorScreen(engine, clock=clock, show_ids=show_ids)


# In key order: PANELS[0] answers to "1".
PANELS: tuple[Panel, ...] = (
    Panel("containers", "Containers", _containers),
    Panel("images", "Images", _images),
    Panel("volumes", "Volumes", _volumes),
    Panel("networks", "Networks", _networks),
    Panel("monitor", "Monitor", _monitor),
)
MAX_PANELS = 5
FREEZE_AFTER = 2.0  # seconds after start-up when the app's long-lived objects are frozen
TITLES = [p.title for p in PANELS]


class PydockApp(App[None]):
    """The pydock terminal UI over one engine."""

    TITLE = "pydock"
    COMMANDS = App.COMMANDS | {PydockCommands}

    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "toggle_help", "Help", id="help"),
        # Textual's theme picker; the choice is saved to the settings file.
        Binding("ctrl+t", "change_theme", "Theme", show=False, id="theme"),
        *(Binding(str(n), f"panel({n - 1})", TITLES[n - 1] if n <= len(TITLES) else f"Panel {n}",
                  show=False, id=f"panel-{n}") for n in range(1, MAX_PANELS + 1)),
        Binding("left_square_bracket", "cycle_panel(-1)", "Previous panel", show=False,
                id="panel-prev"),
        Binding("right_square_bracket", "cycle_panel(1)", "Next panel", show=False,
                id="panel-next"),
    ]

    def __init__(self, engine: Engine, *, clock: Clock = time.time,
                 panels: tuple[Panel, ...] = PANELS, show_ids: bool = True,
                 settings: Settings | None = None, freeze_gc: bool = False) -> None:
        super().__init__()
        self.freeze_gc = freeze_gc
        self.engine = engine
        # Defaults unless given: tests and screenshots never read the user's file.
        self.settings = settings or Settings()
        # Injected so snapshot tests can freeze "10 minutes ago".
        self.clock = clock
        self.panels = panels[:MAX_PANELS]
        self.events_follower = EventFollower(self, engine)
        self.stats_hub = StatsHub(self, engine)
        self.panel_screens: dict[str, Screen[None]] = {}  # mode -> its panel, once built
        for panel in self.panels:
            # show_ids=False hides random container IDs in snapshot tests.
            self.add_mode(panel.mode, partial(self._build_panel, panel, show_ids))

    def _build_panel(self, panel: Panel, show_ids: bool) -> Screen[None]:
        screen = panel.factory(self.engine, self.clock, show_ids)
        self.panel_screens[panel.mode] = screen
        return screen

    def on_mount(self) -> None:
        apply_settings(self, self.settings)
        # Before the first panel's first fetch, so no change slips in between.
        self.events_follower.start()
        self.stats_hub.start()
        self.switch_mode(self.panels[0].mode)
        if self.freeze_gc:
            self.set_timer(FREEZE_AFTER, self._freeze_gc, name="freeze-gc")

    def _freeze_gc(self) -> None:
        # What exists once start-up is over (Textual, the engine, the first panel and
        # its rows) lives as long as the app. Out of the collector's sight, a full
        # collection scans only what came later, instead of stalling a key press for
        # ~100 ms over every object every few minutes.
        gc.collect(1)
        gc.freeze()

    def on_unmount(self) -> None:
        self.stats_hub.close()

    # -- live updates (posted by the two app-level workers) -------------------------------
    def on_engine_changed(self, message: EngineChanged) -> None:
        for mode, screen in self.panel_screens.items():
            if isinstance(screen, PanelScreen) and kinds_for(mode) & message.kinds:
                screen.engine_changed()
        if "container" in message.kinds:
            self.stats_hub.poke()  # one may have started: sample now

    def on_stats_sampled(self, message: StatsSampled) -> None:
        if not self.is_running:
            return  # a pass that lands while the app closes: its panels are being emptied
        for screen in self.panel_screens.values():
            if isinstance(screen, PanelScreen) and screen.SHOWS_STATS:
                screen.stats_sampled(message)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Keys beyond the real and announced panels stay out of the footer and help.
        if action == "panel":
            index = parameters[0] if parameters else -1
            return isinstance(index, int) and 0 <= index < len(self.panels)
        if action == "cycle_panel":
            return len(self.panels) > 1
        return True

    def _panel_index(self) -> int:
        modes = [p.mode for p in self.panels]
        return modes.index(self.current_mode) if self.current_mode in modes else 0

    def action_panel(self, index: int) -> None:
        if not 0 <= index < len(self.panels):
            self.bell()
            return
        self.switch_mode(self.panels[index].mode)

    def action_cycle_panel(self, step: int) -> None:
        self.action_panel((self._panel_index() + step) % len(self.panels))

    def action_toggle_help(self) -> None:
        # Textual's HelpPanel lists every active binding with its description.
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    # -- the command palette's targets ---------------------------------------------------
    async def container_command(self, container_id: str, action: str) -> None:
        await self.switch_mode("containers")
        screen = self.screen
        if isinstance(screen, ContainersScreen):
            screen.palette_action(container_id, action)

    async def image_command(self, name: str, action: str) -> None:
        await self.switch_mode("images")
        screen = self.screen
        if isinstance(screen, ImagesScreen):
            screen.palette_action(name, action)

    async def volume_command(self, name: str, action: str) -> None:
        from .volumes_screen import VolumesScreen

        await self.switch_mode("volumes")
        screen = self.screen
        if isinstance(screen, VolumesScreen):
            screen.palette_action(name, action)

    async def network_command(self, name: str, action: str) -> None:
        from .networks_screen import NetworksScreen

        await self.switch_mode("networks")
        screen = self.screen
        if isinstance(screen, NetworksScreen):
            screen.palette_action(name, action)


def make_app(engine: Engine, *, clock: Clock = time.time, show_ids: bool = True,
             settings: Settings | None = None, freeze_gc: bool = False) -> PydockApp:
    """Build the app; tests pass a fixed ``clock`` and ``show_ids=False`` for snapshots.

    ``settings`` come from :func:`app.tui.settings.load_settings` (``pydock-tui`` does
    that); without them the app uses defaults and saves nothing. ``freeze_gc`` is for
    the one app of a ``pydock-tui`` process (see ``PydockApp._freeze_gc``), not for
    tests that build many apps in one process.
    """
    return PydockApp(engine, clock=clock, show_ids=show_ids, settings=settings,
                     freeze_gc=freeze_gc)
