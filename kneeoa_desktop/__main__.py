"""`python -m kneeoa_desktop [FILE]`: the desktop application (the command line is `kneeoa`)."""

from .gui.app import main_entry

if __name__ == "__main__":
    main_entry()
