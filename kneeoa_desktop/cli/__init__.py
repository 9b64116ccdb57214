"""The `kneeoa` command: one module per command, beside its parser, output and progress bar.

``entry.main`` is the whole command (``kneeoa`` and ``python -m kneeoa_desktop.cli``).
"""
