#!/usr/bin/env bash
# Build the KneeOA bundle with PyInstaller, then this platform's installers.
#
#   packaging/build.sh [--distpath DIR] [--workpath DIR] [--skip-bundle] [--no-installers]
#                      [--same-env]
#
# Linux:  DIST/KneeOA/ (the bundle), DIST/KneeOA-<version>-linux-<machine>.tar.gz and
#         DIST/kneeoa-desktop_<version>_<arch>.deb (installs into /opt/kneeoa).
# macOS:  DIST/KneeOA.app, DIST/KneeOA-<version>-macos-<machine>.zip and a .dmg.
# Defaults: DIST=dist/ and WORK=build/ under the repository. PYTHON (default: .venv/bin/python
# if present, else python3) must have the project and pyinstaller installed: pip install -e ".[build]".
# KNEEOA_DEB_COMPRESSION=xz|gzip|zstd (default xz: a third smaller than gzip, but about ten
# times slower to make). KNEEOA_MAINTAINER and KNEEOA_HOMEPAGE fill those .deb fields.
# The bundle carries the lean engine (ONNX Runtime) only: it is built from a separate environment,
# WORK/venv-lean, holding the project's default dependencies and PyInstaller, without TensorFlow
# or Keras (whatever PYTHON's own environment holds). --same-env builds from PYTHON's
# environment as it is (build.spec still leaves TensorFlow and Keras out).
# KNEEOA_ORT_PACKAGE=onnxruntime-gpu builds the NVIDIA GPU bundle on Linux (CUDA; the CPU is
# still used where no GPU is): that ONNX Runtime wheel replaces the CPU one in WORK/venv-lean.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST="$ROOT/dist"
WORK="$ROOT/build"
BUILD_BUNDLE=1
INSTALLERS=1
LEAN_ENV=1
while [ $# -gt 0 ]; do
    case "$1" in
        --distpath) DIST=$2; shift 2 ;;
        --workpath) WORK=$2; shift 2 ;;
        --skip-bundle) BUILD_BUNDLE=0; shift ;;
        --no-installers) INSTALLERS=0; shift ;;
        --same-env) LEAN_ENV=0; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$DIST" "$WORK"
DIST=$(cd "$DIST" && pwd)
WORK=$(cd "$WORK" && pwd)

if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
# The version lives in kneeoa_desktop/__init__.py, which imports nothing else.
VERSION=$(cd "$ROOT" && "$PYTHON" -c 'from kneeoa_desktop import __version__; print(__version__)')
MACHINE=$(uname -m)
BUNDLE="$DIST/KneeOA"
log() { printf '[build.sh] %s\n' "$*"; }

if [ "$LEAN_ENV" = 1 ] && [ "$BUILD_BUNDLE" = 1 ]; then
    venv="$WORK/venv-lean"
    if [ ! -x "$venv/bin/python" ]; then
        log "build environment without TensorFlow in $venv"
        "$PYTHON" -m venv "$venv"
    fi
    # The project's default dependencies and the build tools, then the project itself without
    # its dependencies: exactly what `pip install kneeoa-desktop` puts on a clinician's machine.
    "$venv/bin/python" - "$ROOT/pyproject.toml" > "$WORK/requirements-lean.txt" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
ort = __import__("os").environ.get("KNEEOA_ORT_PACKAGE") or "onnxruntime"
deps = [ort if d.startswith("onnxruntime") else d for d in project["dependencies"]]
print("\n".join(deps + project["optional-dependencies"]["build"]))
PY
    "$venv/bin/python" -m pip install --quiet -r "$WORK/requirements-lean.txt"
    "$venv/bin/python" -m pip install --quiet --no-deps -e "$ROOT"
    if "$venv/bin/python" -c 'import tensorflow' 2>/dev/null || "$venv/bin/python" -c 'import keras' 2>/dev/null; then
        echo "build.sh: $venv holds TensorFlow or Keras; remove it and build again" >&2; exit 1
    fi
    log "build environment: $(du -sm "$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" | cut -f1) MB of site-packages"
    PYTHON="$venv/bin/python"
fi

if [ "$BUILD_BUNDLE" = 1 ] && [ "$(uname -s)" = Linux ]; then
    # Qt's X11 plugin links X libraries that PyInstaller copies from this machine: one missing
    # here is missing from the bundle, which then opens no window on a PC that lacks it too.
    xcb=$("$PYTHON" -c 'import PySide6, pathlib; print(pathlib.Path(PySide6.__file__).parent / "Qt/plugins/platforms/libqxcb.so")')
    lacking=$(ldd "$xcb" 2>/dev/null | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')
    if [ -n "$lacking" ]; then
        echo "build.sh: Qt's X11 plugin needs X libraries this machine lacks ($lacking); install them" \
             "(Debian/Ubuntu: apt-get install libxcb-icccm4 libxcb-keysyms1 …, docs/BUILDING.md) and build again" >&2
        exit 1
    fi
fi

if [ "$BUILD_BUNDLE" = 1 ]; then
    log "PyInstaller bundle, KneeOA $VERSION, into $BUNDLE"
    started=$SECONDS
    (cd "$ROOT" && "$PYTHON" -m PyInstaller build.spec --noconfirm --clean \
        --distpath "$DIST" --workpath "$WORK")
    log "bundle built in $((SECONDS - started)) s: $(du -sh "$BUNDLE" | cut -f1)"
fi
[ -d "$BUNDLE" ] || { echo "build.sh: no bundle at $BUNDLE (run without --skip-bundle)" >&2; exit 1; }
[ "$INSTALLERS" = 1 ] || exit 0

make_tarball() {
    local out="$DIST/KneeOA-$VERSION-linux-$MACHINE.tar.gz"
    local gzip_cmd=gzip
    command -v pigz >/dev/null 2>&1 && gzip_cmd=pigz  # parallel gzip, same format
    log "tarball $out"
    tar -C "$DIST" -cf - KneeOA | "$gzip_cmd" -6 > "$out.part"
    mv "$out.part" "$out"
    log "  $(du -h "$out" | cut -f1)"
}

make_deb() {
    command -v dpkg-deb >/dev/null 2>&1 || { log "dpkg-deb not found: no .deb"; return 0; }
    local arch stage out
    arch=$(dpkg --print-architecture)
    stage="$WORK/deb/kneeoa-desktop_${VERSION}_$arch"
    out="$DIST/kneeoa-desktop_${VERSION}_$arch.deb"
    log "Debian package $out"
    rm -rf "$stage"
    mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
        "$stage/usr/share/icons/hicolor/scalable/apps"
    cp -a "$BUNDLE" "$stage/opt/kneeoa"
    ln -s /opt/kneeoa/kneeoa "$stage/usr/bin/kneeoa"
    ln -s /opt/kneeoa/KneeOA "$stage/usr/bin/kneeoa-desktop"
    # One desktop entry for both installs: the source install's, pointed at the bundle.
    sed -e 's|^Exec=.*|Exec=/opt/kneeoa/KneeOA %f|' -e '/^Exec=/a TryExec=/opt/kneeoa/KneeOA' \
        "$ROOT/resources/kneeoa-desktop.desktop" > "$stage/usr/share/applications/kneeoa-desktop.desktop"
    local png size
    for png in "$ROOT"/resources/icons/kneeoa-[0-9]*.png; do
        size=$(basename "$png" .png); size=${size#kneeoa-}
        mkdir -p "$stage/usr/share/icons/hicolor/${size}x$size/apps"
        cp "$png" "$stage/usr/share/icons/hicolor/${size}x$size/apps/kneeoa-desktop.png"
    done
    cp "$ROOT/resources/icons/kneeoa.svg" "$stage/usr/share/icons/hicolor/scalable/apps/kneeoa-desktop.svg"
    mkdir -p "$stage/usr/share/doc/kneeoa-desktop"
    cp "$ROOT/LICENSE" "$stage/usr/share/doc/kneeoa-desktop/copyright"

    local installed_size depends
    installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
    depends=$(grep -v '^#' "$ROOT/packaging/linux/depends" | tr '\n' ' ' | sed -e 's/ *$//' -e 's/ /, /g')
    # The bundle runs on the glibc it was built against or newer: ask for the newest symbol version.
    local glibc
    glibc=$(find "$BUNDLE" -type f \( -name '*.so*' -o -name KneeOA -o -name kneeoa \) \
        -exec objdump -T {} + 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1 || true)
    depends="libc6${glibc:+ (>= $glibc)}, $depends"
    sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$arch|" -e "s|@INSTALLED_SIZE@|$installed_size|" \
        -e "s|@DEPENDS@|$depends|" \
        -e "s|@MAINTAINER@|${KNEEOA_MAINTAINER:-The KneeOA Desktop developers <kneeoa-desktop@example.org>}|" \
        -e "s|@HOMEPAGE@|${KNEEOA_HOMEPAGE:-}|" -e '/^Homepage: *$/d' \
        "$ROOT/packaging/linux/control.in" > "$stage/DEBIAN/control"
    install -m 0755 "$ROOT/packaging/linux/postinst" "$ROOT/packaging/linux/postrm" "$stage/DEBIAN/"
    # Files a user may read, folders and programs they may enter and run; nothing writable.
    chmod -R u+rwX,go+rX,go-w "$stage"
    dpkg-deb --root-owner-group -Z"${KNEEOA_DEB_COMPRESSION:-xz}" --build "$stage" "$out.part" >/dev/null
    mv "$out.part" "$out"
    log "  $(du -h "$out" | cut -f1)"
}

make_macos() {
    local app="$DIST/KneeOA.app" zip="$DIST/KneeOA-$VERSION-macos-$MACHINE.zip"
    local dmg="$DIST/KneeOA-$VERSION-macos-$MACHINE.dmg"
    [ -d "$app" ] || { echo "build.sh: $app missing (the spec's BUNDLE step)" >&2; exit 1; }
    log "zip $zip"
    rm -f "$zip" "$dmg"
    ditto -c -k --sequesterRsrc --keepParent "$app" "$zip"  # keeps symlinks and bundle metadata
    if command -v hdiutil >/dev/null 2>&1; then
        log "disk image $dmg"
        local src="$WORK/dmg"
        rm -rf "$src" && mkdir -p "$src"
        cp -R "$app" "$src/"
        ln -s /Applications "$src/Applications"  # drag-to-install
        hdiutil create -volname "KneeOA $VERSION" -srcfolder "$src" -ov -format UDZO "$dmg" >/dev/null
    fi
}

case "$(uname -s)" in
    Linux) make_tarball; make_deb ;;
    Darwin) make_macos ;;
    *) log "no installers for $(uname -s) here; on Windows use packaging/build.ps1" ;;
esac
log "done: $(ls -1 "$DIST" | tr '\n' ' ')"
