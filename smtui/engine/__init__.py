"""The one facade both front ends call: the CLI for cron and scripts, the TUI for people.

Everything that reads a vendor API, writes the store or decides what to do goes through here, so
the two front ends cannot drift apart. Functions block; the TUI calls them from thread workers.

The facade is lazy: a name's module is imported when the name is first used, so a cron run that
only asks which services are due (``open_store``, ``due_services``) never loads the matcher
(numpy, rapidfuzz), the planner or the vendor clients (httpx). Type checkers and editors read the
``TYPE_CHECKING`` imports below, so every name keeps its real type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtui.lazy import lazy_getattr

if TYPE_CHECKING:
    from smtui.engine.errors import EngineError, Locked, NotSetUp, StalePlan
    from smtui.engine.lease import running_here, unlock
    from smtui.engine.mapping import (
        MAPPING_COLUMNS,
        MappingCheck,
        check_mapping,
        child_rows,
        export_mappings,
        import_mappings,
        link_conflict,
        portfolio_rooms,
        profile_candidates,
        propose,
        restore_children,
        restore_rooms,
        room_rows,
        set_children,
        set_rooms,
    )
    from smtui.engine.planning import preview
    from smtui.engine.reports import explain, read_at, run_events, runs, uninvited
    from smtui.engine.services import (
        add_service,
        due_services,
        open_store,
        remove_service,
        service_config,
        service_summaries,
        service_summary,
        token_warnings,
        turn_off,
        turn_on,
        update_settings,
        who_am_i,
    )
    from smtui.engine.sync import (
        DryRun,
        RefreshResult,
        SyncResult,
        approve_held,
        dry_run,
        refresh,
        run_sync,
    )
    from smtui.store import ServiceConfig

__all__ = [
    "MAPPING_COLUMNS",
    "DryRun",
    "EngineError",
    "Locked",
    "MappingCheck",
    "NotSetUp",
    "RefreshResult",
    "ServiceConfig",
    "StalePlan",
    "SyncResult",
    "add_service",
    "approve_held",
    "check_mapping",
    "child_rows",
    "dry_run",
    "due_services",
    "explain",
    "export_mappings",
    "import_mappings",
    "link_conflict",
    "open_store",
    "portfolio_rooms",
    "preview",
    "profile_candidates",
    "propose",
    "read_at",
    "refresh",
    "remove_service",
    "restore_children",
    "restore_rooms",
    "room_rows",
    "run_events",
    "run_sync",
    "running_here",
    "runs",
    "service_config",
    "service_summaries",
    "service_summary",
    "set_children",
    "set_rooms",
    "token_warnings",
    "turn_off",
    "turn_on",
    "uninvited",
    "unlock",
    "update_settings",
    "who_am_i",
]

#: the module each name of ``__all__`` is imported from on first use (tests/test_cron_path.py
#: checks it against ``__all__`` and the ``TYPE_CHECKING`` imports, so they cannot drift apart)
_NAMES = {
    "smtui.engine.errors": ("EngineError", "Locked", "NotSetUp", "StalePlan"),
    "smtui.engine.lease": ("running_here", "unlock"),
    "smtui.engine.mapping": (
        "MAPPING_COLUMNS",
        "MappingCheck",
        "check_mapping",
        "child_rows",
        "export_mappings",
        "import_mappings",
        "link_conflict",
        "portfolio_rooms",
        "profile_candidates",
        "propose",
        "restore_children",
        "restore_rooms",
        "room_rows",
        "set_children",
        "set_rooms",
    ),
    "smtui.engine.planning": ("preview",),
    "smtui.engine.reports": ("explain", "read_at", "run_events", "runs", "uninvited"),
    "smtui.engine.services": (
        "add_service",
        "due_services",
        "open_store",
        "remove_service",
        "service_config",
        "service_summaries",
        "service_summary",
        "token_warnings",
        "turn_off",
        "turn_on",
        "update_settings",
        "who_am_i",
    ),
    "smtui.engine.sync": (
        "DryRun",
        "RefreshResult",
        "SyncResult",
        "approve_held",
        "dry_run",
        "refresh",
        "run_sync",
    ),
    "smtui.store": ("ServiceConfig",),
}
_HOME = {name: module for module, names in _NAMES.items() for name in names}

if not TYPE_CHECKING:  # type checkers read the imports above, so a misspelt name stays an error
    __getattr__ = lazy_getattr(__name__, _HOME, globals())
