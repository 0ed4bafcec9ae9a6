#!/bin/sh
# Installed as /usr/lib/gridgate/post-install: the system setup once the files are in place, for
# scripts/install.sh (with --root) and the .deb's postinst alike. Safe to run again: it creates
# what is missing and overwrites nothing.
#   post-install [--root DIR]
set -eu
root=/
[ "${1-}" = --root ] && root=$2
r=${root%/}   # prefix for paths: empty for /

say() { printf 'gridgate post-install: %s\n' "$*"; }

# The gridgate user and group, then the directories our tmpfiles.d file names. Both tools take
# --root and then resolve names from DIR/etc (sysusers wants DIR/etc to exist for its lock file).
mkdir -p "$r/etc"
systemd-sysusers --root="$root" gridgate.conf
systemd-tmpfiles --root="$root" --create gridgate.conf
say "user and group gridgate (sysusers.d/gridgate.conf), directories (tmpfiles.d/gridgate.conf)"

# One config per site; root writes them, the service reads them (they may hold Kafka settings).
# The group by number from DIR/etc/group: chgrp would look the name up on the running system.
gid=$(awk -F: '$1 == "gridgate" { print $3 }' "$r/etc/group")
[ -n "$gid" ] || { say "no group gridgate in $r/etc/group after systemd-sysusers"; exit 1; }
sites="$r/etc/gridgate/sites"
if [ ! -d "$sites" ]; then
  mkdir -p "$sites"
  chgrp "$gid" "$sites"
  chmod 0750 "$sites"
  say "created /etc/gridgate/sites/ (root:gridgate 0750)"
fi
if [ ! -e "$sites/example.yaml.sample" ]; then
  cp "$r/usr/share/gridgate/examples/site.yaml" "$sites/example.yaml.sample"
  chgrp "$gid" "$sites/example.yaml.sample"
  chmod 0640 "$sites/example.yaml.sample"
  say "wrote /etc/gridgate/sites/example.yaml.sample"
fi

# Only the running system's systemd, and only when it runs (not in an image or a container).
if [ "$root" = / ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  say "systemd reloaded its units"
fi
