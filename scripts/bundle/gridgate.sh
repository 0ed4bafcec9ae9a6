#!/bin/sh
# Installed as /usr/lib/gridgate/bin/gridgate; /usr/bin/gridgate links here. Finds the bundled Node
# and app from its own resolved location, so the tree works under any prefix (install.sh --root),
# and never picks up another node on PATH. exec: node itself becomes the process systemd starts,
# so signals and sd_notify reach it directly.
#
# node_flags: V8's old generation may grow to three times what the last full GC left live. V8's
# own choice let the gateway's ~20 MB heap grow by 10-15 % with Avro records, so it ran a full
# mark-compact every 0.6 s: marking threads and 3-10 ms pauses in the p99 (bench/README.md, "GC").
# The demo, soak, benchmarks and tests read this line (scripts/substation/node-flags.ts): keep it
# one line.
node_flags="--heap-growing-percent=200"
here=$(dirname "$(readlink -f "$0")")
# shellcheck disable=SC2086 # node_flags is a list of words
exec "$here/../node/bin/node" $node_flags "$here/../app/dist/src/main.js" "$@"
