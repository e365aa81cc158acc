import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';

/**
 * The racadm subset an iDRAC answers over an SSH exec request, as plain functions over the simulator's
 * state. Texts follow Dell's RACADM CLI guide (`sshpkauth`, `getversion`) where it prints them; the
 * messages the guide does not show (delete, bad index, unknown subcommand) are marked below.
 */

export const USER_INDEXES = 16;
export const SLOTS_PER_USER = 4;

export type ViewFormat = 'banner' | 'line';

export interface FirmwareVersions {
  readonly biosVersion: string;
  readonly idracVersion: string;
  readonly lifecycleControllerVersion: string;
}

export const DEFAULT_FIRMWARE: FirmwareVersions = {
  biosVersion: '2.19.1',
  idracVersion: '7.00.00.173',
  lifecycleControllerVersion: '7.00.00.173',
};

export interface RacadmState {
  /** slots.get(userIndex)[slot - 1]: the key text as uploaded, or null. */
  readonly slots: Map<number, (string | null)[]>;
  readonly firmware: FirmwareVersions;
  format: ViewFormat;
}

export interface RacadmReply {
  readonly stdout: string;
  readonly exitCode: number;
}

export const MESSAGES = {
  /** RACADM guide, sshpkauth: an unusable key. */
  corruptKey: 'ERROR: Key text appears to be corrupt',
  /** CMC/iDRAC output quoted in public write-ups of `sshpkauth -t`/`-f`. */
  uploaded: 'PK SSH Authentication Key file successfully uploaded to the RAC',
  // Not shown in the guide; plausible wording, and the client only looks for `ERROR` and reads back.
  deleted: 'Key deleted successfully',
  invalidUserIndex: 'ERROR: Invalid user index. Valid range is 1 to 16.',
  invalidKeyIndex: 'ERROR: Invalid key index. Valid range is 1 to 4.',
  allOnlyWithViewOrDelete: 'ERROR: The all option is supported only with -v or -d.',
  invalidSyntax: 'ERROR: Invalid syntax. See racadm help sshpkauth.',
  unknownSubcommand: 'ERROR: Invalid subcommand specified.',
  notRacadm: 'ERROR: Only racadm commands are supported.',
} as const;

export function emptySlots(): Map<number, (string | null)[]> {
  const slots = new Map<number, (string | null)[]>();
  for (let user = 1; user <= USER_INDEXES; user++) slots.set(user, Array<string | null>(SLOTS_PER_USER).fill(null));
  return slots;
}

/** Splits a command line like a POSIX shell would for simple quoting: "…", '…' and backslash escapes. */
export function tokenize(command: string): string[] | null {
  const tokens: string[] = [];
  let current = '';
  let inToken = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < command.length && '"\\$`'.includes(command[i + 1])) current += command[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inToken = true;
    } else if (c === '\\' && i + 1 < command.length) {
      current += command[++i];
      inToken = true;
    } else if (/\s/.test(c)) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
    } else {
      current += c;
      inToken = true;
    }
  }
  if (quote) return null;
  if (inToken) tokens.push(current);
  return tokens;
}

/** The blob of an OpenSSH public key text as the iDRAC would accept it, or null when it is corrupt. */
export function publicKeyBlob(keyText: string): Buffer | null {
  const parsed = ssh2.utils.parseKey(keyText.trim());
  const key = Array.isArray(parsed) ? (parsed[0] as ssh2.ParsedKey | undefined) : parsed;
  if (!key || key instanceof Error || key.isPrivateKey()) return null;
  return key.getPublicSSH();
}

export function fingerprintOf(keyText: string): string | null {
  const blob = publicKeyBlob(keyText);
  return blob ? `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}` : null;
}

export function runRacadm(state: RacadmState, command: string): RacadmReply {
  const tokens = tokenize(command);
  if (!tokens || tokens.length === 0) return fail(MESSAGES.invalidSyntax);
  if (tokens[0] !== 'racadm') return fail(MESSAGES.notRacadm);
  switch (tokens[1]) {
    case 'getversion':
      return ok(renderVersion(state.firmware));
    case 'sshpkauth':
      return sshpkauth(state, tokens.slice(2));
    default:
      return fail(MESSAGES.unknownSubcommand);
  }
}

function sshpkauth(state: RacadmState, args: string[]): RacadmReply {
  let view = false;
  let del = false;
  let user: string | null = null;
  let key: string | null = null;
  let text: string | null = null;
  for (let i = 0; i < args.length; i++) {
    switch (args[i]) {
      case '-v':
        view = true;
        break;
      case '-d':
        del = true;
        break;
      case '-i':
        user = args[++i] ?? null;
        break;
      case '-k':
        key = args[++i] ?? null;
        break;
      case '-t':
        text = args[++i] ?? null;
        break;
      default:
        return fail(MESSAGES.invalidSyntax);
    }
  }
  if (user === null || key === null || [view, del, text !== null].filter(Boolean).length !== 1) {
    return fail(MESSAGES.invalidSyntax);
  }
  const userIndex = /^\d+$/.test(user) ? Number(user) : NaN;
  const slots = state.slots.get(userIndex);
  if (!slots) return fail(MESSAGES.invalidUserIndex);
  const slot = key === 'all' ? 'all' : /^[1-4]$/.test(key) ? Number(key) : null;
  if (slot === null) return fail(MESSAGES.invalidKeyIndex);

  if (view) return ok(renderView(state.format, userIndex, slots, slot));
  if (del) {
    if (slot === 'all') slots.fill(null);
    else slots[slot - 1] = null;
    return ok(MESSAGES.deleted);
  }
  if (slot === 'all') return fail(MESSAGES.allOnlyWithViewOrDelete);
  if (!text || publicKeyBlob(text) === null) return fail(MESSAGES.corruptKey);
  // Like the real iDRAC, an occupied slot is overwritten without a check.
  slots[slot - 1] = text.trim();
  return ok(MESSAGES.uploaded);
}

export function renderVersion(firmware: FirmwareVersions): string {
  return [
    `Bios Version                     = ${firmware.biosVersion}`,
    '',
    `iDRAC Version                    = ${firmware.idracVersion}`,
    '',
    `Lifecycle Controller Version     = ${firmware.lifecycleControllerVersion}`,
  ].join('\n');
}

/**
 * Banner (RACADM guide): `***** User ID n *****`, then `Key ID n:` and the key text wrapped over lines —
 * type, base64 in 60-character pieces, comment — with empty slots as `Key ID n:` alone.
 * Line (some firmware): `Key n : <key text>` per slot.
 */
export function renderView(format: ViewFormat, userIndex: number, slots: (string | null)[], slot: number | 'all'): string {
  const shown = slot === 'all' ? slots.map((_, i) => i + 1) : [slot];
  const lines: string[] = [];
  if (format === 'banner') {
    lines.push(`********************* User ID ${userIndex} ******************`);
    for (const n of shown) {
      lines.push(`Key ID ${n}:`);
      const text = slots[n - 1];
      if (text) lines.push(...wrapKeyText(text));
    }
  } else {
    for (const n of shown) {
      const text = slots[n - 1];
      lines.push(text ? `Key ${n} : ${text}` : `Key ${n} :`);
    }
  }
  return lines.join('\n');
}

function wrapKeyText(text: string): string[] {
  const [type, base64 = '', ...comment] = text.split(/\s+/);
  const pieces: string[] = [type];
  for (let i = 0; i < base64.length; i += 60) pieces.push(base64.slice(i, i + 60));
  if (comment.length > 0) pieces.push(comment.join(' '));
  return pieces;
}

function ok(stdout: string): RacadmReply {
  return { stdout: `${stdout}\n`, exitCode: 0 };
}

function fail(message: string): RacadmReply {
  return { stdout: `${message}\n`, exitCode: 1 };
}
