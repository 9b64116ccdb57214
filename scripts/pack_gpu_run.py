"""Pack what `scripts/train_members_gpu.py` needs on a lent GPU machine into one ignored folder.

Only the checkout travels to that machine (64 MiB in all, the checkout included), so kneeKL224
goes as WebP (lossy, about 21 MB at quality 85; the figures that count are measured here
afterwards on the real PNGs) and the ImageNet backbones as float16 ``.npz`` files (a
starting point only). Usage:

    .venv/bin/python scripts/pack_gpu_run.py --out .gpu [--quality 85] [--backbones lite0 lite2]

then name ``.gpu`` (and ``.whl``, the Keras wheels) in the device call's ``carry``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kneeoa_desktop.training.config import DEFAULT_DATA_DIR  # noqa: E402
from kneeoa_desktop.training.dataset import list_split, raw_pixels  # noqa: E402


def pack_split(split_dir: Path, quality: int) -> dict[str, np.ndarray]:
    items = list_split(split_dir)
    blobs, grades, names = [], [], []
    for path, grade in items:
        ok, buf = cv2.imencode(".webp", raw_pixels(path, (224, 224)), [cv2.IMWRITE_WEBP_QUALITY, quality])
        if not ok:
            raise RuntimeError(f"could not encode {path}")
        blobs.append(buf.tobytes())
        grades.append(grade)
        names.append(path.name)
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
    return {"bytes": np.frombuffer(b"".join(blobs), np.uint8), "offsets": offsets,
            "grades": np.array(grades, np.int8), "names": np.array(names)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=Path(".gpu"))
    parser.add_argument("--quality", type=int, default=85)
    parser.add_argument("--backbones", nargs="*", default=["lite0", "lite2"])
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "val"):
        packed = pack_split(args.data / split, args.quality)
        np.savez(args.out / f"{split}.npz", **packed)
        print(f"{split}: {len(packed['grades'])} images, {packed['bytes'].nbytes / 1e6:.1f} MB")
    from kneeoa_desktop.training.pretrained import lite_weights_file, read_imagenet

    for arch in args.backbones:
        state = read_imagenet(lite_weights_file(arch))
        keep = {k: v.astype(np.float16) for k, v in state.items()
                if not k.startswith("_fc.") and not k.endswith("num_batches_tracked")}
        np.savez(args.out / f"imagenet-{arch}.npz", **keep)
        print(f"imagenet-{arch}: {sum(v.nbytes for v in keep.values()) / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
