"""The model manifest: what the shipped `.keras` file is, and proof that it is intact.

The manifest is JSON beside the model (``weights/manifest.json``): name, version, file,
sha256, input size, labels, validation metrics, training summary and download URL. An ensemble
lists its members (``members``: each a name, version, file and sha256, the first being the
top-level ``file``) and the temperature applied to their combined verdict
(``ensemble_temperature``); a manifest without ``members`` describes one network.

Each network may also come as an exported ONNX graph (``onnx_file`` and ``onnx_sha256``, per
member, or at the top level for one network), made and checked against the `.keras` file by the
release step: the lean engine (``core.model.onnx_engine``) grades with it and needs no TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..atomic import write_text_atomic
from ..errors import ModelError
from ..json_files import read_json
from ..messages import QT_TRANSLATE_NOOP
from ..paths import weights_dir
from ..verdict.grades import KL_LABELS

# Where the shipped default model lives (the repository's or the bundle's ``weights/``).
DEFAULT_WEIGHTS_DIR = weights_dir()
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class Member:
    """One network of an ensemble: its file in the manifest's folder and that file's sha256,
    and its exported ONNX graph with that file's sha256 ("" when it has none)."""
    name: str
    version: str
    file: str
    sha256: str
    onnx_file: str = ""
    onnx_sha256: str = ""
    # The Keras network's probabilities on ``onnx_engine.probe_input``: the graph must give them
    # again at every load (a damaged graph whose checksum was made to match is caught there).
    onnx_probe: tuple[float, ...] = ()


@dataclass
class ModelManifest:
    name: str
    version: str
    file: str
    sha256: str
    input_size: tuple[int, int]  # (height, width)
    labels: tuple[str, ...] = KL_LABELS
    metrics: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    download_url: str | None = None
    description: str = ""
    # Average the network over the radiograph and its mirror image (left/right knees mirror).
    test_time_flip: bool = False
    # An ensemble's members (empty: one network, ``file``); see ``core.verdict.ensemble``.
    members: tuple[Member, ...] = ()
    ensemble_temperature: float = 1.0
    # A single network's exported ONNX graph (an ensemble lists one per member instead).
    onnx_file: str = ""
    onnx_sha256: str = ""
    onnx_probe: tuple[float, ...] = ()
    directory: Path = field(default=DEFAULT_WEIGHTS_DIR, compare=False)

    @property
    def member_list(self) -> tuple[Member, ...]:
        """Every network the model runs, in order (one for a single-network manifest)."""
        return self.members or (Member(self.name, self.version, self.file, self.sha256,
                                       self.onnx_file, self.onnx_sha256, self.onnx_probe),)

    @property
    def has_onnx(self) -> bool:
        """Whether every network comes as an exported ONNX graph (the lean engine can grade it)."""
        return all(m.onnx_file and m.onnx_sha256 for m in self.member_list)

    @property
    def total_bytes(self) -> int:
        """The size of all its model files, `.keras` and ONNX (those that exist)."""
        files = [m.file for m in self.member_list] + [m.onnx_file for m in self.member_list if m.onnx_file]
        return sum((self.directory / f).stat().st_size for f in files if (self.directory / f).is_file())

    @property
    def model_path(self) -> Path:
        return self.directory / self.file

    @property
    def tag(self) -> str:
        """'name@version', as the CLI reports it."""
        return f"{self.name}@{self.version}"

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("directory")
        data["input_size"] = list(self.input_size)
        data["labels"] = list(self.labels)
        if not self.members:  # a single network's manifest stays as it always was
            data.pop("members")
            data.pop("ensemble_temperature")
        else:
            data["members"] = [_without_empty_onnx(asdict(m)) for m in self.members]
        return json.dumps(_without_empty_onnx(data), indent=2, ensure_ascii=False) + "\n"

    def save(self) -> Path:
        """Write ``manifest.json`` into ``directory``, atomically; returns its path."""
        return write_text_atomic(self.to_json(), self.directory / MANIFEST_NAME)

    def verify(self, onnx: bool = False) -> None:
        """Raise ModelError unless every model file exists and matches its recorded sha256 (an
        ensemble's top-level file and sha256, its first member's, are checked as well).

        ``onnx=True`` checks the exported ONNX graphs instead: what the lean engine loads."""
        if onnx:
            checks = [(m.onnx_file, m.onnx_sha256.lower()) for m in self.member_list]
            missing = QT_TRANSLATE_NOOP("CoreMessages", "The runtime file {0} is missing from {1}.")
            damaged = QT_TRANSLATE_NOOP("CoreMessages", "The runtime file {0} is damaged or was altered "
                                        "(its checksum does not match the manifest).")
        else:
            checks = [(m.file, m.sha256.lower()) for m in self.member_list]
            if (self.file, self.sha256.lower()) not in checks:  # a top-level pair edited apart from the members
                checks.insert(0, (self.file, self.sha256.lower()))
            missing = QT_TRANSLATE_NOOP("CoreMessages", "The model file {0} is missing from {1}.")
            damaged = QT_TRANSLATE_NOOP("CoreMessages", "The model file {0} is damaged or was altered "
                                        "(its checksum does not match the manifest).")
        for file, sha256 in checks:
            path = self.directory / file
            if not path.is_file():  # also a network without an exported graph ("": the folder itself)
                raise ModelError(missing, path.name, path.parent)
            if sha256_of(path) != sha256:
                raise ModelError(damaged, path.name)


def load_manifest(path: str | Path | None = None) -> ModelManifest:
    """Read a manifest file, or the directory holding ``manifest.json``."""
    path = Path(path) if path is not None else DEFAULT_WEIGHTS_DIR
    if path.is_dir():
        path = path / MANIFEST_NAME
    data = read_json(path, ModelError, QT_TRANSLATE_NOOP("CoreMessages", "The model manifest {0} is missing."),
                     QT_TRANSLATE_NOOP("CoreMessages", "The model manifest {0} is unreadable or damaged."))
    try:
        manifest = ModelManifest(
            name=str(data["name"]),
            version=str(data["version"]),
            file=str(data["file"]),
            sha256=str(data["sha256"]),
            input_size=(int(data["input_size"][0]), int(data["input_size"][1])),
            labels=tuple(str(x) for x in data.get("labels", KL_LABELS)),
            metrics=dict(data.get("metrics", {})),
            training=dict(data.get("training", {})),
            download_url=data.get("download_url"),
            description=str(data.get("description", "")),
            test_time_flip=bool(data.get("test_time_flip", False)),
            members=tuple(Member(str(m["name"]), str(m["version"]), str(m["file"]), str(m["sha256"]),
                                 str(m.get("onnx_file", "")), str(m.get("onnx_sha256", "")),
                                 tuple(float(v) for v in m.get("onnx_probe", ())))
                          for m in data.get("members", ())),
            ensemble_temperature=float(data.get("ensemble_temperature", 1.0)),
            onnx_file=str(data.get("onnx_file", "")),
            onnx_sha256=str(data.get("onnx_sha256", "")),
            onnx_probe=tuple(float(v) for v in data.get("onnx_probe", ())),
            directory=path.parent,
        )
    except (KeyError, TypeError, ValueError, IndexError):
        raise ModelError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The model manifest {0} lacks required fields."), path) from None
    if len(manifest.labels) != len(KL_LABELS):
        raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The model manifest must list exactly five KL grades."))
    files = [m.file for m in manifest.member_list]
    onnx_files = [m.onnx_file for m in manifest.member_list if m.onnx_file]
    if any(Path(f).name != f for f in [manifest.file, *files, *onnx_files]):
        raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The model manifest names a file outside its own folder."))
    if manifest.members and (files[0] != manifest.file or len(set(files)) != len(files)):
        raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The model manifest {0} lacks required fields."), path)
    if not 0.05 <= manifest.ensemble_temperature <= 20.0:
        raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The model manifest {0} lacks required fields."), path)
    return manifest


def _without_empty_onnx(data: dict) -> dict:
    """A network without an exported graph is written as before (no empty ``onnx_*`` keys)."""
    if not data.get("onnx_file"):
        for key in ("onnx_file", "onnx_sha256", "onnx_probe"):
            data.pop(key, None)
    return data


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
