"""The one place worker failures are turned into what the user sees.

Long engine calls run in thread workers. ``Worker.StateChanged`` does not bubble, so every node
that starts workers mixes this in; the handling itself lives in ``SmtuiApp.report_error``.
"""

from __future__ import annotations

from textual.worker import Worker, WorkerState

from smtui.tui.node import SmtuiNode


class ReportsWorkerErrors(SmtuiNode):
    """Mixin for screens and widgets that run workers (their ``self.app`` typed: ``SmtuiNode``)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.app.report_error(event.worker.error)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.work_finished(event.worker)

    def work_finished(self, worker: Worker) -> None:
        """Reset busy flags and progress displays; called on success, error and cancel."""
