"""Read back a small JSON file the program keeps (a model manifest, a site profile), or say in one
sentence why it cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import KneeOAError


def read_json(path: Path, error: type[KneeOAError], missing: str, damaged: str):
    """The parsed content of ``path``; ``error(missing, path)`` when there is no such file and
    ``error(damaged, path)`` when it cannot be read or parsed. The two templates are the caller's
    (marked for translation there), so each file kind keeps its own sentences."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(missing, path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise error(damaged, path) from None
