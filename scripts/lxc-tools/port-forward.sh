#!/usr/bin/env bash
# Port forwards from the host to containers: nftables DNAT rules in a table OpsDeck owns (`table ip opsdeck`,
# chains `prerouting` for traffic arriving from outside and `output` for connections the host itself makes to
# one of its own addresses). Each forward is one rule in each chain, both carrying the comment
# "opsdeck:<container>:<rule>", which is how they are found again.
#
#   port-forward.sh add <container> <rule> <tcp|udp> <host_port> <container_address> <container_port>
#   port-forward.sh list [<container>]
#   port-forward.sh remove <container> <rule>
#   port-forward.sh remove-all <container>
#
# add:  prints "added ..." or, when the same forward exists already, "unchanged ..." (exit 0). The rule name
#       taken by a different forward, or the protocol/host port forwarded to anything else: exit 4 (conflict).
# list: one line per forward, tab-separated: container rule protocol host_port container_address container_port
# remove: exit 3 when the container has no such rule. remove-all: prints "removed <count>".
# nft missing: exit 5. Changes are serialized with flock and applied as one nft transaction each.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

readonly TABLE='ip opsdeck'
readonly PROTO_RE='^(tcp|udp)$'

require_tool nft

lock() {
  command -v flock >/dev/null 2>&1 || return 0
  local dir=/run/lock
  [[ -d $dir && -w $dir ]] || dir=${TMPDIR:-/tmp}
  exec 9>>"$dir/opsdeck-port-forward.lock"
  flock -w 20 9 || die 1 'another port-forward change is still running'
}

ensure_table() {
  nft -f - <<'NFT'
table ip opsdeck {
	chain prerouting { type nat hook prerouting priority dstnat; policy accept; }
	chain output { type nat hook output priority -100; policy accept; }
}
NFT
}

# Prints the forwards as "chain handle container rule protocol host_port address port", one per line.
forwards() {
  local listing line chain='' re
  re='^[[:space:]]*(fib daddr type local )?(tcp|udp) dport ([0-9]+) dnat to ([0-9.]+):([0-9]+) comment "opsdeck:([^:"]+):([^"]+)" # handle ([0-9]+)$'
  if ! listing=$(nft -a list table $TABLE 2>/dev/null); then
    return 0 # no table yet: no forwards
  fi
  while IFS= read -r line; do
    if [[ $line =~ ^[[:space:]]*chain[[:space:]]+([a-z]+)[[:space:]] ]]; then
      chain=${BASH_REMATCH[1]}
    elif [[ $line =~ $re ]]; then
      printf '%s %s %s %s %s %s %s %s\n' "$chain" "${BASH_REMATCH[8]}" "${BASH_REMATCH[6]}" "${BASH_REMATCH[7]}" \
        "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}"
    fi
  done <<<"$listing"
}

# Deletes every rule whose "chain handle" pair is on stdin, in one transaction.
delete_handles() {
  local chain handle script=''
  while read -r chain handle; do
    script+="delete rule $TABLE $chain handle $handle"$'\n'
  done
  [[ -z $script ]] || nft -f - <<<"$script"
}

command=${1:-}
[[ $# -gt 0 ]] && shift
case $command in
  add)
    (($# == 6)) || die "$EXIT_INVALID" 'usage: port-forward.sh add <container> <rule> <tcp|udp> <host_port> <container_address> <container_port>'
    container=$1 rule=$2 protocol=$3 host_port=$4 address=$5 port=$6
    require_match 'container name' "$container" "$CONTAINER_RE"
    require_match 'rule name' "$rule" "$RULE_RE"
    require_match 'protocol' "$protocol" "$PROTO_RE"
    require_port 'host port' "$host_port"
    require_match 'container address' "$address" "$IPV4_RE"
    require_port 'container port' "$port"
    lock
    ensure_table
    summary="$container $rule $protocol $host_port $address $port"
    while read -r _chain _handle c r p hp a cp; do
      [[ $_chain == prerouting ]] || continue
      if [[ $c == "$container" && $r == "$rule" ]]; then
        [[ "$p $hp $a $cp" == "$protocol $host_port $address $port" ]] && { printf 'unchanged %s\n' "$summary"; exit 0; }
        die "$EXIT_CONFLICT" "container $container already has a port forward named $rule"
      fi
      if [[ $p == "$protocol" && $hp == "$host_port" ]]; then
        die "$EXIT_CONFLICT" "host port $protocol/$host_port is already forwarded (to $c, rule $r)"
      fi
    done < <(forwards)
    comment="opsdeck:$container:$rule"
    nft -f - <<NFT
add rule $TABLE prerouting $protocol dport $host_port dnat to $address:$port comment "$comment"
add rule $TABLE output fib daddr type local $protocol dport $host_port dnat to $address:$port comment "$comment"
NFT
    printf 'added %s\n' "$summary"
    ;;
  list)
    (($# <= 1)) || die "$EXIT_INVALID" 'usage: port-forward.sh list [<container>]'
    [[ $# -eq 0 ]] || require_match 'container name' "$1" "$CONTAINER_RE"
    while read -r chain _handle c r p hp a cp; do
      [[ $chain == prerouting ]] || continue
      [[ $# -eq 0 || $c == "$1" ]] || continue
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$r" "$p" "$hp" "$a" "$cp"
    done < <(forwards)
    ;;
  remove)
    (($# == 2)) || die "$EXIT_INVALID" 'usage: port-forward.sh remove <container> <rule>'
    require_match 'container name' "$1" "$CONTAINER_RE"
    require_match 'rule name' "$2" "$RULE_RE"
    lock
    handles=$(forwards | awk -v c="$1" -v r="$2" '$3 == c && $4 == r { print $1, $2 }')
    [[ -n $handles ]] || die "$EXIT_NOT_FOUND" "container $1 has no port forward named $2"
    delete_handles <<<"$handles"
    printf 'removed %s %s\n' "$1" "$2"
    ;;
  remove-all)
    (($# == 1)) || die "$EXIT_INVALID" 'usage: port-forward.sh remove-all <container>'
    require_match 'container name' "$1" "$CONTAINER_RE"
    lock
    handles=$(forwards | awk -v c="$1" '$3 == c { print $1, $2 }')
    count=$(forwards | awk -v c="$1" '$1 == "prerouting" && $3 == c' | wc -l)
    [[ -z $handles ]] || delete_handles <<<"$handles"
    printf 'removed %d\n' "$count"
    ;;
  *) die "$EXIT_INVALID" 'usage: port-forward.sh add|list|remove|remove-all ...' ;;
esac
