#!/usr/bin/env bash
# List the system libraries a built bundle still needs, and the Debian packages that hold them:
# the list to keep packaging/linux/depends up to date.
#
#   packaging/linux/check-depends.sh [dist/KneeOA]
set -euo pipefail
BUNDLE=$(cd "${1:-dist/KneeOA}" && pwd)
INTERNAL="$BUNDLE/_internal"
find "$BUNDLE" -type f \( -name '*.so*' -o -name KneeOA -o -name kneeoa \) -print0 |
    xargs -0 -n 20 env LD_LIBRARY_PATH="$INTERNAL:$INTERNAL/PySide6/Qt/lib" ldd 2>/dev/null |
    awk '/=>/ && $3 !~ "^'"$BUNDLE"'" {print $1, $3}' | sort -u |
    while read -r name path; do
        if [ "$path" = "not" ]; then
            echo "$name: NOT FOUND on this system"
        else
            echo "$name: $(dpkg -S "$(readlink -f "$path")" 2>/dev/null | cut -d: -f1 | head -1)"
        fi
    done | sort -t: -k2 -u
echo "newest glibc symbol version: $(find "$BUNDLE" -type f \( -name '*.so*' -o -name KneeOA -o -name kneeoa \) \
    -exec objdump -T {} + 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
