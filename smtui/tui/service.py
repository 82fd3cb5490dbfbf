"""One service: set it up the first time, update it later.

Tabs hold the children grid, the rooms grid, the sync log and the settings. Reading both systems
and syncing run in thread workers that report progress into the activity bar and the live log, so
the screen never freezes; a sync only starts after the person confirmed the exact plan
(its fingerprint), and a plan that changed meanwhile is refused by the engine.

The grids show an engine ``ServiceSession``, opened when the screen loads and again after a read,
a sync, or a run from elsewhere: an edit in a grid changes the session at once, and the screen's
``persist`` worker writes it and re-plans (the rows the next sync changes are marked when that is
done). Leaving the screen waits for edits not yet written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, get_current_worker

from smtui import engine
from smtui.engine.session import ServiceSession
from smtui.tui.cells import STATE_STYLES, ago, run_counts
from smtui.tui.children import ChildrenPane
from smtui.tui.dialogs import ConfirmPlanScreen, Dialog, LinesScreen, UnsavedScreen
from smtui.tui.fit import FitTable
from smtui.tui.rooms import RoomsPane
from smtui.tui.settings import SettingsPane
from smtui.tui.synclog import SyncLogPane, event_line
from smtui.tui.working import ReportsWorkerErrors
from smtui.views import OpEvent, PlanPreview, ServiceSummary

TABS = ("tab-children", "tab-rooms", "tab-log", "tab-settings")
TAB_TITLES = ("Children tab", "Rooms tab", "Sync log tab", "Settings tab")
FINISHED = ("done", "failed", "unknown")


class ServiceScreen(ReportsWorkerErrors, Screen):
    HELP_SECTION = "Service"
    AUTO_FOCUS = None  # the grid takes focus once the rows are there
    BINDINGS: ClassVar[list[BindingType]] = [
        # At 80 columns the footer holds the grid's keys and S; esc, R and the tab keys are
        # in the command palette, and the tab titles name F2-F5.
        Binding("escape", "back", "Back", show=False, id="service.back"),
        Binding("R", "refresh", "Re-read both systems", show=False, id="service.refresh"),
        Binding(
            "S,ctrl+s",
            "setup",
            "Set up",
            id="service.setup",
            tooltip="first sync: check, confirm, run",
        ),
        Binding(
            "S,ctrl+s",
            "update",
            "Update",
            id="service.update",
            tooltip="sync now: check, confirm, run",
        ),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False, id="service.next_tab"),
        Binding("left_square_bracket", "tab(-1)", "Prev tab", show=False, id="service.prev_tab"),
        *(
            Binding(f"f{i}", f"show_tab('{tab}')", title, show=False, id=f"service.{tab}")
            for i, (tab, title) in enumerate(zip(TABS, TAB_TITLES, strict=True), start=2)
        ),
    ]

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self.set_up: bool | None = None
        self.summary: ServiceSummary | None = None
        self.enabled = True
        self.busy: str | None = None
        self.syncing = False  # a run this screen started (not one from the services screen)
        self.session: ServiceSession | None = None
        self.config: engine.ServiceConfig | None = None
        #: the last run's end when the session was read: a later one (cron, another shell)
        #: changed the portfolio and the mappings, and the session is read again
        self.session_sync_at: dt.datetime | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="svc-status")
        with TabbedContent(id="tabs"):
            with TabPane("F2 Children", id="tab-children"):
                yield ChildrenPane(self.service, id="children-pane")
            with TabPane("F3 Rooms", id="tab-rooms"):
                yield RoomsPane(self.service, id="rooms-pane")
            with TabPane("F4 Sync log", id="tab-log"):
                yield SyncLogPane(self.service, id="log-pane")
            # the settings form is mounted once the grid is painted (see mount_settings)
            yield TabPane("F5 Settings", id="tab-settings")
        with Vertical(id="activity"):
            yield ProgressBar(id="progress", show_eta=False)
            yield Static(id="activity-line")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = self.service
        self.query_one("#activity").display = False
        self.begin("Loading…")
        self.load()

    # --- reading -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, refresh: bool = False) -> None:
        """Open the session on the cached read; the first time a service is opened, read both
        systems first."""
        app = self.app
        if self.session is not None:
            self.session.save()  # what the person decided goes into the next read's proposals
        cfg = engine.service_config(app.store, self.service)
        if refresh:
            self.refresh_both()
        session: ServiceSession | None
        try:
            session = self.open_session()
        except engine.EngineError:
            if not cfg.enabled:  # turned off (and purged): nothing to show, nothing to read
                session = None
            elif refresh or cfg.set_up_at is not None:
                raise
            else:
                self.refresh_both()
                session = self.open_session()
        summary = engine.service_summary(app.store, self.service)
        cfg = engine.service_config(app.store, self.service)
        app.call_from_thread(self.loaded, cfg, summary, session)

    def open_session(self) -> ServiceSession:
        app = self.app
        return ServiceSession.open(app.store, self.service, who=app.who, as_of=app.as_of)

    def refresh_both(self) -> None:
        app = self.app
        app.call_from_thread(self.live, "Reading both systems…")
        result = engine.refresh(
            app.store, self.service, progress=lambda line: app.call_from_thread(self.live, line)
        )
        for problem in result.problems:
            app.call_from_thread(self.live, f"problem: {problem}")
        if not result.complete:
            app.call_from_thread(
                self.notify, "The read was incomplete: see the sync log", severity="warning"
            )

    def loaded(self, cfg: Any, summary: ServiceSummary, session: ServiceSession | None) -> None:
        self.set_up = cfg.set_up_at is not None
        self.enabled = cfg.enabled
        self.summary = summary
        self.session = session
        self.session_sync_at = summary.last_sync_at
        self.query_one(ChildrenPane).show_session(session)
        self.query_one(RoomsPane).show_session(session)
        if session is not None:
            # the first plan (which rows the next sync changes) once the rows are painted: it
            # would take the processor from the first paint
            self.call_after_refresh(self.persist)
        self.config = cfg
        settings = self.settings_pane()
        if settings is not None:
            settings.show_config(cfg)
        else:
            self.call_after_refresh(self.mount_settings)
        self.show_status()
        if self.focused is None:
            self.focus_tab(self.query_one(TabbedContent).active)

    def settings_pane(self) -> SettingsPane | None:
        found = self.query(SettingsPane)
        return found.first() if found else None

    def mount_settings(self) -> None:
        """The settings form, after the grid's first paint: its fields and buttons cost as
        much to mount as the rest of the screen, and nobody opens a service to look at them
        first. It shows ``config`` as it mounts."""
        if self.settings_pane() is None and self.config is not None:
            pane = SettingsPane(self.service, config=self.config, id="settings-pane")
            self.query_one("#tab-settings", TabPane).mount(pane)

    def show_status(self) -> None:
        s = self.summary
        if s is None:
            return
        # the split by action is in the children tab's filter bar; this line must fit 80 columns
        status = Text.assemble(
            (s.state, STATE_STYLES.get(s.state, "")), no_wrap=True, overflow="ellipsis"
        )
        if not self.enabled:
            status.append(" · turned off: nothing is read or synced (F5 settings turns it on)")
            self.query_one("#svc-status", Static).update(status)
            self.sub_title = s.state
            self.refresh_bindings()
            return
        status.append(f" · {len(self.query_one(ChildrenPane).rows):,} children")
        if engine.running_here(self.service) and not self.syncing:
            status.append(" · syncing now (started on the services screen)", style="bold cyan")
        if s.last_sync_at is not None:
            status.append(f" · last sync {s.last_result}, {ago(s.last_sync_at, self.app.now())}")
        self.query_one("#svc-status", Static).update(status)
        self.sub_title = s.state
        self.refresh_bindings()

    # --- activity ----------------------------------------------------------------------------

    def begin(self, line: str, total: float | None = None) -> None:
        """Reading or syncing: the grids take no edit until it is done (its result replaces
        the session they would be made on)."""
        self.busy = line
        self.freeze(True)
        bar = self.query_one(ProgressBar)
        bar.update(total=total, progress=0)
        self.query_one("#activity").display = True
        self.query_one("#activity-line", Static).update(Text(line))
        self.refresh_bindings()

    def live(self, line: str) -> None:
        self.query_one("#activity-line", Static).update(Text(line))
        self.query_one(SyncLogPane).live(line)

    def op_event(self, ev: OpEvent) -> None:
        """Finished ops go to the log; an op starting only shows in the activity line."""
        self.query_one(SyncLogPane).saw_run(ev.run_id)
        if ev.state in ("planned", "in_flight"):
            self.query_one("#activity-line", Static).update(Text(event_line(ev)))
            return
        self.live(event_line(ev))
        if ev.state in FINISHED:
            self.query_one(ProgressBar).advance(1)

    def work_finished(self, worker: Worker) -> None:
        if worker.group in ("load", "sync"):
            self.busy = None
            self.freeze(False)
            self.syncing = self.syncing and worker.group != "sync"
            self.query_one("#activity").display = False
            self.show_status()  # a run started elsewhere may have begun or ended meanwhile
            self.refresh_bindings()

    def freeze(self, on: bool) -> None:
        for pane in (self.query_one(ChildrenPane), self.query_one(RoomsPane)):
            pane.frozen = on
            pane.refresh_bindings()

    # --- edits -------------------------------------------------------------------------------

    def on_children_pane_edited(self, event: ChildrenPane.Edited) -> None:
        self.persist()

    def on_rooms_pane_edited(self, event: RoomsPane.Edited) -> None:
        self.persist()

    @work(thread=True, exit_on_error=False, group="persist")
    def persist(self) -> None:
        """Write the session's new edits, then plan; the grids then mark what the next sync
        changes. An edit made meanwhile has its own worker, which plans after it."""
        session = self.session
        if session is None:
            return
        try:
            session.save()
        except Exception:
            # the session took back what the store holds: the grids show that, and the error
            self.app.call_from_thread(self.replanned, session)
            raise
        if session.pending:
            return  # a newer edit's worker plans
        session.room_rows()  # the first time, each room's weeks are worked out here
        session.replan()
        if session.planned and not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.replanned, session)

    def replanned(self, session: ServiceSession) -> None:
        if session is self.session:
            self.query_one(ChildrenPane).show_rows()
            self.query_one(RoomsPane).show_rows()

    def on_unmount(self) -> None:
        """Leaving the service (or the app) waits for edits not yet written, and for a write
        under way (``save`` takes its turn after it)."""
        if self.session is not None:
            try:
                self.session.save()
            except Exception as exc:  # shown, and the screen still goes
                self.app.report_error(exc)

    # --- keys --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("setup", "update", "refresh") and not self.enabled:
            return False  # off means off: the footer stops offering them
        if action in ("setup", "update", "refresh") and engine.running_here(self.service):
            return None  # a run of this service is under way in this app
        if action == "setup":
            return False if self.set_up else (None if self.busy or self.set_up is None else True)
        if action == "update":
            return False if not self.set_up else (None if self.busy else True)
        if action in ("refresh", "back"):
            return None if self.busy else True
        return True

    def action_back(self) -> None:
        self.leave_settings(self.app.pop_screen)

    def leave_settings(self, then: Callable[[], object]) -> None:
        """Leaving the tab or the service with unsaved settings asks first: save, discard, or
        stay; a typed value is never silently kept-but-unsaved, nor silently lost."""
        pane = self.settings_pane()
        if pane is None or not pane.dirty:
            then()
            return

        def answered(answer: str | None) -> None:
            if answer == "save" and pane.save():
                then()
            elif answer == "discard":
                pane.action_revert()
                then()
            else:
                self.focus_tab("tab-settings")

        self.app.push_screen(UnsavedScreen(), answered)

    def action_refresh(self) -> None:
        self.begin("Reading both systems…")
        self.load(refresh=True)

    def action_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        i = TABS.index(tabs.active) if tabs.active in TABS else 0
        self.action_show_tab(TABS[(i + step) % len(TABS)])

    def action_show_tab(self, tab: str) -> None:
        if self.query_one(TabbedContent).active == "tab-settings" and tab != "tab-settings":
            self.leave_settings(lambda: self.switch_tab(tab))
        else:
            self.switch_tab(tab)

    def switch_tab(self, tab: str) -> None:
        # focus first, at once: a focused widget in the pane being hidden would hand focus to
        # its neighbour, whose focus event switches the tab back
        self.focus_tab(tab)
        self.query_one(TabbedContent).active = tab

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """A tab chosen on the tab bar takes the focus into its pane; a tab activated because
        something in its pane took focus leaves focus where it is (stealing it back and forth
        between two panes never settles)."""
        focused = self.focused
        in_a_pane = focused is not None and any(isinstance(a, TabPane) for a in focused.ancestors)
        if event.pane.id and not in_a_pane:
            self.focus_tab(event.pane.id)

    def focus_tab(self, tab: str) -> None:
        pane = self.query_one(f"#{tab}", TabPane)
        settings = self.settings_pane()
        if tab == "tab-settings" and settings is None:
            self.mount_settings()  # asked for before the grid was painted
            self.call_after_refresh(self.focus_tab, tab)
            return
        last = settings.last_input if settings is not None else None
        if tab == "tab-settings" and last is not None:
            self.set_focus(last)  # back where the person was, not on the first field
            return
        # a grid, the sync log's runs, or the settings' first field
        for kind in (FitTable, DataTable, Input):
            found = pane.query(kind)
            if found:
                self.set_focus(found.first())
                return

    def on_children_pane_changed(self, event: ChildrenPane.Changed) -> None:
        self.show_status()

    def on_settings_pane_changed(self, event: SettingsPane.Changed) -> None:
        if event.turned_on:
            self.begin("Reading both systems…")
        self.load(refresh=event.turned_on)

    def on_sync_log_pane_history_changed(self, event: SyncLogPane.HistoryChanged) -> None:
        """A run from cron or another shell changes the state ("held for approval") and the
        last sync: the header must not keep saying what was true before it."""
        if self.summary is not None:
            self.reload_summary()

    @work(thread=True, exclusive=True, exit_on_error=False, group="summary")
    def reload_summary(self) -> None:
        app = self.app
        summary = engine.service_summary(app.store, self.service)
        set_up = engine.service_config(app.store, self.service).set_up_at is not None
        app.call_from_thread(self.summary_loaded, summary, set_up)

    def summary_loaded(self, summary: ServiceSummary, set_up: bool) -> None:
        self.summary = summary
        self.set_up = set_up  # a setup from the CLI turns S from "Set up" into "Update"
        self.show_status()
        ran_elsewhere = (
            summary.last_sync_at != self.session_sync_at and summary.last_result != "running"
        )
        if ran_elsewhere and self.session is not None and not self.busy:
            self.begin("Reading what the last run changed…")
            self.load()

    # --- set up / update / approve -----------------------------------------------------------

    def action_setup(self) -> None:
        self.prepare()

    def action_update(self) -> None:
        self.prepare()

    @work(thread=True, exclusive=True, exit_on_error=False, group="prepare")
    def prepare(self) -> None:
        """The plan to confirm: the session's, once its edits are written and planned (the
        run refuses it if a fresh read plans anything else)."""
        app = self.app
        session = self.session
        if session is None:
            preview = engine.preview(app.store, self.service, as_of=app.as_of)
        else:
            session.save()
            preview = session.preview()
        check = engine.check_mapping(app.store, self.service)
        app.call_from_thread(self.prepared, check, preview)

    def prepared(self, check: engine.MappingCheck, preview: PlanPreview) -> None:
        if check.problems:
            self.app.push_screen(
                LinesScreen("Fix these before syncing (nothing was changed):", check.problems)
            )
            return
        if check.undecided_reviews:

            def skip(yes: bool | None) -> None:
                if yes:
                    self.confirm(preview)

            n = check.undecided_reviews
            self.app.push_screen(
                Dialog(
                    f"{n} children still need review",
                    [
                        "They will not be added now. Decide them later in the children grid",
                        "and the next sync adds them.",
                    ],
                    yes="Skip them for now",
                    no="Go back",
                ),
                skip,
            )
            return
        self.confirm(preview)

    def confirm(self, preview: PlanPreview) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                total = sum(preview.counts.values()) - len(preview.held)
                self.action_show_tab("tab-log")  # watch it happen
                self.begin("Syncing…", total=max(total, 1))
                self.syncing = True
                self.sync(preview.fingerprint)
            else:
                self.notify("Cancelled: nothing was changed", timeout=3)

        self.app.push_screen(ConfirmPlanScreen(preview, setup=not self.set_up), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync")
    def sync(self, fingerprint: str | None, approve: bool = False) -> None:
        app = self.app

        def on_event(ev: OpEvent) -> None:
            app.call_from_thread(self.op_event, ev)

        def progress(line: str) -> None:
            app.call_from_thread(self.live, line)

        try:
            if approve:
                result = engine.approve_held(
                    app.store, self.service, on_event=on_event, who=app.who
                )
            else:
                result = engine.run_sync(
                    app.store,
                    self.service,
                    fingerprint=fingerprint,
                    setup=not self.set_up,
                    as_of=app.as_of,
                    on_event=on_event,
                    progress=progress,
                    who=app.who,
                )
        except engine.EngineError:
            # refused as stale, say: the run saved a fresh read, which the grids now show
            self.load_after_sync()
            raise
        run = result.run
        line = f"{self.service}: {run.result} (run {run.run_id}): "
        line += run_counts(run)
        if result.outcome.held:
            line += f"; {result.outcome.held} held for approval"
        app.call_from_thread(self.live, line)
        severity = "information" if run.result == "ok" else "warning"
        app.call_from_thread(self.notify, line, severity=severity, timeout=6)
        self.load_after_sync()

    def load_after_sync(self) -> None:
        """Called on the sync thread: show what the run left behind."""
        app = self.app
        try:
            session: ServiceSession | None = self.open_session()
        except engine.EngineError:  # a run that read nothing leaves nothing to show
            session = self.session
        summary = engine.service_summary(app.store, self.service)
        cfg = engine.service_config(app.store, self.service)
        app.call_from_thread(self.loaded, cfg, summary, session)
        app.call_from_thread(self.query_one(SyncLogPane).load_history)

    def on_sync_log_pane_approve_requested(self, event: SyncLogPane.ApproveRequested) -> None:
        if self.busy:
            return
        body = ["Approving applies what it held:", *event.held] if event.held else []

        def answered(yes: bool | None) -> None:
            if yes:
                self.begin("Approving…", total=max(len(event.held), 1))
                self.syncing = True
                self.sync(None, approve=True)

        self.app.push_screen(
            Dialog(f"Approve held run {event.run.run_id}?", body, yes="Approve"), answered
        )
