import { describe, expect, it } from '@jest/globals';
import {
  areComparable,
  compareDrupalBranches,
  compareDrupalVersions,
  compareVersionToBranchStart,
  isDevVersion,
  isDrupalVersion,
  isInBranch,
  isPreRelease,
  isStable,
  MACHINE_NAME_PATTERN,
  parseDrupalBranch,
  parseDrupalVersion,
  splitSupportedBranches,
  type DrupalVersion,
} from './drupal-version.js';

function parsed(raw: string): DrupalVersion {
  const version = parseDrupalVersion(raw);
  if (!version) throw new Error(`${raw} did not parse`);
  return version;
}

describe('parseDrupalVersion', () => {
  it.each([
    ['8.x-1.2', { coreCompatibility: 8, major: 1, minor: null, patch: 2, preRelease: null, isDev: false, branch: '8.x-1.' }],
    ['8.x-1.2-beta1', { coreCompatibility: 8, major: 1, patch: 2, preRelease: { kind: 'beta', number: 1 }, branch: '8.x-1.' }],
    ['7.x-3.x-dev', { coreCompatibility: 7, major: 3, minor: null, patch: null, isDev: true, branch: '7.x-3.' }],
    ['8.x-1.0+15-dev', { coreCompatibility: 8, major: 1, patch: 0, commitsAfter: 15, isDev: true, branch: '8.x-1.' }],
    ['1.2.3', { coreCompatibility: null, major: 1, minor: 2, patch: 3, isDev: false, branch: '1.2.' }],
    ['10.2.0-rc1', { major: 10, minor: 2, patch: 0, preRelease: { kind: 'rc', number: 1 }, branch: '10.2.' }],
    ['2.1.x-dev', { major: 2, minor: 1, patch: null, isDev: true, branch: '2.1.' }],
    ['1.x-dev', { major: 1, minor: null, patch: null, isDev: true, branch: '1.' }],
    ['10.2.3', { major: 10, minor: 2, patch: 3, branch: '10.2.' }],
    ['7.98', { coreCompatibility: null, major: 7, minor: null, patch: 98, branch: '7.' }],
    ['7.x-dev', { major: 7, patch: null, isDev: true, branch: '7.' }],
    ['7.x-1.0-unstable3', { coreCompatibility: 7, preRelease: { kind: 'unstable', number: 3 } }],
    ['2.0.0-alpha12', { major: 2, minor: 0, patch: 0, preRelease: { kind: 'alpha', number: 12 } }],
    ['8.x-1.0-beta1+5-dev', { patch: 0, preRelease: { kind: 'beta', number: 1 }, commitsAfter: 5, isDev: true }],
  ])('takes %s apart', (raw, expected) => {
    expect(parseDrupalVersion(raw)).toMatchObject({ raw, ...expected });
  });

  it.each([
    '',
    '10',
    '8.x-1',
    '8.x-1.2.3',
    '1.x',
    '1.x.3-dev',
    '8.x-1.x',
    '1.2.3-dev',
    '1.2.3+4',
    '1.x-beta1-dev',
    '1.x+3-dev',
    'v1.2.3',
    '1.2.3-RC1',
    '1.2.3.4',
    'latest',
    `1.${'1'.repeat(70)}`,
  ])('refuses %p', (raw) => {
    expect(parseDrupalVersion(raw)).toBeNull();
  });

  it('accepts only what isDrupalVersion accepts', () => {
    for (const raw of ['8.x-1.2', '1.x-dev', '10.2.0-rc1', '7.98', '8.x-1.0+15-dev']) {
      expect(isDrupalVersion(raw)).toBe(true);
    }
    expect(isDrupalVersion(42)).toBe(false);
  });
});

describe('dev, pre-release and stable detection', () => {
  it.each([
    ['1.x-dev', true, false, false],
    ['8.x-1.0+15-dev', true, false, false],
    ['8.x-1.0-beta1', false, true, false],
    ['10.2.0-rc1', false, true, false],
    ['7.x-1.0-unstable1', false, true, false],
    ['1.2.3', false, false, true],
    ['8.x-1.13', false, false, true],
  ])('%s: dev %p, pre-release %p, stable %p', (raw, dev, pre, stable) => {
    expect(isDevVersion(raw)).toBe(dev);
    expect(isPreRelease(raw)).toBe(pre);
    expect(isStable(parsed(raw))).toBe(stable);
  });

  it('says no for what does not parse', () => {
    expect(isDevVersion('nonsense-dev')).toBe(false);
    expect(isPreRelease('nonsense')).toBe(false);
  });
});

describe('compareDrupalVersions', () => {
  const ascending = [
    ['8.x-1.0-unstable1', '8.x-1.0-alpha1', '8.x-1.0-alpha2', '8.x-1.0-beta1', '8.x-1.0-beta1+3-dev', '8.x-1.0-rc1', '8.x-1.0'],
    ['8.x-1.0', '8.x-1.0+15-dev', '8.x-1.1', '8.x-1.9', '8.x-1.10', '8.x-1.x-dev', '8.x-2.0-beta1', '8.x-2.0'],
    ['1.9.0', '1.10.0', '1.x-dev', '2.0.0-rc1', '2.0.0', '2.0.1', '2.0.x-dev', '2.1.0', '2.1.x-dev', '10.0.0'],
    ['8.x-1.13', '2.0.0'],
    ['7.97', '7.98', '7.x-dev', '10.2.0', '10.2.3', '10.3.0'],
    ['7.x-3.1', '7.x-3.9', '7.x-3.x-dev'],
  ];

  it.each(ascending.map((list) => [list.join(' < ')]))('orders %s', (description) => {
    const list = description.split(' < ');
    for (let index = 1; index < list.length; index++) {
      const older = parsed(list[index - 1] ?? '');
      const newer = parsed(list[index] ?? '');
      expect([older.raw, compareDrupalVersions(older, newer)]).toEqual([older.raw, -1]);
      expect(compareDrupalVersions(newer, older)).toBe(1);
    }
  });

  it('sorts an array into release order', () => {
    const shuffled = ['8.x-1.10', '8.x-1.2', '8.x-1.0-rc2', '8.x-1.x-dev', '8.x-1.0'].map(parsed);
    expect(shuffled.sort(compareDrupalVersions).map((version) => version.raw)).toEqual([
      '8.x-1.0-rc2',
      '8.x-1.0',
      '8.x-1.2',
      '8.x-1.10',
      '8.x-1.x-dev',
    ]);
  });

  it('is zero for the same version', () => {
    expect(compareDrupalVersions(parsed('1.2.3'), parsed('1.2.3'))).toBe(0);
  });

  it('keeps Drupal 7 contrib apart from Drupal 8 and later', () => {
    expect(areComparable(parsed('7.x-1.5'), parsed('8.x-1.5'))).toBe(false);
    expect(areComparable(parsed('7.x-1.5'), parsed('7.x-2.0'))).toBe(true);
    expect(areComparable(parsed('8.x-1.5'), parsed('2.0.0'))).toBe(true);
    expect(areComparable(parsed('7.98'), parsed('10.2.3'))).toBe(true);
  });
});

describe('branches', () => {
  it.each([
    ['8.x-1.', { coreCompatibility: 8, major: 1, minor: null }],
    ['2.0.', { coreCompatibility: null, major: 2, minor: 0 }],
    ['10.3.', { major: 10, minor: 3 }],
    ['1.', { major: 1, minor: null }],
    ['7.', { major: 7, minor: null }],
  ])('parses %s', (raw, expected) => {
    expect(parseDrupalBranch(raw)).toMatchObject({ raw, ...expected });
  });

  it.each(['8.x-1', '2.0', '', 'x.', '8.x-1.2.', '1.2.3.'])('refuses %p', (raw) => {
    expect(parseDrupalBranch(raw)).toBeNull();
  });

  it('splits supported_branches as drupal.org writes them', () => {
    expect(splitSupportedBranches('8.x-1.,2.0.')).toEqual(['8.x-1.', '2.0.']);
    expect(splitSupportedBranches(' 10.2., 10.3. ,')).toEqual(['10.2.', '10.3.']);
    expect(splitSupportedBranches('')).toEqual([]);
  });

  it.each([
    ['8.x-1.3', '8.x-1.', true],
    ['8.x-1.x-dev', '8.x-1.', true],
    ['8.x-10.3', '8.x-1.', false],
    ['2.1.0', '2.', true],
    ['2.1.0', '2.1.', true],
    ['2.1.0', '2.0.', false],
    ['10.2.3', '1.', false],
    ['2.1.x-dev', '2.1.', true],
    ['7.98', '7.', true],
    ['7.98', '', false],
  ])('%s is in %s: %p', (version, branch, expected) => {
    expect(isInBranch(version, branch)).toBe(expected);
  });

  it('places versions against the start of a branch', () => {
    const branch = (raw: string) => parseDrupalBranch(raw) ?? { raw, coreCompatibility: null, major: -1, minor: null };
    expect(compareVersionToBranchStart(parsed('2.0.5'), branch('2.1.'))).toBeLessThan(0);
    expect(compareVersionToBranchStart(parsed('2.1.0-alpha1'), branch('2.1.'))).toBeGreaterThan(0);
    expect(compareVersionToBranchStart(parsed('8.x-1.9'), branch('8.x-2.'))).toBeLessThan(0);
    expect(compareVersionToBranchStart(parsed('8.x-1.x-dev'), branch('2.0.'))).toBeLessThan(0);
    expect(compareVersionToBranchStart(parsed('3.0.0'), branch('2.1.'))).toBeGreaterThan(0);
    expect(compareDrupalBranches(branch('8.x-1.'), branch('2.0.'))).toBeLessThan(0);
    expect(compareDrupalBranches(branch('10.3.'), branch('10.2.'))).toBeGreaterThan(0);
  });
});

describe('MACHINE_NAME_PATTERN', () => {
  it('accepts Drupal machine names only', () => {
    expect(MACHINE_NAME_PATTERN.test('token')).toBe(true);
    expect(MACHINE_NAME_PATTERN.test('admin_toolbar_tools')).toBe(true);
    expect(MACHINE_NAME_PATTERN.test('Token')).toBe(false);
    expect(MACHINE_NAME_PATTERN.test('1token')).toBe(false);
    expect(MACHINE_NAME_PATTERN.test('../etc')).toBe(false);
  });
});
