"""`python -m smtui` is the `smtui` command."""

from smtui.cli import main

main()
