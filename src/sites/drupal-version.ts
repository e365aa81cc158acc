/**
 * Drupal version strings as sites and updates.drupal.org write them:
 * legacy contrib `8.x-1.2`, `8.x-1.2-beta1`, `7.x-3.x-dev`, `8.x-1.0+15-dev`;
 * semantic `1.2.3`, `10.2.0-rc1`, `2.1.x-dev`, `1.x-dev`; core `10.2.3`, `7.98`.
 */
export const DRUPAL_VERSION_PATTERN =
  /^(?:\d{1,3}\.x-)?\d{1,4}(?:\.(?:\d{1,4}|x)){0,2}(?:-(?:alpha|beta|rc|unstable)\d{1,4})?(?:\+\d{1,6})?(?:-dev)?$/;

export const MAX_DRUPAL_VERSION_LENGTH = 64;

export function isDrupalVersion(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_DRUPAL_VERSION_LENGTH && DRUPAL_VERSION_PATTERN.test(value);
}

/** Machine names: lower-case letters, digits and underscores, starting with a letter (Drupal's own rule). */
export const MACHINE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,127}$/;

export type PreReleaseKind = 'unstable' | 'alpha' | 'beta' | 'rc';

export interface PreRelease {
  readonly kind: PreReleaseKind;
  readonly number: number;
}

/** A version taken apart. Legacy `8.x-1.2` is core 8, major 1, no minor, patch 2; `7.98` is major 7, patch 98. */
export interface DrupalVersion {
  readonly raw: string;
  /** The `8.x-` of legacy contrib versions; null for semantic and core versions. */
  readonly coreCompatibility: number | null;
  readonly major: number;
  /** Null for legacy contrib (`8.x-1.2`) and two-part core (`7.98`) versions, and for `1.x-dev`. */
  readonly minor: number | null;
  /** Null for a branch snapshot (`1.x-dev`, `2.1.x-dev`, `8.x-1.x-dev`). */
  readonly patch: number | null;
  readonly preRelease: PreRelease | null;
  /** `+15` in `8.x-1.0+15-dev`: a snapshot that many commits after a release. */
  readonly commitsAfter: number | null;
  readonly isDev: boolean;
  /** In supported_branches notation: `8.x-1.`, `2.1.`, `10.2.`, `1.` (for `1.x-dev`), `7.` (for `7.98`). */
  readonly branch: string;
}

const STRUCTURE =
  /^(?:(?<core>\d{1,3})\.x-)?(?<numbers>\d{1,4}(?:\.(?:\d{1,4}|x)){0,2})(?:-(?<kind>alpha|beta|rc|unstable)(?<number>\d{1,4}))?(?:\+(?<commits>\d{1,6}))?(?<dev>-dev)?$/;

const PRE_RELEASE_RANK: Readonly<Record<PreReleaseKind, number>> = { unstable: 0, alpha: 1, beta: 2, rc: 3 };
const STABLE_RANK = 4;

/**
 * Parses a version; null when it is not one Drupal writes (e.g. `8.x-1.2.3`, `1.x` without `-dev`, `10`).
 * Every string this accepts also passes {@link isDrupalVersion}.
 */
export function parseDrupalVersion(raw: string): DrupalVersion | null {
  if (!isDrupalVersion(raw)) return null;
  const groups = STRUCTURE.exec(raw)?.groups;
  if (!groups?.numbers) return null;
  const parts = groups.numbers.split('.');
  const isDev = groups.dev !== undefined;
  const isBranchSnapshot = parts[parts.length - 1] === 'x';
  // `x` only ends a branch snapshot, and a branch snapshot carries nothing but `-dev` after it.
  if (parts.slice(0, -1).includes('x')) return null;
  if (isBranchSnapshot && (!isDev || groups.kind !== undefined || groups.commits !== undefined)) return null;
  // `+N` only describes a dev snapshot.
  if (groups.commits !== undefined && !isDev) return null;
  // A dev snapshot is either a branch (`1.x-dev`) or `+N` after a release (`8.x-1.0+15-dev`).
  if (isDev && !isBranchSnapshot && groups.commits === undefined) return null;
  const numbers = parts.map((part) => (part === 'x' ? null : Number(part)));
  const major = numbers[0];
  if (major === null || major === undefined) return null;
  const core = groups.core === undefined ? null : Number(groups.core);

  let minor: number | null;
  let patch: number | null;
  let branch: string;
  if (core !== null) {
    // Legacy contrib: `8.x-<major>.<patch>`.
    if (parts.length !== 2) return null;
    minor = null;
    patch = numbers[1] ?? null;
    branch = `${core}.x-${major}.`;
  } else if (parts.length === 3) {
    minor = numbers[1] ?? null;
    patch = numbers[2] ?? null;
    if (minor === null) return null;
    branch = `${major}.${minor}.`;
  } else if (parts.length === 2) {
    // `7.98` (core major.patch) or a major branch snapshot `1.x-dev`.
    minor = null;
    patch = numbers[1] ?? null;
    branch = `${major}.`;
  } else {
    return null;
  }
  return {
    raw,
    coreCompatibility: core,
    major,
    minor,
    patch,
    preRelease: groups.kind === undefined ? null : { kind: groups.kind as PreReleaseKind, number: Number(groups.number) },
    commitsAfter: groups.commits === undefined ? null : Number(groups.commits),
    isDev,
    branch,
  };
}

export function isDevVersion(version: DrupalVersion | string): boolean {
  const parsed = typeof version === 'string' ? parseDrupalVersion(version) : version;
  return parsed?.isDev ?? false;
}

/** alpha, beta, rc, unstable (dev snapshots are not pre-releases: see {@link isDevVersion}). */
export function isPreRelease(version: DrupalVersion | string): boolean {
  const parsed = typeof version === 'string' ? parseDrupalVersion(version) : version;
  return parsed !== null && parsed.preRelease !== null;
}

/** A tagged release that is neither dev nor a pre-release. */
export function isStable(version: DrupalVersion): boolean {
  return !version.isDev && version.preRelease === null;
}

/**
 * Versions of one family compare with each other: Drupal 7 and older legacy contrib each form their own,
 * everything Drupal 8 and later (`8.x-` contrib, semantic versions, core numbers) forms one, just as
 * drupal.org maps `8.x-1.13` to Composer's `1.13.0`.
 */
export function versionFamily(version: DrupalVersion): string {
  return version.coreCompatibility !== null && version.coreCompatibility < 8 ? `${version.coreCompatibility}.x` : 'modern';
}

export function areComparable(a: DrupalVersion, b: DrupalVersion): boolean {
  return versionFamily(a) === versionFamily(b);
}

/**
 * Sort key: [major, minor, patch, stage, stage number, commits after]. Legacy `8.x-M.P` and core `M.P` sit at
 * `M.P.0`; a branch snapshot sits above every release of its branch; `+N-dev` just above the release it follows.
 */
function sortKey(version: DrupalVersion): number[] {
  const stage = version.preRelease === null ? STABLE_RANK : PRE_RELEASE_RANK[version.preRelease.kind];
  const stageNumber = version.preRelease?.number ?? 0;
  const commits = version.commitsAfter ?? 0;
  if (version.patch === null) {
    // Branch snapshot: `1.x-dev`, `8.x-1.x-dev` (whole major) or `2.1.x-dev` (one minor).
    return version.minor === null || version.coreCompatibility !== null
      ? [version.major, Infinity, Infinity, STABLE_RANK, 0, 0]
      : [version.major, version.minor, Infinity, STABLE_RANK, 0, 0];
  }
  if (version.minor === null) return [version.major, version.patch, 0, stage, stageNumber, commits];
  return [version.major, version.minor, version.patch, stage, stageNumber, commits];
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const left = a[index] ?? 0;
    const right = b[index] ?? 0;
    if (left !== right) return left < right ? -1 : 1;
  }
  return 0;
}

/** Negative, zero or positive as `a` is older than, level with or newer than `b` (same {@link versionFamily} only). */
export function compareDrupalVersions(a: DrupalVersion, b: DrupalVersion): number {
  return compareKeys(sortKey(a), sortKey(b));
}

/** A supported_branches entry (`8.x-1.`, `2.1.`, `10.2.`, `1.`) taken apart. */
export interface DrupalBranch {
  readonly raw: string;
  readonly coreCompatibility: number | null;
  readonly major: number;
  /** Null for a whole-major branch (`8.x-1.`, `1.`). */
  readonly minor: number | null;
}

const BRANCH_STRUCTURE = /^(?:(?<core>\d{1,3})\.x-)?(?<major>\d{1,4})\.(?:(?<minor>\d{1,4})\.)?$/;

export function parseDrupalBranch(raw: string): DrupalBranch | null {
  const groups = BRANCH_STRUCTURE.exec(raw)?.groups;
  if (!groups?.major) return null;
  if (groups.core !== undefined && groups.minor !== undefined) return null;
  return {
    raw,
    coreCompatibility: groups.core === undefined ? null : Number(groups.core),
    major: Number(groups.major),
    minor: groups.minor === undefined ? null : Number(groups.minor),
  };
}

/** Splits `8.x-1.,2.0.` into its branches; blanks are dropped. */
export function splitSupportedBranches(value: string): string[] {
  return value
    .split(',')
    .map((branch) => branch.trim())
    .filter((branch) => branch.length > 0);
}

/** Drupal's own rule: a version belongs to a branch when it starts with it (`8.x-1.3` is in `8.x-1.`, `2.1.0` in `2.`). */
export function isInBranch(version: string, branch: string): boolean {
  return branch.length > 0 && version.startsWith(branch);
}

/** The sort key of the first version a branch can hold, below any of its pre-releases. */
function branchStartKey(branch: DrupalBranch): number[] {
  return [branch.major, branch.minor ?? 0, 0, -1, 0, 0];
}

export function branchFamily(branch: DrupalBranch): string {
  return branch.coreCompatibility !== null && branch.coreCompatibility < 8 ? `${branch.coreCompatibility}.x` : 'modern';
}

/** Negative when every version of the branch is newer than the version, i.e. the branch starts above it. */
export function compareVersionToBranchStart(version: DrupalVersion, branch: DrupalBranch): number {
  return compareKeys(sortKey(version), branchStartKey(branch));
}

/** Orders branches by the first version they can hold. */
export function compareDrupalBranches(a: DrupalBranch, b: DrupalBranch): number {
  return compareKeys(branchStartKey(a), branchStartKey(b));
}
