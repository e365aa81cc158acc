#!/usr/bin/env bash
# Appends SSH public keys to ~<user>/.ssh/authorized_keys inside a running container, through lxc-attach.
#
#   authorized-keys.sh <container> <user>     public keys on stdin, one per line (never on the command line)
#
# Keys already present (same type and key material, whatever the comment) are skipped. ~/.ssh is made mode 700
# and authorized_keys mode 600, both owned by the user; a symlink in their place is refused. Prints one line:
# "added=<n> skipped=<m>". Needs LXC_PATH. Exit codes (common.sh): 2 invalid argument or key, 3 no such
# container or user, 4 container not running, 5 lxc-attach missing.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

readonly KEY_RE='^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]{16,}={0,2}( [!#%&()*+,./0-9:;<=>?@A-Z^_a-z{|}~ -]{0,256})?$'
readonly MAX_KEYS=100

(($# == 2)) || die "$EXIT_INVALID" 'usage: authorized-keys.sh <container> <user> < keys'
container=$1 user=$2
require_match 'container name' "$container" "$CONTAINER_RE"
require_match 'user name' "$user" "$USER_RE"
require_lxc_path
require_tool lxc-attach
require_tool lxc-info
[[ -f $LXC_PATH/$container/config ]] || die "$EXIT_NOT_FOUND" "container $container does not exist"

keys=''
count=0
while IFS= read -r key || [[ -n $key ]]; do
  [[ -n $key ]] || continue
  [[ $key =~ $KEY_RE ]] || die "$EXIT_INVALID" "public key $((count + 1)) is not an OpenSSH public key line"
  count=$((count + 1))
  ((count <= MAX_KEYS)) || die "$EXIT_INVALID" "at most $MAX_KEYS keys at once"
  keys+="$key"$'\n'
done
((count > 0)) || die "$EXIT_INVALID" 'no public keys on stdin'

state=$(lxc-info -P "$LXC_PATH" -n "$container" -s -H 2>/dev/null || true)
[[ $state == RUNNING ]] || die "$EXIT_CONFLICT" "container $container is not running"

# Runs inside the container with its /bin/sh (busybox ash or dash): POSIX only. The user name is the first
# positional parameter and the keys arrive on stdin; neither is ever part of the script text.
# Builtins and coreutils only: the sshd template bind-mounts the host's /usr but not /etc/alternatives, so awk
# (an alternatives link on Debian) does not resolve there.
# OPSDECK_ROOT is empty in a real container (lxc-attach --clear-env); the fake tool set points it at a directory.
# shellcheck disable=SC2016
readonly INNER='set -eu
user=$1
root=${OPSDECK_ROOT:-}
case $user in ""|-*|*[!a-z0-9_-]*) echo "opsdeck: invalid user name" >&2; exit 2 ;; esac
entry=
while IFS= read -r line || [ -n "$line" ]; do
  case $line in "$user":*) entry=$line; break ;; esac
done <"$root/etc/passwd"
[ -n "$entry" ] || { echo "opsdeck: no user $user in the container" >&2; exit 3; }
uid=$(printf "%s\n" "$entry" | cut -d: -f3)
gid=$(printf "%s\n" "$entry" | cut -d: -f4)
home=$(printf "%s\n" "$entry" | cut -d: -f6)
case $home in /*) ;; *) echo "opsdeck: user $user has no usable home directory" >&2; exit 3 ;; esac
dir=$root${home%/}/.ssh
file=$dir/authorized_keys
if [ -L "$dir" ] || [ -L "$file" ]; then echo "opsdeck: refusing a symlinked ~/.ssh or authorized_keys" >&2; exit 4; fi
umask 077
mkdir -p "$dir"
[ -f "$file" ] || : >"$file"
chmod 700 "$dir"
chmod 600 "$file"
chown "$uid:$gid" "$dir" "$file"
added=0
skipped=0
while IFS= read -r key || [ -n "$key" ]; do
  [ -n "$key" ] || continue
  material=$(printf "%s\n" "$key" | cut -d" " -f1-2)
  found=0
  while read -r type data rest || [ -n "$type" ]; do
    [ "$type $data" != "$material" ] || found=1
  done <"$file"
  if [ "$found" = 1 ]; then
    skipped=$((skipped + 1))
  else
    [ ! -s "$file" ] || [ -z "$(tail -c 1 "$file")" ] || printf "\n" >>"$file"
    printf "%s\n" "$key" >>"$file"
    added=$((added + 1))
  fi
done
echo "added=$added skipped=$skipped"'

printf '%s' "$keys" | lxc-attach -P "$LXC_PATH" -n "$container" --clear-env \
  --set-var PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  -- /bin/sh -c "$INNER" opsdeck-authorized-keys "$user"
