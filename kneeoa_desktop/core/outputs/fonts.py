"""The bundled DejaVu Sans, for text in exports and reports (covers Latin, Cyrillic, symbols)."""

from __future__ import annotations

from functools import lru_cache

from ..paths import resources_dir


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False):
    """A Pillow font of ``size`` pixels; Pillow's built-in font if the file is missing."""
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(str(resources_dir() / "fonts" / name), max(6, int(size)))
    except OSError:
        return ImageFont.load_default(max(6, int(size)))
