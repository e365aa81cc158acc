#!/usr/bin/env bash
# Network settings of OpsDeck containers, written as one managed block into <LXC_PATH>/<container>/config.
#
#   network.sh bridge  <container> <bridge> [<ipv4/prefix> [<gateway>]]   veth on a host bridge
#   network.sh macvlan <container> <parent> <mode> [<ipv4/prefix> [<gateway>]]
#   network.sh default-macvlan <parent> <mode>    containers created later without a static address use this
#   network.sh clear-default                      back to LXC's own default (veth on the bridge)
#   network.sh apply-default <container>          apply the default, if one is set (LxcHost calls it on create)
#   network.sh show-default                       prints "macvlan <parent> <mode>" or "none"
#
# <mode> is bridge, vepa, private or passthru. Every lxc.net.* line of the container's config is replaced by the
# block (re-running with the same arguments changes nothing). With a static address the container's own DHCP
# client is switched off (busybox: the udhcpc line of /etc/init.d/rcS; sshd template: /run-dhcp), because the
# bridge has no DHCP server; without one it is switched back on. The default is kept in
# <LXC_PATH>/opsdeck-network.default (a file, so lxc-ls does not take it for a container).
# Needs LXC_PATH in the environment. Prints one line: "configured <container> <settings>". Exit codes: common.sh.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

readonly MODE_RE='^(bridge|vepa|private|passthru)$'
readonly BEGIN_MARK='# BEGIN OpsDeck network (managed by OpsDeck; this block is rewritten)'
readonly END_MARK='# END OpsDeck network'
readonly DHCP_OFF_MARK='# OpsDeck: static address, DHCP off: '

require_lxc_path
readonly DEFAULT_FILE="$LXC_PATH/opsdeck-network.default"

container_config() { # container_config <container> -> path of an existing config
  require_match 'container name' "$1" "$CONTAINER_RE"
  local config="$LXC_PATH/$1/config"
  [[ -f $config && ! -L $config ]] || die "$EXIT_NOT_FOUND" "container $1 does not exist"
  printf '%s\n' "$config"
}

ipv4_to_int() { # ipv4_to_int <a.b.c.d>
  local IFS=. a b c d
  read -r a b c d <<<"$1"
  printf '%s\n' $(((a << 24) | (b << 16) | (c << 8) | d))
}

bridge_gateway() { # bridge_gateway <bridge> <ipv4/prefix>: the bridge's own address when it is on the same network
  command -v ip >/dev/null 2>&1 || return 0
  local prefix=${2#*/} address=${2%/*} candidate mask
  mask=$(((0xffffffff << (32 - prefix)) & 0xffffffff))
  while read -r candidate; do
    candidate=${candidate%/*}
    [[ $candidate =~ $IPV4_RE ]] || continue
    if (( ($(ipv4_to_int "$candidate") & mask) == ($(ipv4_to_int "$address") & mask) )); then
      [[ $candidate != "$address" ]] && printf '%s\n' "$candidate"
      return 0
    fi
  done < <(ip -4 -o addr show dev "$1" 2>/dev/null | awk '{print $4}')
}

rootfs_of() { # rootfs_of <config>: the directory rootfs, if the container has one
  local path
  path=$(sed -n 's/^[[:space:]]*lxc\.rootfs\.path[[:space:]]*=[[:space:]]*//p' "$1" | tail -n 1)
  path=${path#dir:}
  [[ $path == /* && -d $path && ! -L $path ]] && printf '%s\n' "$path"
  return 0
}

set_container_dhcp() { # set_container_dhcp <config> on|off
  local rootfs rcs
  rootfs=$(rootfs_of "$1")
  [[ -n $rootfs ]] || return 0
  rcs="$rootfs/etc/init.d/rcS"
  if [[ -f $rcs && ! -L $rcs ]]; then
    if [[ $2 == off ]]; then
      sed -i "s|^\([[:space:]]*/bin/udhcpc.*\)$|${DHCP_OFF_MARK}\1|" "$rcs"
    else
      sed -i "s|^${DHCP_OFF_MARK}||" "$rcs"
    fi
  fi
  # The sshd template's init runs DHCP when /run-dhcp exists.
  if [[ $2 == off && -f $rootfs/run-dhcp && ! -L $rootfs/run-dhcp ]]; then
    rm -f -- "$rootfs/run-dhcp"
    : >"$rootfs/.opsdeck-run-dhcp-off"
  elif [[ $2 == on && -f $rootfs/.opsdeck-run-dhcp-off ]]; then
    rm -f -- "$rootfs/.opsdeck-run-dhcp-off"
    : >"$rootfs/run-dhcp"
  fi
}

write_block() { # write_block <config> <lines...>: replaces every lxc.net.* line and an earlier block
  local config=$1 tmp
  shift
  tmp=$(mktemp "$config.opsdeck.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -f -- '$tmp'" EXIT
  awk -v begin="$BEGIN_MARK" -v end="$END_MARK" '
    $0 == begin { skipping = 1; next }
    skipping && $0 == end { skipping = 0; next }
    skipping { next }
    /^[[:space:]]*lxc\.net\./ { next }
    { print }
  ' "$config" >"$tmp"
  {
    printf '%s\n' "$BEGIN_MARK"
    printf '%s\n' "$@"
    printf '%s\n' "$END_MARK"
  } >>"$tmp"
  chmod --reference="$config" "$tmp" 2>/dev/null || chmod 640 "$tmp"
  mv -f -- "$tmp" "$config"
  trap - EXIT
}

configure() { # configure <container> <type> <link> <mode-or-empty> [<ipv4/prefix> [<gateway>]]
  local container=$1 type=$2 link=$3 mode=$4 address=${5:-} gateway=${6:-} config
  config=$(container_config "$container")
  require_match 'interface name' "$link" "$IFACE_RE"
  [[ -z $mode ]] || require_match 'macvlan mode' "$mode" "$MODE_RE"
  [[ -z $address ]] || require_match 'IPv4 address' "$address" "$CIDR_RE"
  [[ -z $gateway ]] || require_match 'gateway' "$gateway" "$IPV4_RE"
  if [[ -n $address && -z $gateway && $type == veth ]]; then
    gateway=$(bridge_gateway "$link" "$address")
  fi
  local lines=("lxc.net.0.type = $type" "lxc.net.0.link = $link" "lxc.net.0.flags = up")
  [[ -z $mode ]] || lines+=("lxc.net.0.macvlan.mode = $mode")
  [[ -z $address ]] || lines+=("lxc.net.0.ipv4.address = $address")
  [[ -z $gateway ]] || lines+=("lxc.net.0.ipv4.gateway = $gateway")
  write_block "$config" "${lines[@]}"
  if [[ -n $address ]]; then set_container_dhcp "$config" off; else set_container_dhcp "$config" on; fi
  printf 'configured %s type=%s link=%s mode=%s ipv4=%s gateway=%s\n' \
    "$container" "$type" "$link" "${mode:--}" "${address:--}" "${gateway:--}"
}

command=${1:-}
[[ $# -gt 0 ]] && shift
case $command in
  bridge)
    (($# >= 2 && $# <= 4)) || die "$EXIT_INVALID" 'usage: network.sh bridge <container> <bridge> [<ipv4/prefix> [<gateway>]]'
    configure "$1" veth "$2" '' "${3:-}" "${4:-}"
    ;;
  macvlan)
    (($# >= 3 && $# <= 5)) || die "$EXIT_INVALID" 'usage: network.sh macvlan <container> <parent> <mode> [<ipv4/prefix> [<gateway>]]'
    require_match 'macvlan mode' "$3" "$MODE_RE"
    configure "$1" macvlan "$2" "$3" "${4:-}" "${5:-}"
    ;;
  default-macvlan)
    (($# == 2)) || die "$EXIT_INVALID" 'usage: network.sh default-macvlan <parent> <mode>'
    require_match 'interface name' "$1" "$IFACE_RE"
    require_match 'macvlan mode' "$2" "$MODE_RE"
    printf 'macvlan %s %s\n' "$1" "$2" >"$DEFAULT_FILE.tmp"
    mv -f -- "$DEFAULT_FILE.tmp" "$DEFAULT_FILE"
    printf 'configured default type=macvlan link=%s mode=%s\n' "$1" "$2"
    ;;
  clear-default)
    (($# == 0)) || die "$EXIT_INVALID" 'usage: network.sh clear-default'
    rm -f -- "$DEFAULT_FILE"
    printf 'configured default none\n'
    ;;
  show-default | apply-default)
    default=none
    if [[ -f $DEFAULT_FILE ]]; then
      read -r kind parent mode <"$DEFAULT_FILE" || true
      if [[ ${kind:-} == macvlan && ${parent:-} =~ $IFACE_RE && ${mode:-} =~ $MODE_RE ]]; then
        default="macvlan $parent $mode"
      fi
    fi
    if [[ $command == show-default ]]; then
      (($# == 0)) || die "$EXIT_INVALID" 'usage: network.sh show-default'
      printf '%s\n' "$default"
    else
      (($# == 1)) || die "$EXIT_INVALID" 'usage: network.sh apply-default <container>'
      if [[ $default == none ]]; then
        container_config "$1" >/dev/null
        printf 'configured %s unchanged\n' "$1"
      else
        configure "$1" macvlan "$parent" "$mode"
      fi
    fi
    ;;
  *) die "$EXIT_INVALID" 'usage: network.sh bridge|macvlan|default-macvlan|clear-default|apply-default|show-default ...' ;;
esac
