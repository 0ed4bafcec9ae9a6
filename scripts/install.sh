#!/bin/sh
# Installs a gridgate bundle (`npm run bundle` → gridgate-<version>-linux-x64.tar.gz) on a machine
# without network: checks every file of the bundle against its SHA256SUMS, puts the tree in place,
# then sets the system up (the gridgate user, its directories, /etc/gridgate/sites/, systemd).
# Running it again upgrades; configs in /etc/gridgate are never overwritten.
#
#   install.sh [--root DIR] BUNDLE.tar.gz
#   install.sh [--root DIR] --uninstall   removes the files; keeps /etc/gridgate, /var/lib/gridgate
#                                         and the gridgate user
#
# --root DIR installs below DIR instead of / (an image being built, a test): systemd is then left
# alone. Needs root, tar, gzip, sha256sum, systemd-sysusers and systemd-tmpfiles; no network.
set -eu

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,13s/^# \{0,1\}//p' "$0" >&2; exit "${1:-64}"; }

root=/ bundle= uninstall=
while [ $# -gt 0 ]; do
  case $1 in
    --root) [ $# -ge 2 ] || usage; root=$2; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h | --help) usage 0 ;;
    -*) usage ;;
    *) [ -z "$bundle" ] || usage; bundle=$1; shift ;;
  esac
done
[ -d "$root" ] || die "--root $root is not a directory"
root=$(cd "$root" && pwd)   # absolute: the systemd tools and post-install run from elsewhere
r=${root%/}   # prefix for paths: empty for /
lib="$r/usr/lib/gridgate"
live_systemd() { [ "$root" = / ] && [ -d /run/systemd/system ]; }

if [ -n "$uninstall" ]; then
  [ -z "$bundle" ] || usage
  [ -f "$lib/SHA256SUMS" ] || die "no gridgate installed in $root"
  if live_systemd; then systemctl stop 'gridgate@*.service' || true; fi
  # Every file a bundle installs is in its SHA256SUMS; the ones outside usr/lib/gridgate go one by one.
  sed 's/^[0-9a-f]*  //' "$lib/SHA256SUMS" | grep -v '^usr/lib/gridgate/' | while IFS= read -r file; do
    rm -f "$r/$file"
  done
  rm -f "$r/usr/bin/gridgate"
  rm -rf "$lib" "$r/usr/share/gridgate" "$r/usr/share/doc/gridgate"
  if live_systemd; then systemctl daemon-reload; fi
  say "removed gridgate from $root; kept /etc/gridgate, /var/lib/gridgate and the gridgate user"
  exit 0
fi

[ -n "$bundle" ] || usage
[ -f "$bundle" ] || die "$bundle: no such file"
# Unpacked beside its destination: the checked tree then moves into place by a rename, and /tmp
# (often a small tmpfs) need not hold its 220 MB.
mkdir -p "$r/usr/lib"
tmp=$(mktemp -d "$r/usr/lib/.gridgate-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# 1. Unpack aside and check, before anything on the system changes.
tar -xzf "$bundle" -C "$tmp" --numeric-owner
sums=usr/lib/gridgate/SHA256SUMS
[ -f "$tmp/$sums" ] || die "$bundle is not a gridgate bundle (no $sums)"
(cd "$tmp" && sha256sum --quiet --strict -c "$sums") ||
  die "$bundle is damaged: the files above do not match its SHA256SUMS; nothing was installed"
sed 's/^[0-9a-f]*  //' "$tmp/$sums" >"$tmp/listed"
(cd "$tmp" && find usr -type f ! -path "$sums" | LC_ALL=C sort) >"$tmp/present"
if ! cmp -s "$tmp/listed" "$tmp/present"; then
  LC_ALL=C comm -13 "$tmp/listed" "$tmp/present" >&2
  die "$bundle holds files its SHA256SUMS does not list (above); nothing was installed"
fi
rm "$tmp/listed" "$tmp/present"
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$tmp/usr/lib/gridgate/app/package.json" | head -1)
say "bundle checked: gridgate $version, $(wc -l <"$tmp/$sums") files match SHA256SUMS"

# 2. The runtime and the app replace the previous ones whole (two renames), so no file of an older
#    version stays behind.
rm -rf "$lib.old"
if [ -d "$lib" ]; then mv "$lib" "$lib.old"; fi
mv "$tmp/usr/lib/gridgate" "$lib"
rm -rf "$lib.old"
# The rest (units, sysusers.d and tmpfiles.d files, docs, the example, /usr/bin/gridgate) joins the
# existing /usr; --no-overwrite-dir leaves the modes and times of existing directories alone.
(cd "$tmp" && tar -cf - usr) | tar -C "$root" --no-overwrite-dir --numeric-owner -xf -
say "installed /usr/lib/gridgate, /usr/bin/gridgate, units, sysusers.d and tmpfiles.d files in $root"

# 3. User, directories, /etc/gridgate/sites/ and its example, systemd: the .deb's postinst runs the same.
"$lib/post-install" --root "$root"

cat <<EOF

gridgate $version is installed$( [ "$root" = / ] || printf ' in %s' "$root"). Next, for a site SITE:
  1. write /etc/gridgate/sites/SITE.yaml (start from /etc/gridgate/sites/example.yaml.sample;
     /usr/share/doc/gridgate/README.md explains it), then
     chgrp gridgate /etc/gridgate/sites/SITE.yaml && chmod 0640 /etc/gridgate/sites/SITE.yaml
  2. gridgate check-config /etc/gridgate/sites/SITE.yaml
  3. systemctl enable --now gridgate@SITE
EOF
