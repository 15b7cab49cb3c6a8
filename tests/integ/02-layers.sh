#!/bin/sh
# The dependency picture of every folder has no loop: within common/,
# proto/, stund/, punchd/, relayd/ and meshctl/, no set of files calls each
# other round a circle (DESIGN.md, "Layering inside a daemon": lower layers
# report upward through callbacks, never by calling an upper file by name).
# scripts/layers.py reads the arrows off the object files with nm.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
cd "$TOP" || exit 1
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 missing"; exit 77; }
command -v nm >/dev/null 2>&1 || { echo "SKIP: nm missing (binutils)"; exit 77; }
[ -d "$BUILD/obj/punchd" ] || { echo "SKIP: $BUILD is not built"; exit 77; }
python3 scripts/layers.py --build "$BUILD"
rc=$?
[ $rc -eq 0 ] && echo "PASS: no loops of files in any folder"
exit $rc
