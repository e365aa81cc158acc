#!/usr/bin/env node
// Drupal site monitoring data for the benchmarks (issue 4): organizations, sites, a module catalog, each
// site's current modules, version history, a few release histories and patch runs with their updates.
//
// Set-based: every table is filled by one INSERT ... SELECT over generate_series (the catalog by one INSERT
// over unnest), in one transaction, never a statement per row. Deterministic: every choice is a hash of
// (seed, what, indices) and every timestamp is relative to a reference time, so the same seed, sizes and
// reference time give the same rows (ids included: md5-derived UUIDs).
//
//   node bench/sites-data.js --database-url postgresql://postgres@127.0.0.1:5432/opsdeck_bench_test \
//        [--organizations 20] [--sites 2000] [--modules 150] [--versions 6] [--patch-runs 10] [--catalog 600] \
//        [--history 2] [--seed 1] [--reference-time 2026-11-25T18:00:00Z] [--reset]
//   node bench/sites-data.js --pglite DIR ...      # an embedded (PGlite) data directory instead; the server must be stopped
//
// As a module: `await generateSitesData(executor, options)` with `pgExecutor(url)` or `pgliteExecutor(dir)`.
// The migrations must have run (the sites tables exist). Organizations are created here, in SQL; users are not.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { integerInRange } from './lib.js';

export const DEFAULT_SIZES = Object.freeze({
  organizations: 20,
  sites: 2000,
  modules: 150, // per site
  versions: 6, // distinct releases per project; sites run one of them
  patchRuns: 10, // per site, over the last 12 weeks
  catalog: 600, // distinct module machine names
  history: 2, // up to this many earlier versions per site module in module_versions
  releaseProjectShare: 0.05, // share of contrib projects with an imported release history
  deletedSiteShare: 0.01, // extra soft-deleted sites (without modules), on top of `sites`
  seed: 1,
});

export const QUICK_SIZES = Object.freeze({ ...DEFAULT_SIZES, organizations: 4, sites: 200, modules: 60, catalog: 200, patchRuns: 4 });

// ---------------------------------------------------------------------------------------------- catalog

const CORE_MODULES = [
  'system', 'user', 'node', 'field', 'text', 'filter', 'block', 'block_content', 'views', 'views_ui', 'field_ui',
  'ckeditor5', 'editor', 'comment', 'config', 'contact', 'contextual', 'datetime', 'dblog', 'file', 'help',
  'history', 'image', 'link', 'menu_link_content', 'menu_ui', 'options', 'page_cache', 'path', 'path_alias',
  'search', 'shortcut', 'taxonomy', 'toolbar', 'update', 'dynamic_page_cache', 'big_pipe', 'breakpoint',
  'responsive_image', 'media', 'media_library', 'language', 'locale', 'content_translation', 'workflows',
  'content_moderation', 'serialization', 'rest', 'jsonapi', 'automated_cron',
];
const CORE_THEMES = ['olivero', 'claro', 'stark'];
const CORE_PROFILES = ['standard'];

// Real contrib projects (most popular first) with some of their submodules; the first module is the project's.
const CONTRIB_PROJECTS = [
  ['admin_toolbar', 'admin_toolbar_tools', 'admin_toolbar_search'], ['pathauto'], ['token'], ['ctools', 'ctools_block'],
  ['metatag', 'metatag_open_graph', 'metatag_twitter_cards'], ['redirect', 'redirect_404'], ['webform', 'webform_ui', 'webform_node'],
  ['google_analytics'], ['captcha', 'image_captcha'], ['recaptcha'], ['entity_reference_revisions'], ['paragraphs', 'paragraphs_library'],
  ['xmlsitemap'], ['simple_sitemap'], ['field_group'], ['views_bulk_operations'], ['linkit'], ['editor_advanced_link'],
  ['smtp'], ['mailsystem'], ['honeypot'], ['devel', 'devel_generate'], ['backup_migrate'], ['module_filter'],
  ['ckeditor5_plugin_pack'], ['entity_browser', 'entity_browser_entity_form'], ['inline_entity_form'], ['config_split'],
  ['config_filter'], ['config_ignore'], ['environment_indicator'], ['stage_file_proxy'], ['diff'], ['scheduler'],
  ['menu_block'], ['superfish'], ['fontawesome'], ['svg_image'], ['focal_point'], ['crop'], ['imce'], ['media_entity_download'],
  ['search_api', 'search_api_db'], ['search_api_solr'], ['facets'], ['better_exposed_filters'], ['views_infinite_scroll'],
  ['address'], ['geofield'], ['geolocation'], ['leaflet'], ['commerce', 'commerce_cart', 'commerce_checkout', 'commerce_order'],
  ['profile'], ['flag'], ['votingapi'], ['rules'], ['eca', 'eca_base', 'eca_content'], ['workbench_moderation'], ['content_lock'],
  ['masquerade'], ['login_security'], ['password_policy'], ['tfa'], ['seckit'], ['security_review'], ['autologout'],
  ['r4032login'], ['role_delegation'], ['realname'], ['email_registration'], ['gin_toolbar'], ['gin_login'], ['layout_builder_restrictions'],
  ['layout_paragraphs'], ['blazy'], ['slick'], ['colorbox'], ['video_embed_field'], ['oembed_providers'], ['embed'], ['entity_embed'],
  ['field_permissions'], ['conditional_fields'], ['allowed_formats'], ['maxlength'], ['clientside_validation'], ['twig_tweak'],
  ['twig_field_value'], ['components'], ['ui_patterns'], ['block_class'], ['block_visibility_groups'], ['context'], ['easy_breadcrumb'],
  ['menu_trail_by_path'], ['pathologic'], ['transliterate_filenames'], ['file_mdm'], ['image_effects'], ['imageapi_optimize'],
  ['advagg'], ['purge', 'purge_ui', 'purge_queuer_coretags'], ['varnish_purge'], ['memcache'], ['redis'], ['ultimate_cron'],
  ['queue_ui'], ['health_check'], ['monitoring'], ['sentry'], ['raven'], ['key'], ['encrypt'], ['real_aes'], ['openid_connect'],
  ['simplesamlphp_auth'], ['samlauth'], ['ldap', 'ldap_servers', 'ldap_user'], ['externalauth'], ['consumers'], ['simple_oauth'],
  ['jsonapi_extras'], ['restui'], ['graphql'], ['feeds', 'feeds_ex'], ['migrate_plus'], ['migrate_tools'], ['migrate_upgrade'],
  ['entity_clone'], ['entity_usage'], ['node_revision_delete'], ['content_access'], ['permissions_by_term'], ['group', 'gnode'],
  ['domain', 'domain_access'], ['tmgmt', 'tmgmt_content'], ['language_switcher'], ['lingotek'], ['gtranslate'], ['charts'],
  ['chart_js'], ['calendar'], ['fullcalendar_view'], ['office_hours'], ['smart_date'], ['date_recur'], ['bootstrap_barrio'],
  ['bootstrap5'], ['gin'], ['adminimal_theme'],
];
const THEME_PROJECTS = new Set(['bootstrap_barrio', 'bootstrap5', 'gin', 'adminimal_theme']);
const POPULAR_CONTRIB = 12; // the first projects in the list run on every site, like on real Drupal fleets

const SYNTHETIC_WORDS = [
  'acme', 'atlas', 'beacon', 'cedar', 'delta', 'ember', 'fjord', 'garnet', 'harbor', 'indigo', 'juniper', 'kestrel',
  'lumen', 'meridian', 'nimbus', 'orchid', 'prairie', 'quartz', 'rowan', 'summit', 'tundra', 'umber', 'vesper', 'willow',
];

/** A small deterministic PRNG (mulberry32) for the catalog, which is built in JS and inserted in one statement. */
function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The module catalog, popular first: core (project drupal), then real contrib, then synthetic projects of 1-3
 * modules until `size` names. Each project has a version format: legacy `8.x-M.N` (about 40 % of contrib) or
 * semantic `M.m.p`; core modules run the site's core version `10.3.N` or `11.0.N`.
 */
export function buildCatalog(size, seed) {
  const random = prng(seed * 7919 + 17);
  const modules = [];
  const projects = new Map(); // name -> { name, format, major, minor, base, index }
  const addProject = (name, format, major, minor, base) => {
    if (!projects.has(name)) projects.set(name, { name, format, major, minor, base, index: projects.size });
    return projects.get(name);
  };
  const core = addProject('drupal', 'core', 10, 3, 0);
  for (const name of CORE_MODULES) modules.push({ name, project: core.name, type: 'core' });
  for (const name of CORE_THEMES) modules.push({ name, project: core.name, type: 'theme' });
  for (const name of CORE_PROFILES) modules.push({ name, project: core.name, type: 'profile' });
  const contribProject = (name) => {
    const legacy = random() < 0.4;
    return legacy
      ? addProject(name, 'legacy', 1 + Math.floor(random() * 3), 0, Math.floor(random() * 30))
      : addProject(name, 'semver', 1 + Math.floor(random() * 4), Math.floor(random() * 12), Math.floor(random() * 8));
  };
  let popularModules = modules.length;
  CONTRIB_PROJECTS.forEach((names, index) => {
    const project = contribProject(names[0]);
    for (const name of names) modules.push({ name, project: project.name, type: THEME_PROJECTS.has(project.name) ? 'theme' : 'module' });
    if (index < POPULAR_CONTRIB) popularModules = modules.length;
  });
  for (let n = 1; modules.length < size; n++) {
    const word = SYNTHETIC_WORDS[(n - 1) % SYNTHETIC_WORDS.length];
    const projectName = `${word}_${String(n).padStart(3, '0')}`;
    const project = contribProject(projectName);
    const count = 1 + Math.floor(random() * 3);
    for (let i = 0; i < count && modules.length < size; i++) {
      modules.push({ name: i === 0 ? projectName : `${projectName}_${['ui', 'extra', 'views', 'api'][i - 1]}`, project: project.name, type: 'module' });
    }
  }
  const list = modules.slice(0, size).map((module, idx) => ({ idx, ...module }));
  const used = new Set(list.map((m) => m.project));
  return { modules: list, projects: [...projects.values()].filter((p) => used.has(p.name)), popular: Math.min(popularModules, list.length) };
}

/** Version k (0-based, k = versions - 1 is the latest) of a project, the same string the SQL builds. */
export function versionString(project, k) {
  if (project.format === 'legacy') return `8.x-${project.major}.${project.base + k}`;
  return `${project.major}.${project.minor}.${project.base + k}`;
}

// ---------------------------------------------------------------------------------------------- executors

/** A pg client on a database URL. */
export async function pgExecutor(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, statement_timeout: 600_000 });
  await client.connect();
  return {
    kind: 'postgresql',
    query: async (sql, params) => (await client.query(sql, params)).rows,
    close: () => client.end(),
  };
}

/** PGlite opened on the embedded data directory (DATA_DIR/pglite); OpsDeck must not be running on it. */
export async function pgliteExecutor(dir) {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dir, { postgresqlconf: ['shared_buffers = 32MB', 'work_mem = 16MB', 'maintenance_work_mem = 64MB'] });
  return {
    kind: 'pglite',
    query: async (sql, params) => (await db.query(sql, params)).rows,
    close: () => db.close(),
  };
}

// ---------------------------------------------------------------------------------------------- SQL helpers

/** A hash of a text expression as a bigint in [0, 2^32): deterministic, evaluated per row. */
const hash = (expr) => `((('x' || substr(md5(${expr}), 1, 8))::bit(32)::int)::bigint + 2147483648)`;
/** The same as a fraction in [0, 1). */
const frac = (expr) => `(${hash(expr)}::float8 / 4294967296.0)`;
/** A UUID from the md5 of a text expression, with the version 4 and variant bits set (validators check them). */
const uuidOf = (expr) => `overlay(overlay(md5(${expr}) placing '4' from 13) placing '8' from 17)::uuid`;

/** The same in JS: the id the generator gives to `text` (e.g. '1:site:0', '1:org:1'). */
export function generatedId(text) {
  const hex = createHash('md5').update(text).digest('hex');
  const v4 = `${hex.slice(0, 12)}4${hex.slice(13, 16)}8${hex.slice(17)}`;
  return `${v4.slice(0, 8)}-${v4.slice(8, 12)}-${v4.slice(12, 16)}-${v4.slice(16, 20)}-${v4.slice(20)}`;
}

function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}


export function normalizeSizes(input = {}) {
  const sizes = { ...DEFAULT_SIZES, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
  sizes.organizations = integerInRange('organizations', sizes.organizations, 1, 1000);
  sizes.sites = integerInRange('sites', sizes.sites, 1, 200_000);
  sizes.catalog = integerInRange('catalog', sizes.catalog, 60, 20_000);
  sizes.modules = integerInRange('modules', sizes.modules, 1, sizes.catalog);
  sizes.versions = integerInRange('versions', sizes.versions, 2, 100);
  sizes.patchRuns = integerInRange('patch-runs', sizes.patchRuns, 0, 1000);
  sizes.history = integerInRange('history', sizes.history, 0, sizes.versions - 1);
  sizes.seed = integerInRange('seed', sizes.seed, 0, 2 ** 31 - 1);
  return sizes;
}

// ---------------------------------------------------------------------------------------------- generator

/**
 * Fills the sites tables. `executor` is { query(sql, params) }; `options` are the sizes above plus
 * `referenceTime` (a Date; default: the current hour) and `reset` (empty the sites tables first; otherwise they
 * must be empty). Returns { sizes, reference_time, rows, timings_ms, total_ms }.
 */
export async function generateSitesData(executor, options = {}) {
  const sizes = normalizeSizes(options);
  const reference = options.referenceTime ? new Date(options.referenceTime) : new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  if (Number.isNaN(reference.getTime())) throw new Error(`invalid reference time: ${options.referenceTime}`);
  const ref = `'${reference.toISOString()}'::timestamptz`;
  const seed = sizes.seed;
  const S = `'${seed}`; // the start of every hash key: '<seed>:<what>:...'
  const { modules: catalog, projects, popular } = buildCatalog(sizes.catalog, seed);
  const C = catalog.length;
  const M = sizes.modules;
  const V = sizes.versions;
  // Popular modules (core + the most used contrib) run on every site; the rest of each site's modules are a
  // stride through the remaining catalog, starting at a per-site offset, with a per-site step coprime to its size.
  const P = Math.min(popular, Math.floor(M * 0.6));
  const rest = C - P;
  const steps = [];
  for (let step = 1; step < rest && steps.length < 64; step++) if (gcd(step, rest) === 1) steps.push(step);
  if (steps.length === 0) steps.push(1);
  const deletedSites = Math.ceil(sizes.sites * sizes.deletedSiteShare);

  const timings = {};
  const step = async (name, sql, params) => {
    const started = performance.now();
    const rows = await executor.query(sql, params);
    timings[name] = Math.round((performance.now() - started) + (timings[name] ?? 0));
    return rows;
  };
  const started = performance.now();
  // Skipping the FK triggers needs a superuser (PGlite's postgres is one); otherwise they run.
  const [{ superuser }] = await step('begin', 'SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user');
  const skipForeignKeyChecks = options.foreignKeyChecks === false || (options.foreignKeyChecks !== true && superuser === true);
  await step('begin', 'BEGIN');
  try {
    // Bulk-load settings for this transaction only: memory for the sorts and hashes, no wait for the WAL flush.
    await step('begin', "SET LOCAL work_mem = '64MB'");
    await step('begin', 'SET LOCAL synchronous_commit = off');
    if (skipForeignKeyChecks) {
      // Every row references rows inserted here, in this transaction, by construction; replica mode skips the
      // per-row FK triggers (half the time of the load). Checked afterwards by anti-joins (verify).
      await step('begin', 'SET LOCAL session_replication_role = replica');
    }
    const [{ count: existing }] = await step('check', 'SELECT count(*)::int AS count FROM sites');
    if (existing > 0 && !options.reset) throw new Error(`the sites table already has ${existing} rows (use --reset to empty the sites tables first)`);
    if (options.reset) {
      await step('reset', 'DELETE FROM api_keys WHERE site_id IS NOT NULL');
      await step('reset', 'TRUNCATE patch_run_updates, patch_runs, module_versions, site_modules, releases, release_projects, modules');
      await step('reset', 'DELETE FROM sites');
    }
    for (const table of ['bench_orgs', 'bench_projects', 'bench_catalog', 'bench_versions', 'bench_sites', 'bench_sm', 'bench_runs']) {
      await step('temp', `DROP TABLE IF EXISTS pg_temp.${table}`);
    }

    // Organizations: "Bench Org 001".., created unless they exist (live, same name).
    await step(
      'organizations',
      `INSERT INTO organizations (id, name, description, created_at, updated_at)
       SELECT ${uuidOf(`${S}:org:' || i`)}, 'Bench Org ' || lpad(i::text, 3, '0'), 'Generated by bench/sites-data.js',
              ${ref} - interval '400 days', ${ref} - interval '400 days'
       FROM generate_series(1, $1::int) AS i
       ON CONFLICT DO NOTHING`,
      [sizes.organizations],
    );
    await step(
      'organizations',
      `CREATE TEMP TABLE bench_orgs AS
       SELECT i - 1 AS idx, o.id FROM generate_series(1, $1::int) AS i
       JOIN organizations o ON lower(o.name) = lower('Bench Org ' || lpad(i::text, 3, '0')) AND o.deleted_at IS NULL`,
      [sizes.organizations],
    );
    const [{ count: orgCount }] = await step('organizations', 'SELECT count(*)::int AS count FROM bench_orgs');
    if (orgCount !== sizes.organizations) throw new Error(`expected ${sizes.organizations} bench organizations, found ${orgCount}`);

    // The catalog and each project's versions (k = 0 .. V-1; V-1 is the latest release).
    await step(
      'catalog',
      `CREATE TEMP TABLE bench_projects AS
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::int[], $6::int[]) AS p(name, format, major, minor, base, idx)`,
      [projects.map((p) => p.name), projects.map((p) => p.format), projects.map((p) => p.major), projects.map((p) => p.minor), projects.map((p) => p.base), projects.map((p) => p.index)],
    );
    await step(
      'catalog',
      `CREATE TEMP TABLE bench_catalog AS
       SELECT c.idx, ${uuidOf(`${S}:module:' || c.name`)} AS id, c.name, c.project, c.type
       FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS c(idx, name, project, type)`,
      [catalog.map((m) => m.idx), catalog.map((m) => m.name), catalog.map((m) => m.project), catalog.map((m) => m.type)],
    );
    await step(
      'catalog',
      `INSERT INTO modules (id, name, project, type, created_at, updated_at)
       SELECT id, name, project, type, ${ref} - interval '400 days', ${ref} - interval '1 day' FROM bench_catalog ORDER BY idx
       ON CONFLICT (name) DO NOTHING`,
    );
    await step('catalog', 'UPDATE bench_catalog c SET id = m.id FROM modules m WHERE m.name = c.name AND m.id <> c.id');
    await step('catalog', 'CREATE UNIQUE INDEX ON bench_catalog (idx)');
    await step(
      'catalog',
      `CREATE TEMP TABLE bench_versions AS
       SELECT p.name AS project, k,
              CASE p.format WHEN 'legacy' THEN '8.x-' || p.major || '.' || (p.base + k)
                            WHEN 'core' THEN p.major || '.' || p.minor || '.' || k
                            ELSE p.major || '.' || p.minor || '.' || (p.base + k) END AS version
       FROM bench_projects p CROSS JOIN generate_series(0, $1::int - 1) AS k`,
      [V],
    );
    await step('catalog', 'CREATE UNIQUE INDEX ON bench_versions (project, k)');

    // Sites: names from word pairs (so name order is not id order), URLs unique, core version per site.
    await step(
      'sites',
      `CREATE TEMP TABLE bench_sites AS
       SELECT s AS idx, ${uuidOf(`${S}:site:' || s`)} AS id, o.id AS organization_id,
              -- core: most sites on the latest or the one before, some behind (update/security)
              CASE WHEN ${frac(`${S}:core:' || s`)} < 0.88 THEN $2::int - 1 ELSE (${hash(`${S}:corek:' || s`)} % ($2::int - 1))::int END AS core_k,
              ($3::int[])[1 + (${hash(`${S}:step:' || s`)} % cardinality($3::int[]))::int] AS step,
              (${hash(`${S}:off:' || s`)} % GREATEST($4::int, 1))::int AS off,
              ${ref} - make_interval(days => 30 + (${hash(`${S}:created:' || s`)} % 700)::int) AS created_at,
              ${ref} - make_interval(secs => (${hash(`${S}:report:' || s`)} % 604800)::int) AS last_report_at
       FROM generate_series(0, $1::int - 1) AS s
       JOIN bench_orgs o ON o.idx = s % $5::int`,
      [sizes.sites, V, steps, rest, sizes.organizations],
    );
    await step('sites', 'CREATE UNIQUE INDEX ON bench_sites (idx)');
    const siteWords1 = ['Alpine', 'Harbor', 'Museum', 'City', 'County', 'River', 'Library', 'Campus', 'Clinic', 'Garden', 'Festival', 'Council', 'Theatre', 'Archive', 'Harvest', 'Coastal'];
    const siteWords2 = ['Portal', 'Intranet', 'Shop', 'News', 'Events', 'Careers', 'Journal', 'Alumni', 'Press', 'Directory', 'Blog', 'Services'];
    await step(
      'sites',
      `INSERT INTO sites (id, organization_id, name, url, description, drupal_version, php_version, last_report_at, created_at, updated_at)
       SELECT b.id, b.organization_id,
              ($1::text[])[1 + (${hash(`${S}:w1:' || b.idx`)} % cardinality($1::text[]))::int] || ' '
                || ($2::text[])[1 + (${hash(`${S}:w2:' || b.idx`)} % cardinality($2::text[]))::int] || ' ' || (b.idx + 1),
              'https://site-' || lpad((b.idx + 1)::text, 5, '0') || '.bench.example',
              CASE WHEN b.idx % 3 = 0 THEN 'Generated site ' || (b.idx + 1) END,
              v.version,
              (ARRAY['8.1.31', '8.2.26', '8.3.14', '8.3.14', '8.4.1'])[1 + (${hash(`${S}:php:' || b.idx`)} % 5)::int],
              b.last_report_at, b.created_at, b.last_report_at
       FROM bench_sites b JOIN bench_versions v ON v.project = 'drupal' AND v.k = b.core_k
       ORDER BY b.idx`,
      [siteWords1, siteWords2],
    );
    // A few soft-deleted sites (no modules), so every list has to filter on deleted_at.
    await step(
      'sites',
      `INSERT INTO sites (id, organization_id, name, url, drupal_version, created_at, updated_at, deleted_at)
       SELECT ${uuidOf(`${S}:deleted-site:' || d`)}, o.id, 'Decommissioned ' || d, 'https://old-' || d || '.bench.example', '10.2.0',
              ${ref} - interval '600 days', ${ref} - interval '100 days', ${ref} - interval '100 days'
       FROM generate_series(1, $1::int) AS d JOIN bench_orgs o ON o.idx = d % $2::int`,
      [deletedSites, sizes.organizations],
    );

    // Each site's modules: P popular ones, then the stride. Status per (site, project): ~3 % security, ~10 % update.
    await step(
      'site_modules (plan)',
      `CREATE TEMP TABLE bench_sm AS
       WITH picks AS (
         SELECT b.idx AS site_idx, b.id AS site_id, b.core_k, b.created_at, b.last_report_at, j,
                CASE WHEN j < $2::int THEN j ELSE $2::int + ((b.off + (j - $2::int) * b.step) % $3::int) END AS module_idx
         FROM bench_sites b CROSS JOIN generate_series(0, $1::int - 1) AS j
       ), rolled AS (
         SELECT p.*, c.id AS module_id, c.project, ${frac(`${S}:u:' || p.site_idx || ':' || c.project`)} AS u,
                ${hash(`${S}:k:' || p.site_idx || ':' || c.project`)} AS hk
         FROM picks p JOIN bench_catalog c ON c.idx = p.module_idx
       )
       SELECT site_idx, site_id, module_idx, module_id, project, created_at, last_report_at, j,
              CASE WHEN project = 'drupal' THEN core_k
                   WHEN u < 0.14 THEN (hk % ($4::int - 1))::int
                   ELSE $4::int - 1 END AS k,
              CASE WHEN project = 'drupal' THEN
                     CASE WHEN core_k >= $4::int - 1 THEN 'current' WHEN core_k < ($4::int - 1) * 2 / 5 THEN 'security_update' ELSE 'update_available' END
                   WHEN u < 0.02 THEN 'security_update' WHEN u < 0.14 THEN 'update_available' ELSE 'current' END AS update_status,
              hk
       FROM rolled`,
      [M, P, Math.max(rest, 1), V],
    );
    await step(
      'site_modules',
      `INSERT INTO site_modules (site_id, module_id, installed_version, status, reported_latest_version, reported_update_available,
                                 reported_security_update, update_status, recommended_version, status_source, update_available_since,
                                 first_seen_at, last_seen_at)
       SELECT sm.site_id, sm.module_id, v.version,
              CASE WHEN sm.project <> 'drupal' AND ${frac(`${S}:disabled:' || sm.site_idx || ':' || sm.module_idx`)} < 0.05 THEN 'disabled' ELSE 'enabled' END,
              lv.version, sm.update_status <> 'current', sm.update_status = 'security_update', sm.update_status,
              CASE WHEN sm.update_status <> 'current' THEN lv.version END,
              CASE WHEN rp.name IS NOT NULL THEN 'release_history' ELSE 'site_report' END,
              CASE WHEN sm.update_status <> 'current' THEN sm.last_report_at - make_interval(hours => 1 + (sm.hk % 2160)::int) END,
              GREATEST(sm.created_at, ${ref} - make_interval(days => 20 * ($2::int - sm.k) + (sm.hk % 20)::int)),
              sm.last_report_at
       FROM bench_sm sm
       JOIN bench_versions v ON v.project = sm.project AND v.k = sm.k
       JOIN bench_versions lv ON lv.project = sm.project AND lv.k = $1::int - 1
       LEFT JOIN (SELECT name FROM bench_projects WHERE format <> 'core' AND ${frac(`${S}:rp:' || name`)} < $3::float8) rp ON rp.name = sm.project
       ORDER BY sm.site_id, sm.module_id`,
      [V, V, sizes.releaseProjectShare],
    );

    // Version history: the installed version and up to `history` earlier ones per site module. An earlier
    // version was seen until it was replaced; its update was known some days before that.
    await step(
      'module_versions',
      `INSERT INTO module_versions (module_id, version, site_id, first_seen_at, last_seen_at, update_known_at)
       SELECT sm.module_id, v.version, sm.site_id,
              GREATEST(sm.created_at, ${ref} - make_interval(days => 20 * ($1::int - sm.k + d + 1) + (sm.hk % 20)::int)),
              CASE WHEN d = 0 THEN sm.last_report_at
                   ELSE GREATEST(sm.created_at, ${ref} - make_interval(days => 20 * ($1::int - sm.k + d) + (sm.hk % 20)::int)) END,
              CASE WHEN d = 0 THEN
                     CASE WHEN sm.update_status <> 'current' THEN sm.last_report_at - make_interval(hours => 1 + (sm.hk % 2160)::int) END
                   ELSE GREATEST(sm.created_at, ${ref} - make_interval(days => 20 * ($1::int - sm.k + d) + (sm.hk % 20)::int + 1 + (sm.hk % 9)::int)) END
       FROM bench_sm sm
       CROSS JOIN LATERAL generate_series(0, LEAST(sm.k, (sm.hk / 7 % ($2::int + 1))::int)) AS d
       JOIN bench_versions v ON v.project = sm.project AND v.k = sm.k - d
       ORDER BY 1, 2, 3`,
      [V, sizes.history],
    );

    // Release histories for a share of contrib projects: every version published, the latest one a security
    // release for half of them.
    await step(
      'releases',
      `INSERT INTO release_projects (name, title, project_status, supported_branches, imported_at)
       SELECT p.name, initcap(replace(p.name, '_', ' ')), 'published',
              CASE p.format WHEN 'legacy' THEN ARRAY['8.x-' || p.major || '.'] ELSE ARRAY[p.major || '.' || p.minor || '.'] END,
              ${ref} - interval '1 day'
       FROM bench_projects p WHERE p.format <> 'core' AND ${frac(`${S}:rp:' || p.name`)} < $1::float8`,
      [sizes.releaseProjectShare],
    );
    await step(
      'releases',
      `INSERT INTO releases (project, version, status, released_at, release_types, security_covered)
       SELECT v.project, v.version, 'published', ${ref} - make_interval(days => 20 * ($1::int - v.k)),
              CASE WHEN v.k = $1::int - 1 AND ${hash(`${S}:sec:' || v.project`)} % 2 = 0 THEN ARRAY['Security update', 'Bug fixes']
                   ELSE ARRAY['Bug fixes', 'New features'] END,
              true
       FROM bench_versions v JOIN release_projects rp ON rp.name = v.project`,
      [V],
    );

    // Patch runs over the last 12 weeks: ~80 % succeeded, ~12 % partial, ~8 % failed; updates per run.
    await step(
      'patch_runs',
      `CREATE TEMP TABLE bench_runs AS
       SELECT b.idx AS site_idx, b.id AS site_id, r, ${uuidOf(`${S}:run:' || b.idx || ':' || r`)} AS id,
              ${ref} - make_interval(secs => (${hash(`${S}:finished:' || b.idx || ':' || r`)} % (84 * 86400))::int) AS finished_at,
              (5 + ${hash(`${S}:duration:' || b.idx || ':' || r`)} % 55)::int AS minutes,
              CASE WHEN ${frac(`${S}:status:' || b.idx || ':' || r`)} < 0.80 THEN 'succeeded'
                   WHEN ${frac(`${S}:status:' || b.idx || ':' || r`)} < 0.92 THEN 'partial' ELSE 'failed' END AS status,
              ${hash(`${S}:n:' || b.idx || ':' || r`)} AS hn, b.step, b.off
       FROM bench_sites b CROSS JOIN generate_series(0, $1::int - 1) AS r`,
      [sizes.patchRuns],
    );
    await step('patch_runs', 'ALTER TABLE bench_runs ADD COLUMN updates int');
    await step('patch_runs', "UPDATE bench_runs SET updates = CASE status WHEN 'succeeded' THEN 1 + (hn % 8)::int WHEN 'partial' THEN 1 + (hn % 4)::int ELSE 0 END");
    await step(
      'patch_runs',
      `INSERT INTO patch_runs (id, site_id, started_at, finished_at, status, notes, modules_updated, created_at)
       SELECT id, site_id, finished_at - make_interval(mins => minutes), finished_at, status,
              CASE status WHEN 'failed' THEN 'composer update failed: dependency conflict' WHEN 'partial' THEN 'some updates rolled back' END,
              updates, finished_at
       FROM bench_runs ORDER BY site_idx, r`,
    );
    // Each update: one of the site's modules (distinct within a run), from one version to the next; the update
    // was known 12 h to 30 days before the run finished. About 2 % name a module outside the catalog.
    await step(
      'patch_run_updates',
      `INSERT INTO patch_run_updates (patch_run_id, position, module, module_id, from_version, to_version, update_known_at)
       SELECT r.id, pos,
              CASE WHEN ${frac(`${S}:custom:' || r.site_idx || ':' || r.r || ':' || pos`)} < 0.02 THEN 'custom_' || (r.site_idx % 50) || '_' || pos ELSE c.name END,
              CASE WHEN ${frac(`${S}:custom:' || r.site_idx || ':' || r.r || ':' || pos`)} < 0.02 THEN NULL ELSE c.id END,
              fv.version, tv.version,
              r.finished_at - make_interval(hours => 12 + (${hash(`${S}:known:' || r.site_idx || ':' || r.r || ':' || pos`)} % 708)::int)
       FROM bench_runs r
       CROSS JOIN LATERAL generate_series(1, r.updates) AS pos
       CROSS JOIN LATERAL (SELECT ((r.hn / 11) % $1::int + pos - 1) % $1::int AS j) AS pick
       JOIN bench_catalog c ON c.idx = CASE WHEN pick.j < $2::int THEN pick.j ELSE $2::int + ((r.off + (pick.j - $2::int) * r.step) % $3::int) END
       CROSS JOIN LATERAL (SELECT (${hash(`${S}:from:' || r.site_idx || ':' || r.r || ':' || pos`)} % ($4::int - 1))::int AS k) AS kk
       JOIN bench_versions fv ON fv.project = c.project AND fv.k = kk.k
       JOIN bench_versions tv ON tv.project = c.project AND tv.k = kk.k + 1`,
      [M, P, Math.max(rest, 1), V],
    );

    for (const table of ['bench_orgs', 'bench_projects', 'bench_catalog', 'bench_versions', 'bench_sites', 'bench_sm', 'bench_runs']) {
      await step('temp', `DROP TABLE pg_temp.${table}`);
    }
    if (skipForeignKeyChecks) {
      const [orphans] = await step(
        'verify',
        `SELECT
           (SELECT count(*) FROM site_modules x WHERE NOT EXISTS (SELECT 1 FROM sites s WHERE s.id = x.site_id)
                                                   OR NOT EXISTS (SELECT 1 FROM modules m WHERE m.id = x.module_id))::int AS site_modules,
           (SELECT count(*) FROM module_versions x WHERE NOT EXISTS (SELECT 1 FROM sites s WHERE s.id = x.site_id)
                                                      OR NOT EXISTS (SELECT 1 FROM modules m WHERE m.id = x.module_id))::int AS module_versions,
           (SELECT count(*) FROM patch_runs x WHERE NOT EXISTS (SELECT 1 FROM sites s WHERE s.id = x.site_id))::int AS patch_runs,
           (SELECT count(*) FROM patch_run_updates x WHERE NOT EXISTS (SELECT 1 FROM patch_runs r WHERE r.id = x.patch_run_id)
              OR (x.module_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM modules m WHERE m.id = x.module_id)))::int AS patch_run_updates,
           (SELECT count(*) FROM sites x WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = x.organization_id))::int AS sites,
           (SELECT count(*) FROM releases x WHERE NOT EXISTS (SELECT 1 FROM release_projects p WHERE p.name = x.project))::int AS releases`,
      );
      const broken = Object.entries(orphans).filter(([, n]) => n > 0);
      if (broken.length > 0) throw new Error(`generated rows break foreign keys: ${JSON.stringify(Object.fromEntries(broken))}`);
    }
    await step('commit', 'COMMIT');
  } catch (error) {
    await executor.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  for (const table of ['organizations', 'sites', 'modules', 'site_modules', 'module_versions', 'release_projects', 'releases', 'patch_runs', 'patch_run_updates']) {
    await step('analyze', `ANALYZE ${table}`);
  }
  const counts = await executor.query(`
    SELECT (SELECT count(*) FROM sites WHERE deleted_at IS NULL)::int AS live_sites,
           (SELECT count(*) FROM sites WHERE deleted_at IS NOT NULL)::int AS deleted_sites,
           (SELECT count(*) FROM modules)::int AS modules,
           (SELECT count(*) FROM site_modules)::int AS site_modules,
           (SELECT count(*) FROM site_modules WHERE update_status = 'update_available')::int AS update_available,
           (SELECT count(*) FROM site_modules WHERE update_status = 'security_update')::int AS security_update,
           (SELECT count(*) FROM module_versions)::int AS module_versions,
           (SELECT count(*) FROM release_projects)::int AS release_projects,
           (SELECT count(*) FROM releases)::int AS releases,
           (SELECT count(*) FROM patch_runs)::int AS patch_runs,
           (SELECT count(*) FROM patch_run_updates)::int AS patch_run_updates`);
  return {
    sizes,
    reference_time: reference.toISOString(),
    foreign_key_triggers: skipForeignKeyChecks ? 'skipped during the load, verified by anti-joins' : 'checked per row',
    popular_modules_per_site: P,
    rows: counts[0],
    timings_ms: timings,
    total_ms: Math.round(performance.now() - started),
  };
}

/** Module names (and their projects) the generator puts in the catalog, for building report bodies. */
export function catalogFor(options = {}) {
  const sizes = normalizeSizes(options);
  return buildCatalog(sizes.catalog, sizes.seed);
}

// ---------------------------------------------------------------------------------------------- CLI

const USAGE = `usage: node bench/sites-data.js (--database-url URL | --pglite DIR) [--organizations N] [--sites N] [--modules N]
       [--versions N] [--patch-runs N] [--catalog N] [--history N] [--seed N] [--reference-time ISO] [--quick] [--reset] [--fk-checks]
DATABASE_URL is used when neither --database-url nor --pglite is given. As a superuser the FK triggers are skipped
during the load (session_replication_role = replica) and the references verified afterwards; --fk-checks keeps them.`;

async function cli(argv) {
  const options = {};
  let url = process.env.DATABASE_URL ?? null;
  let pgliteDir = null;
  const names = { organizations: 'organizations', sites: 'sites', modules: 'modules', versions: 'versions', 'patch-runs': 'patchRuns', catalog: 'catalog', history: 'history', seed: 'seed' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    if (arg === '--reset') {
      options.reset = true;
      continue;
    }
    if (arg === '--fk-checks') {
      options.foreignKeyChecks = true;
      continue;
    }
    if (arg === '--quick') {
      Object.assign(options, QUICK_SIZES, options);
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument: ${arg}\n${USAGE}`);
    const value = match[2] ?? argv[++i];
    if (match[1] === 'database-url') url = value;
    else if (match[1] === 'pglite') pgliteDir = value;
    else if (match[1] === 'reference-time') options.referenceTime = value;
    else if (names[match[1]]) options[names[match[1]]] = Number(value);
    else throw new Error(`unknown argument: ${arg}\n${USAGE}`);
  }
  if (!url && !pgliteDir) throw new Error(`no database\n${USAGE}`);
  const executor = pgliteDir ? await pgliteExecutor(path.resolve(pgliteDir)) : await pgExecutor(url);
  try {
    const result = await generateSitesData(executor, options);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await executor.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  cli(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`sites-data: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

export const SCRIPT = fileURLToPath(import.meta.url);
