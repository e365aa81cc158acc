# Shared by the OpsDeck lxc-tools scripts (sourced, not run). Every argument is checked again here even though
# LxcHost checked it, so the scripts are safe to run by hand too.
#
# Exit codes (LxcHost maps them to HTTP statuses):
#   0 success   2 invalid argument (400)   3 not found (404)   4 conflict (409)   5 required tool missing (503)
#   anything else: failure, with a one-line reason on stderr (502)

readonly EXIT_INVALID=2 EXIT_NOT_FOUND=3 EXIT_CONFLICT=4 EXIT_TOOL_MISSING=5

die() { # die <exit-code> <message>
  printf 'opsdeck: %s\n' "$2" >&2
  exit "$1"
}

require_match() { # require_match <what> <value> <extended-regex>
  [[ $2 =~ $3 ]] || die "$EXIT_INVALID" "invalid $1"
}

readonly CONTAINER_RE='^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$'
readonly IFACE_RE='^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$'
readonly RULE_RE='^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,31}$'
readonly USER_RE='^[a-z_][a-z0-9_-]{0,31}$'
readonly OCTET_RE='(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])'
readonly IPV4_RE="^${OCTET_RE}\.${OCTET_RE}\.${OCTET_RE}\.${OCTET_RE}$"
readonly CIDR_RE="^${OCTET_RE}\.${OCTET_RE}\.${OCTET_RE}\.${OCTET_RE}/(3[0-2]|[12]?[0-9])$"
readonly PORT_RE='^([1-9][0-9]{0,4})$'

require_port() { # require_port <what> <value>
  [[ $2 =~ $PORT_RE ]] && (($2 <= 65535)) || die "$EXIT_INVALID" "invalid $1"
}

require_tool() { # require_tool <command>
  command -v "$1" >/dev/null 2>&1 || die "$EXIT_TOOL_MISSING" "$1 is not installed"
}

require_lxc_path() {
  [[ -n ${LXC_PATH:-} && $LXC_PATH == /* && -d $LXC_PATH ]] || die "$EXIT_INVALID" "LXC_PATH must name an existing directory"
}
