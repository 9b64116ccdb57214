"""`python -m kneeoa_desktop.cli …`: the `kneeoa` command without its console script."""

from .entry import main_entry

main_entry()
