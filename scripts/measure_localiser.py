"""Print how the knee localiser does: whole-crop share, centring, timing, implant films, and
how it takes oblong images (crops of other shapes, knees on larger films).

    nice -n 19 .venv/bin/python scripts/measure_localiser.py [--data ../shared/data] [--step 1]
        [--oblong-split train] [--oblong-count 150] [--only-oblong]

Section (5) shows ``localise.CROP_MARGIN`` and the pair-versus-whole rule at work:
``--oblong-count`` crops of ``--oblong-split`` (train, so that val stays a fair judge; run it
with ``--oblong-split val`` to see the choice hold there), each cut to bands, resized out of
shape and placed on larger films, with the share taken as one whole crop, as two knees and as a
found region, at the chosen margin and at others (scripts/measure_sites.py: the whole pipeline).

Figures only; nothing is asserted. Times are CPU time of this process (time.process_time), so
that a busy machine inflates them less than wall time would; wall time is printed beside.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kneeoa_desktop.core.knees import localise  # noqa: E402
from kneeoa_desktop.core.knees.localise import find_knees  # noqa: E402
from kneeoa_desktop.training.augment import shaped_band  # noqa: E402
from kneeoa_desktop.training.sites import site_film  # noqa: E402
from tests.test_localise import bilateral_film  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--step", type=int, default=1, help="use every n-th val crop")
    ap.add_argument("--oblong-split", default="train", help="kneeKL224 split for section (5)")
    ap.add_argument("--oblong-count", type=int, default=150, help="crops used in section (5)")
    ap.add_argument("--only-oblong", action="store_true", help="section (5) only")
    args = ap.parse_args()
    if args.only_oblong:
        oblong_images(args.data / "kneeKL224" / args.oblong_split, args.oblong_count)
        return
    val = sorted((args.data / "kneeKL224" / "val").glob("*/*.png"))[:: args.step]
    crops = [(p, cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)) for p in val]

    whole = sum(1 for _, c in crops if [r.whole_image for r in find_knees(c)] == [True])
    print(f"(1) kneeKL224/val crops graded whole as one region: {whole}/{len(crops)} "
          f"= {100 * whole / max(1, len(crops)):.1f} %")

    errors, found = [], 0
    for k, (p, c) in enumerate(crops[: 200 // args.step + 1]):
        n = c.shape[0]
        # Replicated edges make a plausible taller film around the joint (single knee).
        film = cv2.copyMakeBorder(c, n, n, n // 2, n // 2, cv2.BORDER_REPLICATE)
        r = find_knees(film)
        if len(r) == 1:
            found += 1
            cx, cy = r[0].centre
            errors.append(max(abs(cx - film.shape[1] / 2), abs(cy - film.shape[0] / 2)) / r[0].width)
        # A non-square cut, as another hospital's crop (e.g. 300×162-like): wide and short.
    e = np.array(errors) * 100
    if len(e):
        print(f"(2a) single knee in a 2.2:1.5 replicate-padded film: {found} found as one region; "
              f"centre error (max of |dx|,|dy|, % of region width) median {np.median(e):.1f}, "
              f"90th pct {np.percentile(e, 90):.1f}, share ≤ 15 %: {np.mean(e <= 15) * 100:.1f} %")
    pairs, ok = 0, 0
    rights = [c for p, c in crops if p.stem.endswith("R")]
    lefts = [c for p, c in crops if p.stem.endswith("L")]
    for a, b in list(zip(rights, lefts))[:50]:
        film, truth = bilateral_film(a, b)
        r = find_knees(film)
        pairs += 1
        if [x.side for x in r] == ["right", "left"] and all(
                max(abs(x.centre[0] - t[0]), abs(x.centre[1] - t[1])) <= 0.15 * x.width
                for x, t in zip(r, truth)):
            ok += 1
    print(f"(2b) synthetic bilateral films: {ok}/{pairs} give R then L, both centred within 15 %")

    rng = np.random.default_rng(0)
    film = cv2.resize(rng.integers(0, 256, (150, 200), dtype=np.uint8), (2000, 1500))
    if len(crops) > 1:
        knees, _ = bilateral_film(crops[0][1], crops[-1][1])
        film = cv2.resize(knees, (2000, 1500))
    for label, img in (("2000×1500 film", film), ("2000×1500 16-bit", film.astype(np.uint16) * 257)):
        find_knees(img)
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(5):
            find_knees(img)
        print(f"(3) {label}: {(time.process_time() - c0) / 5 * 1000:.0f} ms CPU, "
              f"{(time.perf_counter() - w0) / 5 * 1000:.0f} ms wall per film")
    for p in sorted((args.data / "out-of-scope" / "implants").glob("*.jpg")):
        img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
        c0 = time.process_time()
        r = find_knees(img)
        ms = (time.process_time() - c0) * 1000
        desc = ", ".join(f"{x.side or '?'} {x.score:.2f}{' whole' if x.whole_image else ''}" for x in r)
        print(f"(4) {img.shape[1]}×{img.shape[0]} {ms:5.0f} ms CPU  {len(r)} region(s) [{desc}]  {p.name}")

    oblong_images(args.data / "kneeKL224" / args.oblong_split, args.oblong_count)


#: Images made from a square crop c (n × n): what the localiser should take as one crop (bands
#: of other shapes, a crop resized without keeping its aspect ratio) and what as a knee to look
#: for (a larger film).
OBLONG = {
    "as it is (crop)": lambda c: c,
    "squashed 300x162 sharpened (crop)": lambda c: site_film(c, "300x162 sharpened"),
    "band 300x162 (crop)": lambda c: shaped_band(c, 300, 162),
    "band 162x300 (crop)": lambda c: shaped_band(c, 162, 300),
    "squashed 300x162 (crop)": lambda c: cv2.resize(c, (300, 162), interpolation=cv2.INTER_AREA),
    "film 1.4x dark (either)": lambda c: cv2.copyMakeBorder(c, 0, 0, 45, 45, cv2.BORDER_CONSTANT, value=0),
    "film 2.2x1.5 replicated (find)": lambda c: cv2.copyMakeBorder(c, 224, 224, 56, 56, cv2.BORDER_REPLICATE),
    "film 3x2 replicated (find)": lambda c: cv2.copyMakeBorder(c, 224, 224, 112, 112, cv2.BORDER_REPLICATE),
}


def _decision_inputs(img: np.ndarray) -> tuple[float, float, float, float]:
    """(weaker knee of the bilateral pair or nan, best window inside, the whole image, the weaker
    half) scores, computed as ``find_knees`` computes them."""
    work, scale, box = localise._work_and_box(img)
    found = localise._candidates(work, localise._anisotropies(work, scale, None), box)
    pair, best = found.pair, found.best
    return (min(pair[0].score, pair[1].score) if pair else np.nan, best.score if best else -np.inf, found.whole,
            found.halves)


def oblong_images(folder: Path, count: int) -> None:
    paths = sorted(folder.glob("[0-4]/*.png"))
    if not paths:
        print(f"(5) no crops in {folder}")
        return
    pick = np.random.default_rng(0).choice(len(paths), min(count, len(paths)), replace=False)
    crops = [cv2.imread(str(paths[i]), cv2.IMREAD_GRAYSCALE) for i in pick]
    margins = sorted({0.3, 0.5, 0.7, 1.0, localise.CROP_MARGIN})
    print(f"(5) images from {len(crops)} crops of {folder}: taken as two knees (pair beats the whole) / "
          f"one whole crop at margin {', '.join(f'{m:g}' for m in margins)} (chosen: {localise.CROP_MARGIN:g}) "
          f"/ find_knees as shipped: whole, two, found")
    for name, make in OBLONG.items():
        pair, best, whole, halves = np.array([_decision_inputs(make(c)) for c in crops]).T
        two = ((~np.isnan(pair) & (pair > whole) & (pair >= localise.BILATERAL_SCORE_MIN))
               | ((halves > whole) & (halves >= localise.CROP_SCORE_MIN)))
        crop = {m: ~two & (whole >= localise.CROP_SCORE_MIN) & (whole >= best - m) for m in margins}
        shipped = [find_knees(make(c)) for c in crops]
        as_whole = np.mean([len(r) == 1 and r[0].whole_image for r in shipped])
        as_two = np.mean([len(r) == 2 for r in shipped])
        as_found = np.mean([len(r) == 1 and not r[0].whole_image for r in shipped])
        print(f"    {name:<30} two {two.mean():5.1%} | whole " +
              " ".join(f"{crop[m].mean():5.1%}" for m in margins) +
              f" | shipped: whole {as_whole:5.1%} two {as_two:5.1%} found {as_found:5.1%}")


if __name__ == "__main__":
    main()
