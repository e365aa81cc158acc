import {
  areComparable,
  branchFamily,
  compareDrupalBranches,
  compareDrupalVersions,
  compareVersionToBranchStart,
  isInBranch,
  isStable,
  parseDrupalBranch,
  parseDrupalVersion,
  versionFamily,
  type DrupalBranch,
  type DrupalVersion,
} from '../drupal-version.js';
import { ReleaseType, type ProjectStatus, type ReleaseStatus } from './release-history.parser.js';

export const MODULE_STATUSES = ['current', 'update_available', 'security_update', 'unsupported', 'revoked', 'unknown'] as const;
export type ModuleStatus = (typeof MODULE_STATUSES)[number];

export interface EvaluatedRelease {
  readonly version: string;
  readonly status: ReleaseStatus;
  readonly releaseTypes: readonly string[];
}

/** What the evaluator needs of a project's release history. */
export interface ProjectHistory {
  readonly name: string;
  readonly projectStatus: ProjectStatus;
  readonly supportedBranches: readonly string[];
  readonly releases: readonly EvaluatedRelease[];
}

export interface ModuleStatusVerdict {
  readonly status: ModuleStatus;
  /** The version to run: the update to make, or the installed version when there is none. */
  readonly recommendedVersion: string | null;
  /** One sentence for people (at most 300 characters, the column's width). */
  readonly reason: string;
}

/** Drupal core's majors are migrations, not updates: core never moves to another major. */
const CORE_PROJECT = 'drupal';

interface PlacedRelease {
  readonly release: EvaluatedRelease;
  readonly version: DrupalVersion;
}

/**
 * The status of one installed version against its project's release history. The rules, in order of
 * precedence (docs/release-history.md has them with examples):
 *
 * 1. unknown: the installed version is not a Drupal version.
 * 2. revoked: the project is revoked or unpublished.
 * 3. unknown (unsupported when the project is): the version is not in the history and cannot be placed
 *    (another core generation, or newer than every release and in no branch the history knows).
 * 4. security_update: a newer published non-dev release in the installed branch (or, when that branch is
 *    unsupported, in the supported branch to move to) is a security release; or the installed release is
 *    marked Insecure, or the project is insecure, and a newer usable release exists.
 * 5. revoked: the installed release is unpublished or revoked.
 * 6. unsupported: the project is unsupported or insecure, the installed release is marked Insecure (with
 *    nothing newer) or Unsupported, or the installed branch is not supported.
 * 7. update_available: a newer recommended release exists in the target major's supported branches
 *    (published, not dev, not Insecure; stable, or a pre-release only for a site already on a pre-release
 *    or dev snapshot and only when no newer stable exists).
 * 8. current.
 */
export function evaluateModuleStatus(history: ProjectHistory, installedVersion: string): ModuleStatusVerdict {
  const installed = parseDrupalVersion(installedVersion);
  if (!installed) return verdict('unknown', null, `${clip(installedVersion)} is not a Drupal version string`);
  if (history.projectStatus === 'revoked' || history.projectStatus === 'unpublished') {
    return verdict('revoked', null, `The ${history.name} project is ${history.projectStatus} on drupal.org: remove or replace it`);
  }

  const installedRelease = history.releases.find((release) => release.version === installedVersion) ?? null;
  const placed: PlacedRelease[] = history.releases.flatMap((release) => {
    const version = parseDrupalVersion(release.version);
    return version && areComparable(version, installed) ? [{ release, version }] : [];
  });
  const supported = history.supportedBranches.flatMap((raw) => {
    const branch = parseDrupalBranch(raw);
    return branch && branchFamily(branch) === versionFamily(installed) ? [branch] : [];
  });
  const supportedBranch = supported.find((branch) => isInBranch(installedVersion, branch.raw)) ?? null;
  const installedBranch = supportedBranch?.raw ?? installed.branch;
  const newer = (candidate: PlacedRelease) => compareDrupalVersions(candidate.version, installed) > 0;
  const inAny = (candidate: PlacedRelease, branches: readonly string[]) =>
    branches.some((branch) => isInBranch(candidate.release.version, branch));

  const placeable =
    installedRelease !== null ||
    supportedBranch !== null ||
    placed.some((candidate) => newer(candidate) || inAny(candidate, [installed.branch]));
  if (!placeable) {
    return history.projectStatus === 'unsupported'
      ? verdict('unsupported', null, `The ${history.name} project is unsupported`)
      : verdict('unknown', null, `${installedVersion} cannot be placed in the ${history.name} release history`);
  }

  const moveTo = supportedBranch ? null : branchToMoveTo(history.name, installed, supported);
  // A fix counts in the installed branch, and in the branch to move to when the installed one is unsupported.
  const securityBranches = moveTo ? [installedBranch, moveTo.raw] : [installedBranch];
  const newestFix = newest(
    placed.filter(
      (candidate) =>
        newer(candidate) &&
        inAny(candidate, securityBranches) &&
        candidate.release.status === 'published' &&
        !candidate.version.isDev &&
        candidate.release.releaseTypes.includes(ReleaseType.Security),
    ),
  );

  const acceptsPreRelease = !isStable(installed);
  const candidates = placed.filter(
    (candidate) =>
      newer(candidate) &&
      candidate.release.status === 'published' &&
      !candidate.version.isDev &&
      !candidate.release.releaseTypes.includes(ReleaseType.Insecure) &&
      !candidate.release.releaseTypes.includes(ReleaseType.Unsupported) &&
      (acceptsPreRelease || candidate.version.preRelease === null),
  );
  const bestIn = (branches: readonly string[]) => preferStable(candidates.filter((candidate) => inAny(candidate, branches)));
  // Security advisories name the fix per branch: stay in the installed branch, or go to the one to move to.
  const fixTarget = bestIn([moveTo?.raw ?? installedBranch]);
  // An ordinary update may also cross into a later supported branch of the same major (Drupal's own rule).
  const target = supportedBranch ?? moveTo;
  const majorTarget = target
    ? bestIn(supported.filter((branch) => branch.major === target.major && compareDrupalBranches(branch, target) >= 0).map((b) => b.raw))
    : bestIn([majorPrefix(installed)]);
  const move = (fixTarget ?? majorTarget)?.release.version ?? null;

  const installedInsecure = installedRelease?.releaseTypes.includes(ReleaseType.Insecure) ?? false;
  if (newestFix) {
    return verdict(
      'security_update',
      move ?? newestFix.release.version,
      `${newestFix.release.version} is a security release newer than ${installedVersion}`,
    );
  }
  if (move && (installedInsecure || history.projectStatus === 'insecure')) {
    const why = installedInsecure ? `${installedVersion} is marked insecure` : `The ${history.name} project is marked insecure`;
    return verdict('security_update', move, `${why}; update to ${move}`);
  }
  if (installedRelease && installedRelease.status !== 'published') {
    return verdict('revoked', move, `${installedVersion} was ${installedRelease.status} on drupal.org`);
  }
  if (history.projectStatus === 'unsupported' || history.projectStatus === 'insecure') {
    const suffix = history.projectStatus === 'insecure' ? ' and has no secure release to move to' : '';
    return verdict('unsupported', move, `The ${history.name} project is ${history.projectStatus}${suffix}`);
  }
  if (installedInsecure) {
    return verdict('unsupported', null, `${installedVersion} is marked insecure and no newer release exists`);
  }
  if (installedRelease?.releaseTypes.includes(ReleaseType.Unsupported)) {
    return verdict('unsupported', move, `${installedVersion} is marked unsupported`);
  }
  if (!supportedBranch) {
    const branch = `The ${installed.branch}x branch is not supported`;
    return verdict(
      'unsupported',
      move,
      moveTo && move ? `${branch}; move to ${move}` : `${branch} and there is no supported branch to move to`,
    );
  }
  const update = majorTarget?.release.version ?? null;
  if (update) return verdict('update_available', update, `${update} is available`);
  return verdict(
    'current',
    installedVersion,
    installed.isDev
      ? `${installedVersion} is a dev snapshot of a supported branch; no newer release`
      : `${installedVersion} is the newest release of its supported branch`,
  );
}

/** The lowest supported branch above the installed version; for core, only within the installed major. */
function branchToMoveTo(project: string, installed: DrupalVersion, supported: readonly DrupalBranch[]): DrupalBranch | null {
  const above = supported
    .filter((branch) => compareVersionToBranchStart(installed, branch) < 0)
    .filter((branch) => project !== CORE_PROJECT || branch.major === installed.major)
    .sort(compareDrupalBranches);
  return above[0] ?? null;
}

/** `8.x-1.` for legacy contrib, `2.` otherwise: every version of the installed major. */
function majorPrefix(version: DrupalVersion): string {
  return version.coreCompatibility === null ? `${version.major}.` : `${version.coreCompatibility}.x-${version.major}.`;
}

function newest(candidates: readonly PlacedRelease[]): PlacedRelease | null {
  let best: PlacedRelease | null = null;
  for (const candidate of candidates) {
    if (!best || compareDrupalVersions(candidate.version, best.version) > 0) best = candidate;
  }
  return best;
}

/** The newest stable release, or the newest pre-release when there is no stable one. */
function preferStable(candidates: readonly PlacedRelease[]): PlacedRelease | null {
  return newest(candidates.filter((candidate) => candidate.version.preRelease === null)) ?? newest(candidates);
}

function verdict(status: ModuleStatus, recommendedVersion: string | null, reason: string): ModuleStatusVerdict {
  return { status, recommendedVersion, reason: reason.slice(0, 300) };
}

function clip(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}…` : value;
}

