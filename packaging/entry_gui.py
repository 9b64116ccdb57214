"""PyInstaller entry point of the windowed ``KneeOA`` executable (the desktop application).

``KneeOA --self-test`` is dispatched inside ``main_entry`` before any Qt import, so the same
executable checks itself on a machine with no display.
"""

import multiprocessing

from kneeoa_desktop.gui.app import main_entry

if __name__ == "__main__":
    # Nothing in the program starts processes today; this keeps a frozen child from starting
    # a second window if a library ever uses multiprocessing's spawn method.
    multiprocessing.freeze_support()
    main_entry()
