#!/usr/bin/env python3
"""Remake tests/data/hog_reference.npz: HOG descriptors from OpenCV 4's cv2.HOGDescriptor.

OpenCV 5 has no HOGDescriptor, so run this in a separate environment:
    python3 -m venv /tmp/cv4 && /tmp/cv4/bin/pip install "opencv-python-headless<5" numpy
    /tmp/cv4/bin/python scripts/make_hog_reference.py
The test tests/test_localise.py::test_hog_matches_opencv4_reference compares kneeoa_desktop/core/knees/hog.py
with these descriptors (patches from kneeKL224/val, plus noise, flat and a ramp).
"""
import glob
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "kneeKL224"
rng = np.random.default_rng(0)
paths = sorted(glob.glob(str(DATA / 'val' / '*' / '*.png')))
pick = [paths[i] for i in (0, 200, 400, 600, 800)]
patches = []
for p in pick:
    im = cv2.imread(p, 0)
    patches.append(cv2.resize(im, (64, 64), interpolation=cv2.INTER_AREA))
    patches.append(cv2.resize(im[40:180, 30:170], (64, 64)))
patches.append(rng.integers(0, 256, (64, 64), dtype=np.uint8))
patches.append(np.zeros((64, 64), np.uint8))
g = np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1)); patches.append(g)
patches = np.stack(patches)
hog = cv2.HOGDescriptor((64, 64), (16, 16), (8, 8), (8, 8), 9)
desc = np.stack([hog.compute(p).ravel() for p in patches]).astype(np.float32)
print(hog.gammaCorrection, hog.winSigma, hog.getWinSigma() if hasattr(hog,'getWinSigma') else None, hog.L2HysThreshold)
np.savez_compressed(str(ROOT / 'tests' / 'data' / 'hog_reference.npz'), patches=patches, descriptors=desc,
                    opencv_version=np.array(cv2.__version__),
                    sources=np.array([p.split('kneeKL224/')[1] for p in pick]))
print(cv2.__version__, desc.shape)
