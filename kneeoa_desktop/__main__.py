"""`python -m kneeoa_desktop`: the command line until the desktop window lands."""

from .cli import main_entry

main_entry()
