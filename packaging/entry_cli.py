"""PyInstaller entry point of the console ``kneeoa`` executable (the command line)."""

import multiprocessing

from kneeoa_desktop.cli.entry import main_entry

if __name__ == "__main__":
    multiprocessing.freeze_support()  # see entry_gui.py
    main_entry()
