"""The `kneeoa` command's arguments: subcommands, options, their checks and --help texts."""

from __future__ import annotations

import argparse

from .. import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kneeoa",
        description="Kellgren–Lawrence grading of knee radiographs (decision support only — not a diagnosis).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--weights", metavar="DIR",
                        help="folder holding manifest.json and the model's file(s) (default: the model "
                             "in use: a downloaded one if installed, else the bundled one)")
    parser.add_argument("--engine", choices=("auto", "onnx", "tensorflow", "tensorflow-graph"),
                        help="what runs the network: onnx (ONNX Runtime, the lean engine: the model's "
                             "exported graphs, on a GPU when its build offers one), tensorflow (the "
                             "reference; needs the [tensorflow] extra; TensorFlow Lite on a CPU), "
                             "tensorflow-graph (TensorFlow's own graph), or auto (default: onnx when the "
                             "model ships its graphs and ONNX Runtime is installed, else tensorflow); "
                             "overrides $KNEEOA_ENGINE")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("predict", help="grade radiographs (files or folders)",
                       description="Grade radiographs. PATH is an image file (PNG, JPEG, BMP, TIFF, "
                                   "DICOM; recognised by content) or a folder, walked for images. Each knee "
                                   "joint found on a film is graded on its own (a bilateral PA film, or two knees "
                                   "side by side, gives two records, the patient's right knee first; so does a "
                                   "standing film of both legs, hip to ankle); a single-joint crop of any shape "
                                   "is graded whole, resized to the network's square input. When the network "
                                   "doubts the knee finder's choice, it chooses between the regions the finder "
                                   "weighed. A "
                                   "calibration sphere beside a knee is reported (calibration_sphere_px), not "
                                   "taken for metal. A region the model cannot grade (lateral view, metal implant, "
                                   "not a knee radiograph) is reported with in_scope false and a scope note (a "
                                   "replaced knee beside a native one keeps its own record, refused); a "
                                   "knee unlike the training images is graded, with the note \"Unusual image "
                                   "for this model; check the grade.\"")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--site-profile", metavar="PROFILE.json",
                   help="grade as calibrated for a site (a profile written by `kneeoa calibrate` for "
                        "this model): its temperature, and its cut points on the expected grade")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help="print one JSON object per graded knee (JSON lines): file, knee (right/left/null), "
                          "region [x, y, w, h], in_scope, scope_note, probabilities, grade, …")
    fmt.add_argument("--csv", metavar="FILE", help="write the results as CSV to FILE ('-' for stdout)")
    p.add_argument("--overlay-dir", metavar="DIR",
                   help="write one annotated PNG per image into DIR (every knee outlined and graded)")
    p.add_argument("--brightness", type=_brightness, default=1.0, metavar="B",
                   help="evidence overlay brightness for --overlay-dir, 0 (off) to 4 (default 1)")
    p.add_argument("--include-patient", action="store_true",
                   help="print DICOM patient name and ID on the annotated PNGs (off by default)")

    i = sub.add_parser("info", help="show the model in use and its origin, the device, versions and the log file")
    i.add_argument("--site-profile", metavar="PROFILE.json",
                   help="also check a site profile against the model and show it")

    d = sub.add_parser(
        "download-weights", help="download a model (sha256-pinned) and make it the model in use",
        description="Download a model with gdown into the user data folder, verify its SHA-256, check "
                    "that it loads, and only then make it the model in use. Without --url/--sha256, "
                    "fetch the source named in the bundled manifest. A download is one network (one "
                    ".keras file), installed as a model of its own even when the bundled model is an "
                    "ensemble. A failed, cancelled or mismatched "
                    "download never replaces the working model; run the command again to resume.")
    d.add_argument("--url", metavar="URL",
                   help="an https URL or a Google Drive file id/link (default: the bundled manifest's)")
    d.add_argument("--sha256", metavar="HEX", help="the file's SHA-256 (required with --url)")
    d.add_argument("--model-version", metavar="VERSION",
                   help="version to record for a model other than the bundled one")
    d.add_argument("--timeout", type=_positive_float, default=30.0, metavar="SECONDS",
                   help="give up on a server silent for this long (default %(default)s)")
    d.add_argument("--retries", type=_non_negative_int, default=3, metavar="N",
                   help="further attempts after a dropped connection, each resuming (default %(default)s)")

    st = sub.add_parser("self-test", help="check that this installation can grade (the same check as KneeOA --self-test)",
                        description="Load the model, grade the synthetic radiograph shipped with the program, "
                                    "compose an overlay and render an export; print one line (exit 0 passed, 1 failed).")
    st.add_argument("image", nargs="?", metavar="IMAGE", help="grade this radiograph instead of the built-in sample")

    sub.add_parser("restore-model", help="use the model bundled with the program again",
                   description="Switch back to the bundled model. Downloaded models stay on disk; "
                               "nothing is overwritten.")

    e = sub.add_parser("evaluate", help="measure accuracy on a folder with 0/ … 4/ subfolders",
                       description="Grade every image in DATA_DIR/0 … 4 and report accuracy, quadratic-"
                                   "weighted kappa, MAE, per-grade precision/recall, the confusion "
                                   "matrix and the OA (KL ≥ 2) AUC.")
    e.add_argument("data_dir", metavar="DATA_DIR")
    e.add_argument("--site-profile", metavar="PROFILE.json",
                   help="measure the model as calibrated for a site (a profile from `kneeoa calibrate`)")
    e.add_argument("--json", action="store_true", help="print the report as one JSON object")
    e.add_argument("--plot", metavar="FILE", default="kneeoa-confusion-matrix.png",
                   help="where to write the confusion-matrix PNG (default: %(default)s)")
    e.add_argument("--html", metavar="FILE", default="kneeoa-site-report.html",
                   help="where to write the self-contained HTML site report: figures with intervals, "
                        "confusion matrix, per-grade recall, reliability diagram, OA ROC and the worst "
                        "disagreements; with --site-profile, before and after side by side (default: "
                        "%(default)s; '' for none)")

    c = sub.add_parser("calibrate", help="fit a site profile on a department's own graded films",
                       description="Grade every film in DATA_DIR/0 … 4 (a department's films, graded by its "
                                   "readers), fit a site profile for the model in use (a temperature and "
                                   "four cut points on the expected grade), judge it by k-fold "
                                   "cross-validation against the model as it is (paired bootstrap "
                                   "intervals), and write it to --out only if it is better by more than "
                                   "chance. Films the scope check refuses, films with more than one knee "
                                   "and unreadable files are left out and counted. Needs at least 50 "
                                   "films, and 5 of each grade.")
    c.add_argument("data_dir", metavar="DATA_DIR")
    c.add_argument("--out", metavar="PROFILE.json", required=True, help="where to write the profile")
    c.add_argument("--name", metavar="SITE", help="the site's name (default: DATA_DIR's folder name)")
    c.add_argument("--folds", type=_positive_int, default=5, help="cross-validation folds (default: %(default)s)")
    c.add_argument("--force", action="store_true", help="write the profile even if it is not better")

    t = sub.add_parser("train", help="train a model on a kneeKL224-shaped folder and write it with its card",
                       description="Train the KL-grade network on DATA/train (images in 0/ … 4/), select "
                                   "the epoch with the best validation kappa on DATA/val, and write the "
                                   "model, manifest.json, figures and MODEL_CARD.md into --out. Resumes "
                                   "from --run-dir's last checkpoint if one exists.")
    defaults = _train_defaults()
    t.add_argument("--data", metavar="DIR", default=defaults.data_dir,
                   help="folder with train/ and val/ (default: %(default)s)")
    t.add_argument("--out", metavar="DIR", default="kneeoa-model",
                   help="where the finished model goes (default: %(default)s; the app's own is weights/)")
    t.add_argument("--run-dir", metavar="DIR", help="checkpoints and logs (default: runs/NAME-VERSION)")
    t.add_argument("--epochs", type=_positive_int, default=defaults.epochs)
    t.add_argument("--batch-size", type=_positive_int, default=defaults.batch_size)
    t.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    t.add_argument("--ordinal-weight", type=float, default=defaults.ordinal_weight,
                   help="weight of the squared-EMD ordinal loss term (0: plain cross-entropy)")
    t.add_argument("--class-weight-power", type=float, default=defaults.class_weight_power,
                   help="class weights = (inverse frequency)^POWER (0: none, default %(default)s)")
    t.add_argument("--seed", type=int, default=defaults.seed)
    t.add_argument("--name", default=defaults.model_name)
    t.add_argument("--version", dest="model_version", default=defaults.model_version)
    t.add_argument("--cache-dir", metavar="DIR", help="preprocessed-image cache (default: the user cache folder)")
    t.add_argument("--limit-per-grade", type=_positive_int, help="use only N images per grade (smoke tests)")
    t.add_argument("--steps-per-epoch", type=_positive_int, help="override the steps per epoch (smoke tests)")
    t.add_argument("--architecture", choices=("lite0", "lite1", "lite2", "cnn"), default=defaults.architecture,
                   help="lite0/lite1/lite2: EfficientNet-Lite0/1/2 from ImageNet weights (lite1 and lite2 "
                        "need the [train-large] extra); cnn: a small network from scratch, for quick runs "
                        "(default: %(default)s)")
    t.add_argument("--freeze-through", type=int, default=defaults.freeze_through, metavar="N",
                   help="lite0/1/2: keep the stem and blocks 0…N at their ImageNet weights "
                        "(-1: train everything; default: %(default)s)")
    t.add_argument("--init-from", metavar="MODEL.keras",
                   help="start from this finished model's weights instead of ImageNet (a second, "
                        "less frozen stage; the architecture must match)")
    t.add_argument("--squared-crops", dest="squared_rate", type=float, default=defaults.squared_rate,
                   metavar="RATE",
                   help="share of training crops cut to a wide or tall band and resized to the square "
                        "input, as the app frames such a crop; above 0 the best epoch is also judged on "
                        "val cut so (default: %(default)s)")
    t.add_argument("--augmentation", choices=("standard", "site"), default=defaults.augmentation,
                   help="standard: model 1.0.0's augmentation; site: the wider shift other hospitals' "
                        "films show (aspect 0.5-2, zoom 0.6-1.6, sharpening, CLAHE, gamma, contrast, "
                        "noise, JPEG, 16-bit), the best epoch also judged on val through the simulated "
                        "sites (default: %(default)s)")
    t.add_argument("--xla", action="store_true",
                   help="compile with XLA (about twice as fast for cnn; much slower for lite0 on CPU)")
    from .serve import add_parser as add_serve_parser

    add_serve_parser(sub)
    return parser


def _train_defaults():
    from ..training.config import TrainConfig

    return TrainConfig()


def _number(text: str, kind: type):
    """``text`` as an int or a float, or argparse's usage error naming what was expected."""
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None


def _positive_float(text: str) -> float:
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _non_negative_int(text: str) -> int:
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _brightness(text: str) -> float:
    value = _number(text, float)
    if not 0.0 <= value <= 4.0:
        raise argparse.ArgumentTypeError("brightness must be between 0 and 4")
    return value
