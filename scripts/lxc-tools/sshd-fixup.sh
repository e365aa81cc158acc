#!/usr/bin/env bash
# Makes an sshd-template container boot on a merged-/usr host (Debian 12+, Ubuntu 22.04+).
#
#   sshd-fixup.sh <container>
#
# LXC's sshd template bind-mounts itself over the *resolved* host init (usr/lib/systemd/systemd), but inside the
# container /sbin/init resolves through the separate /lib bind mount to lib/systemd/systemd, so the host's systemd
# boots instead of sshd and /run/sshd (sshd's privilege-separation directory, a tmpfs the template mounts) is
# hidden under systemd's /run. One more bind mount over lib/systemd/systemd fixes both. Idempotent; does nothing
# when the host's /sbin/init does not live under /usr/lib. Needs LXC_PATH. Prints "fixed" or "unchanged".
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

(($# == 1)) || die "$EXIT_INVALID" 'usage: sshd-fixup.sh <container>'
require_match 'container name' "$1" "$CONTAINER_RE"
require_lxc_path
config="$LXC_PATH/$1/config"
[[ -f $config && ! -L $config ]] || die "$EXIT_NOT_FOUND" "container $1 does not exist"

init=$(readlink -f /sbin/init 2>/dev/null || true)
template=/usr/share/lxc/templates/lxc-sshd
if [[ $init != /usr/lib/* || ! -f $template ]] || ! grep -q "^lxc.mount.entry = $template " "$config"; then
  printf 'unchanged\n'
  exit 0
fi
entry="lxc.mount.entry = $template ${init#/usr/} none ro,bind 0 0"
if grep -qxF -- "$entry" "$config"; then
  printf 'unchanged\n'
else
  printf '%s\n' "$entry" >>"$config"
  printf 'fixed\n'
fi
