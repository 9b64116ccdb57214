"""KneeOA Desktop: Kellgren–Lawrence grading of knee radiographs, as decision support."""

__version__ = "0.1.0"
