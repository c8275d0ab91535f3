"""Apply :class:`~app.tui.settings.Settings` to a running app, and remember the theme.

Kept apart from ``settings`` (which only reads and writes the file) and from ``app``
(composition and routing). Everything here runs on the event loop except the file
I/O and the scan for binding ids, which go to thread workers.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.app import App
from textual.theme import Theme

from .settings import (
    Settings,
    SettingsError,
    declared_bindings,
    key_conflicts,
    save_theme,
    unknown_ids,
)

NOTICE_SECONDS = 12  # long enough to read a file path


def apply_settings(app: App[Any], settings: Settings) -> None:
    """Keymap, theme and the theme keeper; problems become notifications."""
    for line in settings.problems:
        app.notify(line, title="Settings", severity="warning", timeout=NOTICE_SECONDS,
                   markup=False)
    if settings.keymap:
        app.set_keymap(dict(settings.keymap))
        app.run_worker(partial(_check_keymap, app, settings), thread=True, exit_on_error=False,
                       group="settings-check", name="keymap ids")
    if settings.theme:
        if settings.theme in app.available_themes:
            app.theme = settings.theme
        else:
            names = ", ".join(sorted(app.available_themes))
            app.notify(f"Unknown theme {settings.theme!r} in {settings.path}. "
                       f"Themes: {names}", title="Settings", severity="warning",
                       timeout=NOTICE_SECONDS, markup=False)
    if settings.path is not None:
        keeper = ThemeKeeper(app, settings, settings.theme or app.theme)
        app.theme_changed_signal.subscribe(app, keeper)


def _check_keymap(app: App[Any], settings: Settings) -> None:
    # Imports every panel module to learn the ids: a thread, not the event loop.
    declared = declared_bindings()
    unknown = unknown_ids(settings.keymap, set(declared))
    if unknown:
        app.notify(f"No such binding id in {settings.path}: {', '.join(unknown)} "
                   "(`pydock-tui --keys` lists the ids)",
                   title="Keymap", severity="warning", timeout=NOTICE_SECONDS, markup=False)
    if conflicts := key_conflicts(settings.keymap, declared):
        app.notify("\n".join(conflicts), title="Keymap: keys taken", severity="warning",
                   timeout=NOTICE_SECONDS, markup=False)


class ThemeKeeper:
    """Writes the theme the user picks back to the settings file (a thread worker)."""

    def __init__(self, app: App[Any], settings: Settings, current: str) -> None:
        self.app = app
        self.settings = settings
        self.saved = current

    def __call__(self, theme: Theme) -> None:
        # Called on every change, including the one that applied the file's theme.
        if theme.name == self.saved or self.settings.path is None:
            return
        self.saved = theme.name
        self.app.run_worker(partial(self._save, theme.name), thread=True, exclusive=True,
                            exit_on_error=False, group="settings-save", name="save theme")

    def _save(self, name: str) -> None:
        assert self.settings.path is not None
        try:
            save_theme(self.settings.path, name)
        except SettingsError as err:
            self.app.notify(str(err), title="Theme not saved", severity="warning",
                            timeout=NOTICE_SECONDS, markup=False)
