import { HttpStatus } from '@nestjs/common';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AppError, type ErrorDetail } from '../../common/errors/app-error.js';
import {
  MACHINE_NAME_PATTERN,
  parseDrupalBranch,
  parseDrupalVersion,
  splitSupportedBranches,
} from '../drupal-version.js';

/** Drupal core's current release history is about 1 MiB; anything five times that is not one. */
export const MAX_RELEASE_HISTORY_BYTES = 5 * 1024 * 1024;
const MAX_PROJECTS = 500;
const MAX_RELEASES = 20_000;
const MAX_TERM_LENGTH = 64;

export const PROJECT_STATUSES = ['published', 'unsupported', 'insecure', 'revoked', 'unpublished'] as const;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];
export const RELEASE_STATUSES = ['published', 'unpublished', 'revoked'] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

/** The `Release type` terms the evaluator reads; others are kept as they come. */
export const ReleaseType = {
  Security: 'Security update',
  BugFixes: 'Bug fixes',
  NewFeatures: 'New features',
  Insecure: 'Insecure',
  Unsupported: 'Unsupported',
} as const;

export interface ReleaseRecord {
  readonly version: string;
  readonly status: ReleaseStatus;
  readonly releasedAt: Date | null;
  /** The values of the release's "Release type" terms. */
  readonly releaseTypes: readonly string[];
  /** `<security covered="1">`: null when the release does not say. */
  readonly securityCovered: boolean | null;
}

/** One project's history as updates.drupal.org publishes it, releases in the document's (newest-first) order. */
export interface ReleaseHistory {
  readonly name: string;
  readonly title: string | null;
  readonly projectStatus: ProjectStatus;
  readonly supportedBranches: readonly string[];
  readonly releases: readonly ReleaseRecord[];
}

// Declarations are what entity expansion and external entities (XXE) need: refused before any parsing.
const FORBIDDEN_DECLARATION = /<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;
// Without declarations only XML's five entities and character references can be meant.
const UNDEFINED_REFERENCE = /&(?!(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)/;
const MAX_DEPTH = 32;

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Nothing is expanded by the library; text() decodes XML's five entities and character references.
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (tagName: string, jPath: unknown) =>
    tagName === 'release' || tagName === 'term' || (tagName === 'project' && jPath === 'projects.project'),
});

const invalidXml = (message: string): AppError =>
  new AppError(HttpStatus.BAD_REQUEST, 'RELEASE_HISTORY.INVALID_XML', 'The release history is not well-formed XML', [
    { field: 'body', messages: [message] },
  ]);

/**
 * Parses one `<project>` document (or several wrapped in `<projects>`). Hostile input is refused before the
 * XML parser sees it: declarations (DOCTYPE, ENTITY) with 400 RELEASE_HISTORY.FORBIDDEN_XML, oversized
 * documents with 413; malformed XML and wrong structure with 400 and details.
 */
export function parseReleaseHistoryXml(xml: unknown): ReleaseHistory[] {
  return parseReleaseHistoryDocument(xml).histories;
}

export interface ReleaseHistoryDocument {
  /** True for `<projects>`: several histories in one document. */
  readonly wrapped: boolean;
  readonly histories: ReleaseHistory[];
}

/** {@link parseReleaseHistoryXml}, telling also whether the document was a `<projects>` wrapper. */
export function parseReleaseHistoryDocument(xml: unknown): ReleaseHistoryDocument {
  if (typeof xml !== 'string' || xml.trim().length === 0) {
    throw new AppError(HttpStatus.BAD_REQUEST, 'RELEASE_HISTORY.EMPTY', 'The request body must be a release-history XML document', [
      { field: 'body', messages: ['an XML document is required'] },
    ]);
  }
  if (Buffer.byteLength(xml, 'utf8') > MAX_RELEASE_HISTORY_BYTES) {
    throw new AppError(
      HttpStatus.PAYLOAD_TOO_LARGE,
      'RELEASE_HISTORY.TOO_LARGE',
      `A release history may not exceed ${MAX_RELEASE_HISTORY_BYTES} bytes`,
    );
  }
  if (FORBIDDEN_DECLARATION.test(xml)) {
    throw new AppError(
      HttpStatus.BAD_REQUEST,
      'RELEASE_HISTORY.FORBIDDEN_XML',
      'Document type and entity declarations are not accepted in a release history',
      [{ field: 'body', messages: ['DOCTYPE, ENTITY, ELEMENT, ATTLIST and NOTATION declarations are refused'] }],
    );
  }
  const reference = UNDEFINED_REFERENCE.exec(xml);
  if (reference) throw invalidXml(`undefined entity reference or bare "&" at offset ${reference.index}`);
  checkDepth(xml);
  const validation = XMLValidator.validate(xml);
  if (validation !== true) {
    throw invalidXml(`line ${validation.err.line}, column ${validation.err.col}: ${validation.err.msg}`);
  }
  const document = xmlParser.parse(xml) as Record<string, unknown>;
  return { wrapped: Object.hasOwn(document, 'projects'), histories: readDocument(document) };
}

/** Release histories are shallow; deep nesting only serves to exhaust the parser's stack. */
function checkDepth(xml: string): void {
  let depth = 0;
  const tags = /<(\/?)[A-Za-z_][^\s/>]*[^>]*?(\/?)>/g;
  for (let match = tags.exec(xml); match !== null; match = tags.exec(xml)) {
    if (match[1] === '/') depth--;
    else if (match[2] !== '/') depth++;
    if (depth > MAX_DEPTH) throw invalidXml(`elements are nested deeper than ${MAX_DEPTH} levels`);
  }
}

function readDocument(document: Record<string, unknown>): ReleaseHistory[] {
  const roots = Object.keys(document);
  const details: ErrorDetail[] = [];
  let histories: ReleaseHistory[] = [];
  if (roots.length === 1 && roots[0] === 'project') {
    histories = [readProject(document.project, 'project', details)];
  } else if (roots.length === 1 && roots[0] === 'projects') {
    const wrapper = document.projects;
    const projects = isRecord(wrapper) && Array.isArray(wrapper.project) ? (wrapper.project as unknown[]) : [];
    if (projects.length === 0) details.push({ field: 'projects', messages: ['must hold at least one <project>'] });
    if (projects.length > MAX_PROJECTS) details.push({ field: 'projects', messages: [`at most ${MAX_PROJECTS} projects`] });
    else histories = projects.map((project, index) => readProject(project, `projects.${index}`, details));
    const seen = new Set<string>();
    histories.forEach((history, index) => {
      if (history.name !== '' && seen.has(history.name)) {
        details.push({ field: `projects.${index}.short_name`, messages: [`${history.name} appears more than once`] });
      }
      seen.add(history.name);
    });
  } else {
    const error = roots.includes('error') && typeof document.error === 'string' ? `: ${document.error.slice(0, 200)}` : '';
    details.push({ field: 'body', messages: [`the root element must be <project> or <projects>${error}`] });
  }
  if (details.length > 0) {
    throw new AppError(HttpStatus.BAD_REQUEST, 'RELEASE_HISTORY.INVALID_DOCUMENT', 'The release history is not valid', details);
  }
  return histories;
}

function readProject(node: unknown, path: string, details: ErrorDetail[]): ReleaseHistory {
  const project = isRecord(node) ? node : {};
  const problem = (field: string, message: string) => details.push({ field: `${path}.${field}`, messages: [message] });

  const name = text(project.short_name);
  if (name === null) problem('short_name', 'is required');
  else if (!MACHINE_NAME_PATTERN.test(name)) problem('short_name', 'must be a Drupal machine name');

  const title = text(project.title);
  if (title !== null && title.length > 255) problem('title', 'must be at most 255 characters');

  const status = text(project.project_status);
  if (status === null) problem('project_status', 'is required');
  else if (!isOneOf(PROJECT_STATUSES, status)) problem('project_status', `must be one of ${PROJECT_STATUSES.join(', ')}`);

  const supportedBranches = splitSupportedBranches(text(project.supported_branches) ?? '');
  supportedBranches.forEach((branch) => {
    if (!parseDrupalBranch(branch)) problem('supported_branches', `"${branch.slice(0, 40)}" is not a branch like 8.x-1. or 2.0.`);
  });

  const releasesNode = project.releases;
  const releaseNodes = isRecord(releasesNode) && Array.isArray(releasesNode.release) ? (releasesNode.release as unknown[]) : [];
  if (releasesNode !== undefined && releasesNode !== '' && !isRecord(releasesNode)) problem('releases', 'must hold <release> elements');
  if (releaseNodes.length > MAX_RELEASES) problem('releases', `at most ${MAX_RELEASES} releases`);
  const releases = releaseNodes.slice(0, MAX_RELEASES).map((release, index) => readRelease(release, `${path}.releases.${index}`, details));
  const seen = new Set<string>();
  releases.forEach((release, index) => {
    if (release.version !== '' && seen.has(release.version)) {
      problem(`releases.${index}.version`, `${release.version} appears more than once`);
    }
    seen.add(release.version);
  });

  return {
    name: name ?? '',
    title,
    projectStatus: (status ?? 'published') as ProjectStatus,
    supportedBranches,
    releases,
  };
}

function readRelease(node: unknown, path: string, details: ErrorDetail[]): ReleaseRecord {
  const release = isRecord(node) ? node : {};
  const problem = (field: string, message: string) => details.push({ field: `${path}.${field}`, messages: [message] });

  const version = text(release.version);
  if (version === null) problem('version', 'is required');
  else if (!parseDrupalVersion(version)) problem('version', `"${version.slice(0, 70)}" is not a Drupal version`);

  const status = text(release.status);
  if (status === null) problem('status', 'is required');
  else if (!isOneOf(RELEASE_STATUSES, status)) problem('status', `must be one of ${RELEASE_STATUSES.join(', ')}`);

  const date = text(release.date);
  let releasedAt: Date | null = null;
  if (date !== null) {
    if (/^\d{1,11}$/.test(date)) releasedAt = new Date(Number(date) * 1000);
    else problem('date', 'must be a Unix timestamp in seconds');
  }

  const releaseTypes: string[] = [];
  const terms = release.terms;
  const termNodes = isRecord(terms) && Array.isArray(terms.term) ? (terms.term as unknown[]) : [];
  for (const term of termNodes) {
    if (!isRecord(term) || text(term.name) !== 'Release type') continue;
    const value = text(term.value);
    if (value === null || value.length > MAX_TERM_LENGTH) problem('terms', 'a Release type term needs a short value');
    else if (!releaseTypes.includes(value)) releaseTypes.push(value);
  }

  return {
    version: version ?? '',
    status: (status ?? 'published') as ReleaseStatus,
    releasedAt,
    releaseTypes,
    securityCovered: readSecurityCovered(release.security),
  };
}

function readSecurityCovered(node: unknown): boolean | null {
  if (!isRecord(node)) return null;
  const covered = node['@_covered'];
  if (covered === '1') return true;
  if (covered === '0') return false;
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** One pass, so `&amp;lt;` stays `&lt;`. */
function decodeReferences(value: string): string {
  return value.replace(/&(lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});/g, (reference, name: string) => {
    if (!name.startsWith('#')) return PREDEFINED_ENTITIES[name] ?? reference;
    const codePoint = name.startsWith('#x') ? parseInt(name.slice(2), 16) : Number(name.slice(1));
    return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : '\uFFFD';
  });
}

/** A leaf element's text; null when absent, empty, repeated or not a leaf. */
function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  return value.length > 0 ? decodeReferences(value) : null;
}

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}
