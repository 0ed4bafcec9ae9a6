#!/bin/sh
# Installed as /usr/lib/gridgate/bin/gridgate; /usr/bin/gridgate links here. Finds the bundled Node
# and app from its own resolved location, so the tree works under any prefix (install.sh --root),
# and never picks up another node on PATH. exec: node itself becomes the process systemd starts,
# so signals and sd_notify reach it directly.
#
# node_flags: V8's old generation may grow to twice what the last full GC left live (the default
# lets a ~20 MB heap grow by ~10 %, so the gateway ran a full mark-compact every 0.6 s, costing
# 4-5 % of a core in marking threads and up to 10 ms pauses; bench/README.md, "GC"). The demo,
# soak, benchmarks and tests read this line (scripts/substation/node-flags.ts): keep it one line.
node_flags="--heap-growing-percent=100"
here=$(dirname "$(readlink -f "$0")")
# shellcheck disable=SC2086 # node_flags is a list of words
exec "$here/../node/bin/node" $node_flags "$here/../app/dist/src/main.js" "$@"
