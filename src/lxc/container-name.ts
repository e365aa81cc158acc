/**
 * The name and value rules of the LXC area, shared by the DTOs (first check, 400 with field details) and by
 * LxcHost (second check right before anything is spawned). Every pattern is anchored and excludes
 * whitespace, slashes, quotes and shell metacharacters, and none may start with '-' (no option injection).
 */

/** A container name: what LXC accepts as a directory name under LXC_PATH, at most 63 characters. */
export const CONTAINER_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/** A local template name (`busybox`, `sshd`, `debian`): the part after `lxc-` in /usr/share/lxc/templates. */
export const TEMPLATE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** An image for the download template, `distro:release` (`debian:bookworm`, `ubuntu:24.04`, `alpine:3.20`). */
export const IMAGE_PATTERN = /^([a-z0-9][a-z0-9_.-]{0,31}):([a-zA-Z0-9][a-zA-Z0-9_.-]{0,31})$/;

/** An architecture as the download template names it (`amd64`, `arm64`, `armhf`, `i386`, `riscv64`). */
export const ARCH_PATTERN = /^[a-z0-9][a-z0-9_]{0,15}$/;

/** A user name inside a container (POSIX portable, as useradd accepts by default). */
export const USER_NAME_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;

/** A network interface name on the host (IFNAMSIZ is 16 including the NUL). */
export const INTERFACE_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/;

/** The name of a port-forward rule, unique per container; it ends up in an nftables comment. */
export const PORT_FORWARD_RULE_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,31}$/;

/** SSH public key types accepted for authorized_keys deployment. */
export const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

export function isContainerName(value: unknown): value is string {
  return typeof value === 'string' && CONTAINER_NAME_PATTERN.test(value);
}

export function isTemplateName(value: unknown): value is string {
  return typeof value === 'string' && TEMPLATE_NAME_PATTERN.test(value);
}

export function isUserName(value: unknown): value is string {
  return typeof value === 'string' && USER_NAME_PATTERN.test(value);
}

export function isInterfaceName(value: unknown): value is string {
  return typeof value === 'string' && INTERFACE_NAME_PATTERN.test(value);
}

export function isPortForwardRuleName(value: unknown): value is string {
  return typeof value === 'string' && PORT_FORWARD_RULE_PATTERN.test(value);
}

export function isArch(value: unknown): value is string {
  return typeof value === 'string' && ARCH_PATTERN.test(value);
}

/** `debian:bookworm` → `{ distro: 'debian', release: 'bookworm' }`; null when it is not an image reference. */
export function parseImage(value: unknown): { distro: string; release: string } | null {
  if (typeof value !== 'string') return null;
  const match = IMAGE_PATTERN.exec(value);
  if (!match) return null;
  return { distro: match[1], release: match[2] };
}

const IPV4_OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${IPV4_OCTET}\\.${IPV4_OCTET}\\.${IPV4_OCTET}\\.${IPV4_OCTET}$`);

/** A dotted-quad IPv4 address without leading zeros (`10.0.3.7`, not `010.0.3.7`). */
export function isIPv4Address(value: unknown): value is string {
  return typeof value === 'string' && IPV4.test(value);
}

/**
 * An interface address in CIDR form (`10.0.3.7/24`): a host address with its prefix length (8–32). The network
 * and broadcast addresses of the prefix are refused, because a container cannot use them.
 */
export function isIPv4Cidr(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const address = value.slice(0, slash);
  const prefixText = value.slice(slash + 1);
  if (!isIPv4Address(address) || !/^(3[0-2]|[12]?[0-9])$/.test(prefixText)) return false;
  const prefix = Number(prefixText);
  if (prefix < 8) return false;
  if (prefix >= 31) return true;
  const host = ipv4ToNumber(address) & (2 ** (32 - prefix) - 1);
  return host !== 0 && host !== 2 ** (32 - prefix) - 1;
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((total, octet) => total * 256 + Number(octet), 0);
}

/** A TCP/UDP port number, 1–65535. */
export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/**
 * An OpenSSH public key line `type base64 [comment]`, without options (`from=`, `command=`), control characters
 * or quotes, so it can be compared and appended verbatim. Returns the normalized line or null.
 */
export function normalizeSshPublicKey(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 16_384) return null;
  const parts = value.trim().split(/[ \t]+/);
  const [type, material, ...comment] = parts;
  if (type === undefined || material === undefined) return null;
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) return null;
  if (!/^[A-Za-z0-9+/]{16,}={0,2}$/.test(material)) return null;
  const commentText = comment.join(' ');
  if (!/^[\x21-\x7e ]{0,256}$/.test(commentText) || /["'`\\$]/.test(commentText)) return null;
  return commentText === '' ? `${type} ${material}` : `${type} ${material} ${commentText}`;
}
