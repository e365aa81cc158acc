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
 * 3. unknown (or unsupported when the project is): the version is not in the history and no release of
 *    the history compares with it (another core generation).
 * 4. security_update: a newer published non-dev release in the installed branch (or, when that branch is
 *    unsupported, in the supported branch to move to) is a security release; or the installed release is
 *    marked Insecure, or the project is insecure, and a newer release exists.
 * 5. revoked: the installed release is unpublished or revoked.
 * 6. unsupported: the project is unsupported or insecure, the installed branch is not supported, or the
 *    installed release is marked Insecure or Unsupported (with nothing newer to move to).
 * 7. update_available: a newer recommended release exists (published, not dev, not Insecure; stable, or a
 *    pre-release only for a site already running a pre-release or dev snapshot).
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
  if (!installedRelease && placed.length === 0) {
    return history.projectStatus === 'unsupported'
      ? verdict('unsupported', null, `The ${history.name} project is no longer supported`)
      : verdict('unknown', null, `${installedVersion} cannot be placed in the ${history.name} release history`);
  }

  const supported = history.supportedBranches.flatMap((raw) => {
    const branch = parseDrupalBranch(raw);
    return branch && branchFamily(branch) === branchFamilyOf(installed) ? [branch] : [];
  });
  const supportedBranch = supported.find((branch) => isInBranch(installedVersion, branch.raw)) ?? null;
  const installedBranch = supportedBranch?.raw ?? installed.branch;
  const moveTo = supportedBranch ? null : branchToMoveTo(history.name, installed, supported);

  const newer = (candidate: PlacedRelease) => compareDrupalVersions(candidate.version, installed) > 0;
  const inAny = (candidate: PlacedRelease, branches: readonly string[]) =>
    branches.some((branch) => isInBranch(candidate.release.version, branch));
  const isUsable = (candidate: PlacedRelease) =>
    candidate.release.status === 'published' &&
    !candidate.version.isDev &&
    !candidate.release.releaseTypes.includes(ReleaseType.Insecure);

  // Where a fix counts: the installed branch, and the branch to move to when the installed one is unsupported.
  const securityBranches = moveTo ? [installedBranch, moveTo.raw] : [installedBranch];
  const securityReleases = placed.filter(
    (candidate) =>
      newer(candidate) &&
      inAny(candidate, securityBranches) &&
      candidate.release.status === 'published' &&
      !candidate.version.isDev &&
      candidate.release.releaseTypes.includes(ReleaseType.Security),
  );

  // Where the recommended release is looked for: every supported branch of the target major (Drupal's rule).
  const target = supportedBranch ?? moveTo;
  const recommendationBranches = target
    ? supported.filter((branch) => branch.major === target.major && compareDrupalBranches(branch, target) >= 0).map((b) => b.raw)
    : [installedBranch];
  const acceptsPreRelease = !isStable(installed);
  const candidates = placed.filter(
    (candidate) =>
      newer(candidate) && isUsable(candidate) && (acceptsPreRelease || candidate.version.preRelease === null),
  );
  const recommended =
    preferStable(candidates.filter((candidate) => inAny(candidate, recommendationBranches))) ??
    preferStable(candidates.filter((candidate) => inAny(candidate, securityBranches)));
  const recommendedVersion = recommended?.release.version ?? null;

  const installedInsecure = installedRelease?.releaseTypes.includes(ReleaseType.Insecure) ?? false;
  const installedUnsupported = installedRelease?.releaseTypes.includes(ReleaseType.Unsupported) ?? false;

  const newestFix = newest(securityReleases);
  if (newestFix) {
    return verdict(
      'security_update',
      recommendedVersion ?? newestFix.release.version,
      `${newestFix.release.version} is a security release newer than ${installedVersion}`,
    );
  }
  if (recommendedVersion && (installedInsecure || history.projectStatus === 'insecure')) {
    const why = installedInsecure ? `${installedVersion} is marked insecure` : `the ${history.name} project is marked insecure`;
    return verdict('security_update', recommendedVersion, `${capitalize(why)}; update to ${recommendedVersion}`);
  }
  if (installedRelease && installedRelease.status !== 'published') {
    return verdict('revoked', recommendedVersion, `${installedVersion} was ${installedRelease.status} on drupal.org`);
  }
  if (history.projectStatus === 'unsupported' || history.projectStatus === 'insecure') {
    const suffix = history.projectStatus === 'insecure' ? ' and has no secure release to move to' : '';
    return verdict('unsupported', recommendedVersion, `The ${history.name} project is ${history.projectStatus}${suffix}`);
  }
  if (installedInsecure) {
    return verdict('unsupported', recommendedVersion, `${installedVersion} is marked insecure and no newer release exists`);
  }
  if (!supportedBranch) {
    const branchText = `${installed.branch}x is not a supported branch`;
    return verdict(
      'unsupported',
      recommendedVersion,
      moveTo && recommendedVersion ? `${branchText}; move to ${recommendedVersion}` : `${branchText} and there is no supported branch to move to`,
    );
  }
  if (installedUnsupported) {
    return verdict('unsupported', recommendedVersion, `${installedVersion} is marked unsupported`);
  }
  if (recommendedVersion) {
    return verdict('update_available', recommendedVersion, `${recommendedVersion} is available`);
  }
  return verdict(
    'current',
    installedVersion,
    installed.isDev
      ? `${installedVersion} is a dev snapshot of a supported branch with no newer release`
      : `${installedVersion} is the newest release of its branch`,
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

function branchFamilyOf(version: DrupalVersion): string {
  return version.coreCompatibility !== null && version.coreCompatibility < 8 ? `${version.coreCompatibility}.x` : 'modern';
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

function capitalize(value: string): string {
  return value.charAt(0).toUpperCase() + value.slice(1);
}
