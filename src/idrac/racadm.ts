import { describeKeyBlob, parsePublicKey, sshFingerprint, type ParsedPublicKey } from './ssh-key-material.js';

/**
 * The racadm subset OpsDeck speaks to an iDRAC over SSH: commands are built here (validated, never from
 * unchecked text), outputs parsed here, and deploy/revoke/test are written against the small
 * `RacadmSession` interface so they run the same over the SSH adapter or a fake.
 *
 * View output comes in two shapes, both parsed:
 * - banner (Dell's RACADM guide): `***** User ID 2 *****`, then per slot `Key ID n:` and the key text,
 *   possibly wrapped over several lines (type, base64 in pieces, comment); an empty slot is `Key ID n:` alone;
 * - one line per slot, as some firmware prints it: `Key 1 : ssh-rsa AAAA… comment` (`Key 2 :` when empty).
 * CMC-style `Key 1=UNDEFINED` lines are read as empty slots.
 */

export const MIN_USER_INDEX = 1;
export const MAX_USER_INDEX = 16;
export const KEY_SLOTS = [1, 2, 3, 4] as const;
export type KeySlot = (typeof KEY_SLOTS)[number];

export type RacadmFailureReason = 'no_free_slot' | 'command_failed';

export class RacadmError extends Error {
  override readonly name = 'RacadmError';
  constructor(
    readonly reason: RacadmFailureReason,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown before anything is sent: a bad user index, slot or key text. */
export class RacadmArgumentError extends Error {
  override readonly name = 'RacadmArgumentError';
}

export interface RacadmCommandResult {
  readonly stdout: string;
  readonly stderr: string;
  /** null when the server closed the channel without an exit status (some iDRAC firmware does). */
  readonly exitCode: number | null;
}

/** What the racadm layer needs from a connection: one exec per command. */
export interface RacadmSession {
  exec(command: string): Promise<RacadmCommandResult>;
}

// ---------------------------------------------------------------------------------------------- commands

export function assertUserIndex(userIndex: number): void {
  if (!Number.isInteger(userIndex) || userIndex < MIN_USER_INDEX || userIndex > MAX_USER_INDEX) {
    throw new RacadmArgumentError(`iDRAC user index must be an integer from ${MIN_USER_INDEX} to ${MAX_USER_INDEX}`);
  }
}

export function assertSlot(slot: number): asserts slot is KeySlot {
  if (!(KEY_SLOTS as readonly number[]).includes(slot)) {
    throw new RacadmArgumentError(`key slot must be one of ${KEY_SLOTS.join(', ')}`);
  }
}

/** Key text goes inside double quotes on the iDRAC's command line: nothing that could leave them. */
export function assertKeyText(keyText: string): void {
  if (typeof keyText !== 'string' || keyText.length === 0 || keyText.length > 8192) {
    throw new RacadmArgumentError('key text must be 1 to 8192 characters');
  }
  if (!/^[\x20-\x7e]+$/.test(keyText) || /["'`$\\]/.test(keyText)) {
    throw new RacadmArgumentError('key text must be printable ASCII on one line without quotes, $, ` or \\');
  }
}

export function getVersionCommand(): string {
  return 'racadm getversion';
}

export function viewKeysCommand(userIndex: number, slot: KeySlot | 'all' = 'all'): string {
  assertUserIndex(userIndex);
  if (slot !== 'all') assertSlot(slot);
  return `racadm sshpkauth -v -i ${userIndex} -k ${slot}`;
}

export function addKeyCommand(userIndex: number, slot: number, keyText: string): string {
  assertUserIndex(userIndex);
  assertSlot(slot);
  assertKeyText(keyText);
  return `racadm sshpkauth -i ${userIndex} -k ${slot} -t "${keyText}"`;
}

export function deleteKeyCommand(userIndex: number, slot: KeySlot | 'all'): string {
  assertUserIndex(userIndex);
  if (slot !== 'all') assertSlot(slot);
  return `racadm sshpkauth -i ${userIndex} -d -k ${slot}`;
}

// ----------------------------------------------------------------------------------------------- parsing

/** The first `ERROR…` line of an output (racadm's way of failing), or null. */
export function findRacadmError(output: string): string | null {
  const line = output.split(/\r?\n/).find((l) => /^\s*ERROR\b/i.test(l));
  return line ? line.trim() : null;
}

/** Throws command_failed when the output carries an ERROR line, or on a non-zero exit without output. */
export function assertRacadmSucceeded(result: RacadmCommandResult, what: string): void {
  const error = findRacadmError(result.stdout) ?? findRacadmError(result.stderr);
  if (error) throw new RacadmError('command_failed', `${what}: ${error}`);
  if (result.exitCode !== null && result.exitCode !== 0) {
    const detail = (result.stderr.trim() || result.stdout.trim()).split(/\r?\n/)[0]?.slice(0, 200) ?? '';
    throw new RacadmError('command_failed', `${what}: exit status ${result.exitCode}${detail ? `: ${detail}` : ''}`);
  }
}

export interface SlotKey {
  readonly wireType: string;
  readonly blob: Buffer;
  readonly fingerprint: string;
  readonly comment: string | null;
}

export interface KeySlotView {
  readonly slot: number;
  /** null for an empty slot. */
  readonly key: SlotKey | null;
  /** The slot's text as printed (joined lines), for diagnostics; '' when empty. */
  readonly text: string;
  /** Text the parser could not read as a key (a slot holding something odd is not free). */
  readonly unparsable: boolean;
}

export interface KeysView {
  readonly format: 'banner' | 'line' | 'unknown';
  /** The user index from the banner, when printed. */
  readonly userIndex: number | null;
  readonly slots: readonly KeySlotView[];
}

const BANNER = /^\s*\*+\s*User ID\s+(\d+)\s*\*+\s*$/i;
const SLOT_HEADER = /^\s*Key(\s+ID)?\s+(\d+)\s*[:=]\s*(.*)$/i;

/** Parses `racadm sshpkauth -v` output in either format; throws command_failed on an ERROR line. */
export function parseKeysView(output: string): KeysView {
  const error = findRacadmError(output);
  if (error) throw new RacadmError('command_failed', error);
  let userIndex: number | null = null;
  let format: KeysView['format'] = 'unknown';
  const blocks: { slot: number; lines: string[] }[] = [];
  for (const rawLine of output.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line.length === 0) continue;
    const banner = BANNER.exec(line);
    if (banner) {
      userIndex = Number(banner[1]);
      format = 'banner';
      continue;
    }
    const header = SLOT_HEADER.exec(line);
    if (header) {
      if (format === 'unknown') format = header[1] ? 'banner' : 'line';
      const rest = header[3].trim();
      blocks.push({ slot: Number(header[2]), lines: rest && !/^UNDEFINED$/i.test(rest) ? [rest] : [] });
      continue;
    }
    // Continuation of a wrapped key; text before the first header (a prompt echo, a notice) is ignored.
    blocks.at(-1)?.lines.push(line);
  }
  const slots = blocks.map(({ slot, lines }): KeySlotView => {
    const text = lines.join(' ');
    if (lines.length === 0) return { slot, key: null, text: '', unparsable: false };
    const key = parseWrappedKey(lines);
    return { slot, key, text, unparsable: key === null };
  });
  return { format, userIndex, slots };
}

/**
 * Reads key text that may be wrapped anywhere: the type, then base64 pieces appended until they decode to
 * a complete key blob of that type, then the comment. Works whether pieces are separated by newlines or
 * spaces and whether the comment is on its own line.
 */
export function parseWrappedKey(lines: readonly string[]): SlotKey | null {
  const tokens = lines.flatMap((l) => l.split(/\s+/)).filter((t) => t.length > 0);
  if (tokens.length < 2) return null;
  const wireType = tokens[0];
  let base64 = '';
  for (let i = 1; i < tokens.length; i++) {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(tokens[i])) return null;
    base64 += tokens[i];
    if (base64.length % 4 !== 0 && !base64.endsWith('=')) continue;
    const blob = Buffer.from(base64, 'base64');
    const info = describeKeyBlob(blob);
    if (info && info.wireType === wireType) {
      const comment = tokens.slice(i + 1).join(' ');
      return { wireType, blob, fingerprint: sshFingerprint(blob), comment: comment || null };
    }
    if (base64.includes('=')) return null;
  }
  return null;
}

export interface RacadmVersion {
  readonly idracVersion: string | null;
  readonly biosVersion: string | null;
  readonly lifecycleControllerVersion: string | null;
  /** Every `Name = value` line, by name as printed. */
  readonly fields: Readonly<Record<string, string>>;
}

/** Parses `racadm getversion` (`Bios Version = 2.0.18`, `iDRAC Version = 2.00.00.00`, ...). */
export function parseVersion(output: string): RacadmVersion {
  const error = findRacadmError(output);
  if (error) throw new RacadmError('command_failed', error);
  const fields: Record<string, string> = {};
  for (const line of output.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z][\w ()/.-]*?)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) fields[match[1]] = match[2];
  }
  const find = (pattern: RegExp): string | null => {
    const name = Object.keys(fields).find((k) => pattern.test(k));
    return name === undefined ? null : fields[name];
  };
  const version: RacadmVersion = {
    idracVersion: find(/^idrac\s*version$/i),
    biosVersion: find(/^bios\s*version$/i),
    lifecycleControllerVersion: find(/^lifecycle\s*controller\s*version$/i),
    fields,
  };
  if (Object.keys(fields).length === 0) {
    throw new RacadmError('command_failed', 'racadm getversion printed no version fields');
  }
  return version;
}

// ------------------------------------------------------------------------------------ per-server actions

export type DeployOutcome = 'succeeded' | 'skipped';

export interface DeployKeyResult {
  readonly outcome: DeployOutcome;
  readonly slot: number;
  readonly fingerprint: string;
}

export interface ChangeOptions {
  /**
   * Awaited after the slots are read and before anything is written. The deployment stores a host key pinned
   * on first contact there, so the store overlaps the first command instead of delaying it.
   */
  readonly beforeChange?: () => Promise<unknown>;
}

export interface DeployKeyOptions extends ChangeOptions {
  /** With an explicit slot that holds another key: replace it (default false: no_free_slot). */
  readonly overwrite?: boolean;
}

export interface RevokeKeyResult {
  readonly outcome: 'succeeded' | 'skipped';
  /** The slots the key was removed from (empty when it was not there). */
  readonly slots: readonly number[];
  readonly fingerprint: string;
}

/** Key text as sent to the iDRAC: the canonical `type base64`, plus a comment when it is safe to quote. */
function keyTextFor(key: ParsedPublicKey): string {
  const comment = key.comment && /^[\x20-\x7e]+$/.test(key.comment) && !/["'`$\\]/.test(key.comment) ? key.comment : '';
  return comment ? `${key.canonical} ${comment}` : key.canonical;
}

function slotsHolding(view: KeysView, key: ParsedPublicKey): number[] {
  return view.slots.filter((s) => s.key !== null && s.key.blob.equals(key.blob)).map((s) => s.slot);
}

export async function readKeys(session: RacadmSession, userIndex: number): Promise<KeysView> {
  const result = await session.exec(viewKeysCommand(userIndex, 'all'));
  assertRacadmSucceeded(result, 'sshpkauth view');
  return parseKeysView(result.stdout);
}

function freeSlot(view: KeysView): number | null {
  for (const slot of KEY_SLOTS) {
    const seen = view.slots.find((s) => s.slot === slot);
    // A slot missing from the listing is taken as free; an unparsable one is not.
    if (!seen || (seen.key === null && !seen.unparsable)) return slot;
  }
  return null;
}

/**
 * Deploys `publicKey` to `userIndex`: reads the slots, skips when the key material is already there,
 * otherwise writes to `slot` (or the first free slot for 'auto') and reads back to verify.
 */
export async function deployKey(
  session: RacadmSession,
  userIndex: number,
  publicKey: string | ParsedPublicKey,
  slot: number | 'auto',
  options: DeployKeyOptions = {},
): Promise<DeployKeyResult> {
  assertUserIndex(userIndex);
  if (slot !== 'auto') assertSlot(slot);
  const key = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
  const keyText = keyTextFor(key);
  assertKeyText(keyText);

  const before = await readKeys(session, userIndex);
  const present = slotsHolding(before, key);
  if (present.length > 0) return { outcome: 'skipped', slot: present[0], fingerprint: key.fingerprint };

  let target: number;
  if (slot === 'auto') {
    const free = freeSlot(before);
    if (free === null) {
      throw new RacadmError('no_free_slot', `all ${KEY_SLOTS.length} key slots of user ${userIndex} are in use`);
    }
    target = free;
  } else {
    const current = before.slots.find((s) => s.slot === slot);
    if (current && (current.key !== null || current.unparsable) && !options.overwrite) {
      throw new RacadmError('no_free_slot', `key slot ${slot} of user ${userIndex} holds another key`);
    }
    target = slot;
  }

  await options.beforeChange?.();
  const upload = await session.exec(addKeyCommand(userIndex, target, keyText));
  assertRacadmSucceeded(upload, 'sshpkauth upload');

  const after = await readKeys(session, userIndex);
  if (!slotsHolding(after, key).includes(target)) {
    throw new RacadmError('command_failed', `key not found in slot ${target} of user ${userIndex} after upload`);
  }
  return { outcome: 'succeeded', slot: target, fingerprint: key.fingerprint };
}

/** Removes the key from every slot of `userIndex` that holds it, then reads back to verify. */
export async function revokeKey(
  session: RacadmSession,
  userIndex: number,
  publicKey: string | ParsedPublicKey,
  options: ChangeOptions = {},
): Promise<RevokeKeyResult> {
  assertUserIndex(userIndex);
  const key = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
  const before = await readKeys(session, userIndex);
  const slots = slotsHolding(before, key);
  if (slots.length === 0) return { outcome: 'skipped', slots: [], fingerprint: key.fingerprint };
  await options.beforeChange?.();
  for (const slot of slots) {
    assertSlot(slot);
    const result = await session.exec(deleteKeyCommand(userIndex, slot));
    assertRacadmSucceeded(result, 'sshpkauth delete');
  }
  const after = await readKeys(session, userIndex);
  const left = slotsHolding(after, key);
  if (left.length > 0) {
    throw new RacadmError('command_failed', `key still in slot ${left.join(', ')} of user ${userIndex} after delete`);
  }
  return { outcome: 'succeeded', slots, fingerprint: key.fingerprint };
}

/** Runs `racadm getversion`: proves the login works and racadm answers. */
export async function testConnection(session: RacadmSession): Promise<RacadmVersion> {
  const result = await session.exec(getVersionCommand());
  assertRacadmSucceeded(result, 'getversion');
  return parseVersion(result.stdout);
}

/** The per-server object the deployment service uses: one session, one user index. */
export class RacadmClient {
  constructor(
    private readonly session: RacadmSession,
    readonly userIndex: number,
  ) {
    assertUserIndex(userIndex);
  }

  readKeys(): Promise<KeysView> {
    return readKeys(this.session, this.userIndex);
  }

  deployKey(publicKey: string | ParsedPublicKey, slot: number | 'auto' = 'auto', options?: DeployKeyOptions) {
    return deployKey(this.session, this.userIndex, publicKey, slot, options);
  }

  revokeKey(publicKey: string | ParsedPublicKey, options?: ChangeOptions): Promise<RevokeKeyResult> {
    return revokeKey(this.session, this.userIndex, publicKey, options);
  }

  testConnection(): Promise<RacadmVersion> {
    return testConnection(this.session);
  }
}
