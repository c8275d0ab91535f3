"""The containers panel, part 4 of 4: actions on the marked rows (or the cursor row).

``s`` stop/start, ``r`` restart, ``p`` pause/unpause, ``K`` kill, ``d`` remove,
``R`` rename, ``e`` shell, ``A`` attach, ``enter`` the actions menu (``n`` run, ``u``
update limits and ``C`` commit come from ``container_dialogs``). Batch verbs report per item
and every item gets its own notice. Kill is ``K``, not ``k``: ``k`` moves the cursor
up (DESIGN §6 j/k), and a slip of the finger must not kill a container.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import SuspendNotSupported
from textual.binding import Binding

from engine import EngineError
from engine.types import ContainerReport, ContainerSummary
from widgets import ContainerTable

from .actions_menu import ActionsMenu
from .confirm_screen import ConfirmScreen
from .container_detail import RUNNING
from .container_dialogs import ContainerDialogsScreen
from .container_messages import ContainersActed, ShellReady
from .prompt_screen import PromptScreen

PAST = {"stop": "Stopped", "start": "Started", "restart": "Restarted", "pause": "Paused",
        "unpause": "Unpaused", "kill": "Killed", "remove": "Removed", "rename": "Renamed"}


def menu_entries(c: ContainerSummary) -> list[tuple[str, str, str]]:
    """``(action, label, key)`` for the actions menu, worded for the container's state."""
    live = c.status in RUNNING
    return [
        ("toggle_run", "Stop" if live else "Start", "s"),
        ("restart", "Restart", "r"),
        ("toggle_pause", "Unpause" if c.status == "paused" else "Pause", "p"),
        ("kill", "Kill", "K"),
        ("remove", "Remove…", "d"),
        ("rename", "Rename…", "R"),
        ("exec_shell", "Open a shell", "e"),
        ("attach", "Attach", "A"),
        ("update", "Update limits…", "u"),
        ("commit", "Commit to an image…", "C"),
        ("run", "Run a new container…", "n"),
        ("logs", "Logs", "l"),
        ("inspect", "Inspect", "i"),
    ]


def cli_command(root: Path) -> list[str]:
    """How to run the ``pydock`` CLI on ``root``: the script next to this Python, if any."""
    script = Path(sys.executable).parent / "pydock"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]
    return [*base, "--root", str(root)]


class ContainersScreen(ContainerDialogsScreen):
    """The Containers panel (panel 1)."""

    # The shells `e` tries, in order, unless the settings file says otherwise
    # (`shells = [...]`); the first one present in the container wins.
    EXEC_SHELLS: ClassVar[tuple[str, ...]] = ("bash", "sh")

    BINDINGS = [
        Binding("s", "toggle_run", "Stop/Start", id="containers.stop_start"),
        Binding("r", "restart", "Restart", show=False, id="containers.restart"),
        Binding("p", "toggle_pause", "Pause", show=False, id="containers.pause"),
        Binding("K", "kill", "Kill", show=False, id="containers.kill"),
        Binding("d", "remove", "Remove", id="containers.remove"),
        Binding("R", "rename", "Rename", show=False, id="containers.rename"),
        Binding("e", "exec_shell", "Shell", id="containers.exec"),
        Binding("A", "attach", "Attach", show=False, id="containers.attach"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._only: ContainerSummary | None = None  # the palette's single target
        # A palette/Monitor request for a container the list does not show yet.
        self._awaiting: tuple[str, str] | None = None

    def _targets(self) -> list[ContainerSummary]:
        targets = [self._only] if self._only else self.table.targets
        if not targets:
            self.notify("No container selected", severity="warning")
        return targets

    def _dispatch(self, plan: list[tuple[str, ContainerSummary]], *, force: bool = False) -> None:
        if not plan:
            return
        if self._only is None and self.table.marked:
            self.table.clear_marks()  # the marks were for this action
        slow = [c.name for op, c in plan if op in ("stop", "restart")]
        if slow:
            # Stop waits out the grace period (10 s by default): say that it is under way.
            self.notify(f"Stopping {', '.join(slow)}…", timeout=3, markup=False)
        self.act([(op, c.id, c.name) for op, c in plan], force)

    # -- actions ----------------------------------------------------------------------------
    def action_toggle_run(self) -> None:
        self._dispatch([("stop" if c.status in RUNNING else "start", c)
                        for c in self._targets()])

    def action_restart(self) -> None:
        self._dispatch([("restart", c) for c in self._targets()])

    def action_toggle_pause(self) -> None:
        self._dispatch([("unpause" if c.status == "paused" else "pause", c)
                        for c in self._targets()])

    def action_kill(self) -> None:
        self._dispatch([("kill", c) for c in self._targets()])

    def action_remove(self) -> None:
        targets = self._targets()
        if not targets:
            return
        live = [c.name for c in targets if c.status in RUNNING]
        names = ", ".join(c.name for c in targets)
        question = f"Remove {'container' if len(targets) == 1 else 'containers'} {names}?"
        if live:
            question += f"\n{', '.join(live)} {'is' if len(live) == 1 else 'are'} running " \
                        "and will be killed first."

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._dispatch([("remove", c) for c in targets], force=bool(live))

        self.app.push_screen(ConfirmScreen(question), confirmed)

    def action_rename(self) -> None:
        targets = self._targets()
        if not targets:
            return
        c = targets[0]

        def renamed(new: str | None) -> None:
            if new:
                self.rename(c.id, c.name, new)

        self.app.push_screen(PromptScreen(f"Rename container {c.name} to:", c.name), renamed)

    def action_logs(self) -> None:
        self.action_tab("logs")

    def action_inspect(self) -> None:
        self.action_tab("inspect")

    @on(ContainerTable.Selected)
    def action_menu(self, message: ContainerTable.Selected | None = None) -> None:
        c = message.container if message else self.table.selected_container
        if c is None:
            return

        def chosen(action: str | None) -> None:
            if action:
                getattr(self, f"action_{action}")()

        self.app.push_screen(ActionsMenu(f"{c.name} ({c.status})", menu_entries(c)), chosen)

    def palette_action(self, container_id: str, action: str, *, retry: bool = True) -> None:
        """Run ``action`` on one container, as the command palette (or the Monitor) asks."""
        if not self.table.select(container_id):
            # Hidden by the filter or the running-only view: show everything.
            self.clear_filter()
            if not self.table.show_stopped:
                self.table.action_toggle_stopped()
            if not self.table.select(container_id) and retry:
                # Started while this panel was hidden: its list is behind. Ask again once
                # the fresh list is in.
                self._awaiting = (container_id, action)
                self.refresh_now()
                return
            if not self.table.select(container_id):
                self.notify("That container is gone", severity="warning")
                return
        self._only = next(c for c in self.table.containers if c.id == container_id)
        # A jump, not a walk: the detail pane follows at once ("logs db" shows db's log),
        # without the rest the cursor needs under j/k.
        self.show_detail(self._only)
        try:
            getattr(self, f"action_{action}")()
        finally:
            self._only = None

    def after_refresh(self) -> None:
        super().after_refresh()
        if self._awaiting is not None:
            (container_id, action), self._awaiting = self._awaiting, None
            self.palette_action(container_id, action, retry=False)

    # -- engine calls ---------------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="container-actions")
    def act(self, plan: list[tuple[str, str, str]], force: bool) -> None:
        # Not exclusive: a second action on other rows must not cancel the reports of the
        # first; each batch verb reports per item anyway.
        names = {cid: name for _, cid, name in plan}
        by_op: dict[str, list[str]] = {}
        for op, cid, _ in plan:
            by_op.setdefault(op, []).append(cid)
        for op, ids in by_op.items():
            try:
                reports = self._call(op, ids, force)
            except EngineError as err:
                reports = [ContainerReport(cid, error=str(err)) for cid in ids]
            self.post_message(ContainersActed(op, reports, names))

    def _call(self, op: str, ids: list[str], force: bool) -> list[ContainerReport]:
        e = self.engine
        verbs: dict[str, Callable[[list[str]], list[ContainerReport]]] = {
            "stop": e.containers_stop, "restart": e.containers_restart,
            "pause": e.containers_pause, "unpause": e.containers_unpause,
            "kill": e.containers_kill,
            "remove": lambda refs: e.containers_remove(refs, force=force),
        }
        if op in verbs:
            return verbs[op](ids)
        reports = []  # start is not a batch verb in the facade: report per item here
        for cid in ids:
            try:
                e.containers_start(cid)
                reports.append(ContainerReport(cid, cid))
            except EngineError as err:
                reports.append(ContainerReport(cid, error=str(err)))
        return reports

    @work(thread=True, exclusive=True, exit_on_error=False, group="container-rename")
    def rename(self, container_id: str, old: str, new: str) -> None:
        try:
            self.engine.containers_rename(container_id, new)
            report = ContainerReport(container_id, container_id)
        except EngineError as err:
            report = ContainerReport(container_id, error=str(err))
        self.post_message(ContainersActed("rename", [report], {container_id: f"{old} to {new}"}))

    def on_containers_acted(self, message: ContainersActed) -> None:
        for rep in message.reports:
            name = message.names.get(rep.item, rep.item)
            if rep.error:
                self.notify(rep.error, title=f"Cannot {message.verb} {name}", severity="error",
                            markup=False)
            else:
                self.notify(f"{PAST.get(message.verb, message.verb)} {name}", markup=False)
        self.refresh_now()

    # -- exec ------------------------------------------------------------------------------------
    def action_exec_shell(self) -> None:
        targets = self._targets()
        if not targets:
            return
        c = targets[0]
        if c.status not in RUNNING:
            self.notify(f"{c.name} is not running; start it first (s)", severity="warning")
            return
        self.notify(f"Opening a shell in {c.name}…", timeout=3, markup=False)
        self.find_shell(c.id, c.name, self.exec_shells)

    @property
    def exec_shells(self) -> tuple[str, ...]:
        """The user's ``shells`` setting (PydockApp.settings), else :attr:`EXEC_SHELLS`."""
        shells = getattr(getattr(self.app, "settings", None), "shells", None)
        return tuple(shells) if shells else self.EXEC_SHELLS

    @work(thread=True, exclusive=True, exit_on_error=False, group="container-exec")
    def find_shell(self, container_id: str, name: str, shells: tuple[str, ...]) -> None:
        # A quick non-interactive probe per shell: falling back on the interactive
        # session's exit code would mistake "bash exited 127" for "no bash".
        cli = cli_command(self.engine.config.root)
        for shell in shells:
            probe = subprocess.run([*cli, "exec", container_id, shell, "-c", "exit 0"],
                                   capture_output=True, text=True, timeout=30, check=False)
            if probe.returncode == 0:
                self.post_message(ShellReady(name, [*cli, "exec", "-it", container_id, shell]))
                return
            if "invalid choice" in probe.stderr:
                self.app.notify("This pydock has no `exec` command yet", severity="error")
                return
        self.app.notify(f"Tried {', '.join(shells)}", title=f"No shell in {name}",
                        severity="error", markup=False)

    def on_shell_ready(self, message: ShellReady) -> None:
        code = self.run_interactive(message.argv)
        if code is not None and code not in (0, 130):
            self.notify(f"The shell in {message.name} exited with {code}", severity="warning")
        self.refresh_now()

    def action_attach(self) -> None:
        targets = self._targets()
        if not targets:
            return
        c = targets[0]
        if c.status not in RUNNING:
            self.notify(f"{c.name} is not running; start it first (s)", severity="warning")
            return
        argv = [*cli_command(self.engine.config.root), "attach", c.id]
        # Said in the terminal itself: a notice would only show once the user is back.
        code = self.run_interactive(argv, banner=f"Attached to {c.name}: detach with ctrl-p "
                                                 "ctrl-q (ctrl-c without a TTY)")
        if code is not None and code not in (0, 130):
            self.notify(f"{c.name} exited with {code}", markup=False)
        self.refresh_now()

    def run_interactive(self, argv: list[str], banner: str = "") -> int | None:
        """Hand the terminal to ``argv`` until it exits (tests replace this)."""
        try:
            with self.app.suspend():
                if banner:
                    print(banner, flush=True)
                return subprocess.run(argv, check=False).returncode
        except SuspendNotSupported:
            self.notify("This terminal cannot hand over to a shell", severity="error")
            return None
