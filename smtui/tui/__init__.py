"""The terminal UI: a view over ``smtui.engine`` (the only package that imports Textual)."""
