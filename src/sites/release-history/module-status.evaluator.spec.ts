import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { evaluateModuleStatus, type EvaluatedRelease, type ModuleStatus, type ProjectHistory } from './module-status.evaluator.js';
import { parseReleaseHistoryXml } from './release-history.parser.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/release-history');

function fixture(name: string): ProjectHistory {
  const [history] = parseReleaseHistoryXml(readFileSync(join(FIXTURES, `${name}.xml`), 'utf8'));
  if (!history) throw new Error(`${name}.xml holds no project`);
  return history;
}

/** A history written inline: `'1.0.1 security'`, `'1.0.0 insecure'`, `'0.9.0 unpublished'`. */
function history(
  supportedBranches: string,
  releases: readonly string[],
  projectStatus: ProjectHistory['projectStatus'] = 'published',
  name = 'example',
): ProjectHistory {
  const types: Record<string, string> = {
    security: 'Security update',
    insecure: 'Insecure',
    bugfix: 'Bug fixes',
    unsupported: 'Unsupported',
  };
  return {
    name,
    projectStatus,
    supportedBranches: supportedBranches.split(',').filter(Boolean),
    releases: releases.map((line): EvaluatedRelease => {
      const [version = '', ...flags] = line.split(' ');
      return {
        version,
        status: flags.includes('unpublished') ? 'unpublished' : flags.includes('revoked') ? 'revoked' : 'published',
        releaseTypes: flags.flatMap((flag) => (types[flag] ? [types[flag]] : [])),
      };
    }),
  };
}

type Case = [installed: string, status: ModuleStatus, recommended: string | null];

function expectCases(project: ProjectHistory, cases: readonly Case[]): void {
  const actual = cases.map(([installed]) => {
    const verdict = evaluateModuleStatus(project, installed);
    return [installed, verdict.status, verdict.recommendedVersion];
  });
  expect(actual).toEqual(cases);
}

describe('evaluateModuleStatus against the fixtures', () => {
  it('token: a semantic-versioned project supporting 1.3. and 2.0.', () => {
    expectCases(fixture('token'), [
      ['2.0.1', 'current', '2.0.1'],
      ['2.0.0', 'update_available', '2.0.1'],
      ['2.0.0-rc1', 'update_available', '2.0.1'],
      ['2.0.x-dev', 'current', '2.0.x-dev'],
      ['2.0.2', 'current', '2.0.2'],
      // 2.0 is a new major: not an update for the 1.3 branch.
      ['1.3.2', 'current', '1.3.2'],
      ['1.3.0', 'update_available', '1.3.2'],
      ['1.3.x-dev', 'current', '1.3.x-dev'],
      // 1.2. is no longer supported: move to the lowest supported branch above it.
      ['1.2.4', 'unsupported', '1.3.2'],
      ['1.2.3', 'unsupported', '1.3.2'],
      ['1.2.x-dev', 'unsupported', '1.3.2'],
      ['1.x-dev', 'unsupported', '2.0.1'],
      // Not in the history and beyond every branch it knows; another generation altogether.
      ['3.0.0', 'unknown', null],
      ['7.x-1.5', 'unknown', null],
      ['not-a-version', 'unknown', null],
    ]);
  });

  it('pathauto: legacy 8.x-1.x with a security release, Insecure and unpublished releases, dev snapshots', () => {
    expectCases(fixture('pathauto'), [
      ['8.x-1.13', 'current', '8.x-1.13'],
      ['8.x-1.12', 'update_available', '8.x-1.13'],
      ['8.x-1.11', 'security_update', '8.x-1.13'],
      ['8.x-1.10', 'security_update', '8.x-1.13'],
      // Unpublished, but a security fix outranks the revocation.
      ['8.x-1.9', 'security_update', '8.x-1.13'],
      ['8.x-1.8', 'security_update', '8.x-1.13'],
      ['8.x-1.0-rc1', 'security_update', '8.x-1.13'],
      // The dev release is typed "Security update": dev releases never count, and a branch snapshot is at its head.
      ['8.x-1.x-dev', 'current', '8.x-1.x-dev'],
      // Snapshots after a release sit between it and the next one.
      ['8.x-1.11+2-dev', 'security_update', '8.x-1.13'],
      ['8.x-1.12+3-dev', 'update_available', '8.x-1.13'],
      ['8.x-1.13+1-dev', 'current', '8.x-1.13+1-dev'],
      ['8.x-2.0', 'unknown', null],
    ]);
  });

  it('ctools: an unsupported legacy 8.x-3. branch and a supported semantic 4.0. branch', () => {
    expectCases(fixture('ctools'), [
      ['4.0.4', 'current', '4.0.4'],
      ['4.0.2', 'security_update', '4.0.4'],
      ['4.0.0-beta1', 'security_update', '4.0.4'],
      ['4.0.x-dev', 'current', '4.0.x-dev'],
      // Security releases of the branch to move to count when the installed branch is unsupported.
      ['8.x-3.14', 'security_update', '4.0.4'],
      ['8.x-3.13', 'security_update', '4.0.4'],
      ['8.x-3.12', 'security_update', '4.0.4'],
      ['8.x-3.x-dev', 'security_update', '4.0.4'],
    ]);
  });

  it('drupal core: 10.2. and 10.3. supported; a security fix stays in its minor branch', () => {
    expectCases(fixture('drupal'), [
      ['10.3.1', 'current', '10.3.1'],
      ['10.3.0', 'update_available', '10.3.1'],
      ['10.3.0-rc1', 'update_available', '10.3.1'],
      ['10.3.x-dev', 'current', '10.3.x-dev'],
      ['10.2.7', 'update_available', '10.3.1'],
      ['10.2.6', 'security_update', '10.2.7'],
      ['10.2.5', 'security_update', '10.2.7'],
      ['10.2.x-dev', 'update_available', '10.3.1'],
      ['10.1.8', 'security_update', '10.2.7'],
      ['10.1.7', 'security_update', '10.2.7'],
      // Core never moves to another major.
      ['9.5.11', 'unsupported', null],
      ['9.5.10', 'security_update', '9.5.11'],
      ['7.98', 'unsupported', null],
    ]);
  });

  it('mollom: an unsupported project', () => {
    expectCases(fixture('mollom'), [
      ['8.x-1.1', 'unsupported', null],
      ['8.x-1.0', 'unsupported', '8.x-1.1'],
      ['7.x-1.3', 'unsupported', null],
    ]);
  });

  it('spamalot: a revoked project, whatever is installed', () => {
    expectCases(fixture('spamalot'), [
      ['1.0.1', 'revoked', null],
      ['1.0.0', 'revoked', null],
      ['0.1.0', 'revoked', null],
    ]);
  });

  it('leaky_forms: an insecure project whose releases are all marked Insecure', () => {
    expectCases(fixture('leaky_forms'), [
      ['2.1.0', 'unsupported', null],
      ['2.0.0', 'unsupported', null],
    ]);
  });
});

describe('evaluateModuleStatus rules', () => {
  it('explains itself in one short sentence', () => {
    const verdict = evaluateModuleStatus(fixture('drupal'), '10.2.6');

    expect(verdict.reason).toBe('10.2.7 is a security release newer than 10.2.6');
    expect(evaluateModuleStatus(fixture('token'), '1.2.4').reason).toBe('The 1.2.x branch is not supported; move to 1.3.2');
    expect(evaluateModuleStatus(fixture('spamalot'), '1.0.0').reason).toMatch(/revoked/);
  });

  it('treats an installed release marked Insecure as a security update when something newer exists', () => {
    const project = history('1.0.', ['1.0.2 bugfix', '1.0.1 bugfix insecure', '1.0.0']);

    expect(evaluateModuleStatus(project, '1.0.1')).toMatchObject({ status: 'security_update', recommendedVersion: '1.0.2' });
  });

  it('calls the newest release unsupported when it is marked Insecure', () => {
    const project = history('1.0.', ['1.0.1 insecure', '1.0.0']);

    expect(evaluateModuleStatus(project, '1.0.1')).toMatchObject({ status: 'unsupported', recommendedVersion: null });
    // An older release still has no secure release to move to.
    expect(evaluateModuleStatus(project, '1.0.0').status).toBe('current');
  });

  it('never recommends an Insecure, unpublished, Unsupported or dev release', () => {
    const project = history('1.0.', ['1.x-dev', '1.0.4 insecure', '1.0.3 unpublished', '1.0.2 unsupported', '1.0.1', '1.0.0']);

    expect(evaluateModuleStatus(project, '1.0.0')).toMatchObject({ status: 'update_available', recommendedVersion: '1.0.1' });
  });

  it('calls an unpublished or revoked installed release revoked, with the update to make', () => {
    const project = history('1.0.', ['1.0.2', '1.0.1 revoked', '1.0.0 unpublished']);

    expect(evaluateModuleStatus(project, '1.0.1')).toMatchObject({ status: 'revoked', recommendedVersion: '1.0.2' });
    expect(evaluateModuleStatus(project, '1.0.0')).toMatchObject({ status: 'revoked', recommendedVersion: '1.0.2' });
    expect(evaluateModuleStatus(history('1.0.', ['1.0.0 unpublished']), '1.0.0')).toMatchObject({
      status: 'revoked',
      recommendedVersion: null,
    });
  });

  it('puts a security update before a revoked release, and a revoked release before an unsupported branch', () => {
    expect(evaluateModuleStatus(history('1.0.', ['1.0.1 security', '1.0.0 unpublished']), '1.0.0').status).toBe('security_update');
    expect(evaluateModuleStatus(history('2.0.', ['2.0.0', '1.0.0 unpublished']), '1.0.0').status).toBe('revoked');
  });

  it('does not count an unpublished or dev security release', () => {
    const project = history('1.0.', ['1.0.x-dev security', '1.0.1 security unpublished', '1.0.0']);

    expect(evaluateModuleStatus(project, '1.0.0').status).toBe('current');
  });

  it('does not count a security release in another supported branch when the installed one is supported', () => {
    const project = history('1.0.,2.0.', ['2.0.1 security', '2.0.0', '1.0.0']);

    expect(evaluateModuleStatus(project, '1.0.0').status).toBe('current');
    expect(evaluateModuleStatus(project, '2.0.0').status).toBe('security_update');
  });

  it('counts a security release of the installed branch even when that branch is unsupported', () => {
    const project = history('2.0.', ['2.0.0', '1.0.1 security', '1.0.0']);

    expect(evaluateModuleStatus(project, '1.0.0')).toMatchObject({ status: 'security_update', recommendedVersion: '2.0.0' });
    expect(evaluateModuleStatus(project, '1.0.1')).toMatchObject({ status: 'unsupported', recommendedVersion: '2.0.0' });
  });

  it('moves to the lowest supported branch above the installed one, never down', () => {
    const project = history('1.0.,3.0.,2.1.', ['3.0.0', '2.1.0', '2.0.0', '1.0.0']);

    expect(evaluateModuleStatus(project, '2.0.0')).toMatchObject({ status: 'unsupported', recommendedVersion: '2.1.0' });
    expect(evaluateModuleStatus(history('1.0.', ['2.0.0', '1.0.0']), '2.0.0')).toMatchObject({
      status: 'unsupported',
      recommendedVersion: null,
    });
  });

  it('recommends an update in a later supported branch of the same major', () => {
    const project = history('2.0.,2.1.,3.0.', ['3.0.0', '2.1.1', '2.1.0', '2.0.3']);

    expect(evaluateModuleStatus(project, '2.0.3')).toMatchObject({ status: 'update_available', recommendedVersion: '2.1.1' });
  });

  it('accepts whole-major supported branches such as 1.', () => {
    const project = history('1.', ['1.2.0', '1.1.0', '1.0.0']);

    expect(evaluateModuleStatus(project, '1.0.0')).toMatchObject({ status: 'update_available', recommendedVersion: '1.2.0' });
    expect(evaluateModuleStatus(project, '1.x-dev').status).toBe('current');
  });

  it('offers pre-releases only to sites on a pre-release or dev snapshot, and prefers a stable one', () => {
    const project = history('2.0.,2.1.', ['2.1.0-beta2', '2.1.0-beta1', '2.0.1', '2.0.0', '2.0.0-rc1']);

    expect(evaluateModuleStatus(project, '2.0.1').status).toBe('current');
    expect(evaluateModuleStatus(project, '2.1.0-beta1')).toMatchObject({ status: 'update_available', recommendedVersion: '2.1.0-beta2' });
    expect(evaluateModuleStatus(project, '2.0.0-rc1')).toMatchObject({ status: 'update_available', recommendedVersion: '2.0.1' });
  });

  it('flags an insecure project with a newer usable release as a security update', () => {
    const project = history('', ['1.1.0', '1.0.0 insecure'], 'insecure');

    expect(evaluateModuleStatus(project, '1.0.0')).toMatchObject({ status: 'security_update', recommendedVersion: '1.1.0' });
    expect(evaluateModuleStatus(project, '1.1.0').status).toBe('unsupported');
  });

  it('calls an unsupported project unsupported even without a security release, and security_update with one', () => {
    expect(evaluateModuleStatus(history('', ['1.0.1', '1.0.0'], 'unsupported'), '1.0.0').status).toBe('unsupported');
    expect(evaluateModuleStatus(history('', ['1.0.1 security', '1.0.0'], 'unsupported'), '1.0.0').status).toBe('security_update');
  });

  it('calls a project unpublished on drupal.org revoked', () => {
    expect(evaluateModuleStatus(history('1.0.', ['1.0.0'], 'unpublished'), '1.0.0').status).toBe('revoked');
  });

  it('calls a release marked Unsupported unsupported', () => {
    expect(evaluateModuleStatus(history('1.0.', ['1.0.0 unsupported']), '1.0.0').status).toBe('unsupported');
  });

  it('answers unknown for an empty history', () => {
    expect(evaluateModuleStatus(history('1.0.', []), '1.0.0').status).toBe('current');
    expect(evaluateModuleStatus(history('', []), '1.0.0').status).toBe('unknown');
  });

  it('keeps reasons within 300 characters', () => {
    const long = 'x'.repeat(400);
    expect(evaluateModuleStatus(history('', [], 'revoked', long), '1.0.0').reason.length).toBeLessThanOrEqual(300);
    expect(evaluateModuleStatus(history('', []), long).reason.length).toBeLessThanOrEqual(300);
  });
});
