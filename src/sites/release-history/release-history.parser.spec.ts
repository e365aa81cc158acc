import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { AppError } from '../../common/errors/app-error.js';
import { MAX_RELEASE_HISTORY_BYTES, parseReleaseHistoryXml } from './release-history.parser.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/release-history');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

function refusal(xml: unknown): AppError {
  try {
    parseReleaseHistoryXml(xml);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('the document was accepted');
}

const minimal = (body: string): string => `<?xml version="1.0"?>
<project><short_name>mini</short_name><project_status>published</project_status>${body}</project>`;

describe('parseReleaseHistoryXml', () => {
  it('reads a semantic-versioned project with its releases in document order', () => {
    const [token, ...rest] = parseReleaseHistoryXml(fixture('token.xml'));

    expect(rest).toEqual([]);
    expect(token).toMatchObject({
      name: 'token',
      title: 'Token',
      projectStatus: 'published',
      supportedBranches: ['1.3.', '2.0.'],
    });
    expect(token?.releases.map((release) => release.version)).toEqual([
      '2.0.x-dev',
      '2.0.1',
      '2.0.0',
      '2.0.0-rc1',
      '1.3.x-dev',
      '1.3.2',
      '1.3.1',
      '1.3.0',
      '1.2.x-dev',
      '1.2.4',
      '1.2.3',
      '1.x-dev',
    ]);
    expect(token?.releases[2]).toEqual({
      version: '2.0.0',
      status: 'published',
      releasedAt: new Date(1_700_700_000_000),
      releaseTypes: ['New features', 'Bug fixes'],
      securityCovered: true,
    });
  });

  it('reads legacy versions, security and insecure terms and unpublished releases', () => {
    const [pathauto] = parseReleaseHistoryXml(fixture('pathauto.xml'));

    expect(pathauto?.supportedBranches).toEqual(['8.x-1.']);
    const byVersion = new Map(pathauto?.releases.map((release) => [release.version, release]));
    expect(byVersion.get('8.x-1.12')?.releaseTypes).toEqual(['Security update']);
    expect(byVersion.get('8.x-1.11')?.releaseTypes).toEqual(['Bug fixes', 'Insecure']);
    expect(byVersion.get('8.x-1.9')?.status).toBe('unpublished');
    expect(byVersion.get('8.x-1.0-rc1')?.releaseTypes).toEqual(['New features']);
  });

  it('keeps project-level terms out of the releases and reads security coverage', () => {
    const [spamalot] = parseReleaseHistoryXml(fixture('spamalot.xml'));

    expect(spamalot?.projectStatus).toBe('revoked');
    expect(spamalot?.supportedBranches).toEqual([]);
    expect(spamalot?.releases.map((release) => release.securityCovered)).toEqual([false, false]);
    expect(spamalot?.releases.flatMap((release) => release.releaseTypes)).not.toContain('Modules');
  });

  it('reads core', () => {
    const [drupal] = parseReleaseHistoryXml(fixture('drupal.xml'));

    expect(drupal).toMatchObject({ name: 'drupal', title: 'Drupal core', supportedBranches: ['10.2.', '10.3.'] });
    expect(drupal?.releases).toHaveLength(12);
  });

  it('reads several projects wrapped in <projects>', () => {
    const histories = parseReleaseHistoryXml(fixture('multiple.xml'));

    expect(histories.map((history) => [history.name, history.releases.length])).toEqual([
      ['admin_toolbar', 2],
      ['metatag', 1],
    ]);
  });

  it('reads a project without releases, without a title or a date, and decodes the predefined entities', () => {
    const [history] = parseReleaseHistoryXml(
      minimal('<title>Fish &amp; Chips &#169; &#x2713; &amp;lt;</title><releases/><supported_branches/>'),
    );
    expect(history).toEqual({
      name: 'mini',
      title: 'Fish & Chips © ✓ &lt;',
      projectStatus: 'published',
      supportedBranches: [],
      releases: [],
    });

    const [undated] = parseReleaseHistoryXml(
      minimal('<releases><release><version>1.0.0</version><status>published</status></release></releases>'),
    );
    expect(undated?.releases[0]).toMatchObject({ releasedAt: null, releaseTypes: [], securityCovered: null });
  });

  describe('hostile documents are refused before anything is expanded or fetched', () => {
    it.each(['billion-laughs.xml', 'xxe-file.xml', 'external-dtd.xml', 'parameter-entity.xml'])('%s', (name) => {
      const error = refusal(fixture(`hostile/${name}`));

      expect(error.getStatus()).toBe(400);
      expect(error.code).toBe('RELEASE_HISTORY.FORBIDDEN_XML');
    });

    it('refuses a lower-case or spaced declaration', () => {
      expect(refusal(`<!doctype project>${minimal('')}`).code).toBe('RELEASE_HISTORY.FORBIDDEN_XML');
      expect(refusal(minimal('<title><! ENTITY x "y"></title>')).code).toBe('RELEASE_HISTORY.FORBIDDEN_XML');
    });

    it('refuses an undeclared entity reference and a bare ampersand as malformed', () => {
      expect(refusal(fixture('hostile/undeclared-entity.xml')).code).toBe('RELEASE_HISTORY.INVALID_XML');
      expect(refusal(minimal('<title>Fish & Chips</title>')).code).toBe('RELEASE_HISTORY.INVALID_XML');
    });

    it('refuses a document over the size limit with 413', () => {
      const padding = `<!--${'x'.repeat(MAX_RELEASE_HISTORY_BYTES)}-->`;
      const error = refusal(minimal(padding));

      expect(error.getStatus()).toBe(413);
      expect(error.code).toBe('RELEASE_HISTORY.TOO_LARGE');
    });

    it('refuses deep nesting without recursing into it', () => {
      const depth = 200_000;
      const error = refusal(minimal(`${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`));

      expect(error.code).toBe('RELEASE_HISTORY.INVALID_XML');
    });
  });

  describe('malformed and structurally wrong documents', () => {
    it.each([
      ['an empty body', ''],
      ['whitespace', '  \n'],
      ['a JSON object', { project: 'token' }],
    ])('refuses %s', (_label, body) => {
      expect(refusal(body).code).toBe('RELEASE_HISTORY.EMPTY');
    });

    it('refuses unclosed elements with the line', () => {
      const error = refusal(fixture('hostile/malformed.xml'));

      expect(error.getStatus()).toBe(400);
      expect(error.code).toBe('RELEASE_HISTORY.INVALID_XML');
      expect(JSON.stringify(error.details)).toMatch(/line \d+/);
    });

    it.each([
      ['two roots', '<project></project><project></project>'],
      ['text only', 'token'],
      ['a mismatched closing tag', '<project><title>x</name></project>'],
    ])('refuses %s', (_label, xml) => {
      expect(refusal(xml).code).toBe('RELEASE_HISTORY.INVALID_XML');
    });

    it('names the missing short_name', () => {
      const error = refusal(fixture('hostile/missing-short-name.xml'));

      expect(error.code).toBe('RELEASE_HISTORY.INVALID_DOCUMENT');
      expect(error.details).toEqual([{ field: 'project.short_name', messages: ['is required'] }]);
    });

    it('names every bad version, status, date and branch', () => {
      const error = refusal(fixture('hostile/bad-versions.xml'));

      expect(error.code).toBe('RELEASE_HISTORY.INVALID_DOCUMENT');
      expect((error.details as ReadonlyArray<{ field: string }>).map((detail) => detail.field)).toEqual([
        'project.supported_branches',
        'project.releases.1.version',
        'project.releases.2.status',
        'project.releases.2.date',
      ]);
    });

    it.each([
      ['an unknown root', '<error>No release history was found for the requested project (nope).</error>', 'body'],
      ['a bad project status', '<project><short_name>x</short_name><project_status>gone</project_status></project>', 'project.project_status'],
      ['a missing project status', '<project><short_name>x</short_name></project>', 'project.project_status'],
      ['a bad machine name', '<project><short_name>Not-Valid</short_name><project_status>published</project_status></project>', 'project.short_name'],
      ['an empty <projects>', '<projects></projects>', 'projects'],
      [
        'a duplicated version',
        minimal('<releases><release><version>1.0.0</version><status>published</status></release><release><version>1.0.0</version><status>published</status></release></releases>'),
        'project.releases.1.version',
      ],
      [
        'a release without a version',
        minimal('<releases><release><status>published</status></release></releases>'),
        'project.releases.0.version',
      ],
      [
        'a duplicated project',
        `<projects>${minimal('').replace('<?xml version="1.0"?>', '')}${minimal('').replace('<?xml version="1.0"?>', '')}</projects>`,
        'projects.1.short_name',
      ],
    ])('refuses %s', (_label, xml, field) => {
      const error = refusal(xml);

      expect(error.getStatus()).toBe(400);
      expect(error.code).toBe('RELEASE_HISTORY.INVALID_DOCUMENT');
      expect((error.details as ReadonlyArray<{ field: string }>).map((detail) => detail.field)).toContain(field);
    });
  });
});
