#!/bin/sh
# Installed as /usr/lib/gridgate/bin/gridgate; /usr/bin/gridgate links here. Finds the bundled Node
# and app from its own resolved location, so the tree works under any prefix (install.sh --root),
# and never picks up another node on PATH. exec: node itself becomes the process systemd starts,
# so signals and sd_notify reach it directly.
here=$(dirname "$(readlink -f "$0")")
exec "$here/../node/bin/node" "$here/../app/dist/src/main.js" "$@"
