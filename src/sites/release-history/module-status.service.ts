import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * Keeps site_modules.update_status (and what goes with it) up to date. Modules whose project has a known
 * release history are evaluated by OpsDeck; the rest take the site's own flags.
 */
@Injectable()
export class ModuleStatusService {
  /** Recomputes the live site_modules of these sites (after a module report), in the caller's transaction. */
  async refreshSites(siteIds: readonly string[], manager: EntityManager): Promise<void> {
    await this.applySiteReportedFlags('sm.site_id = ANY($1::uuid[])', [siteIds], manager);
  }

  /** Recomputes every live site_module whose module belongs to these projects; returns how many changed. */
  async refreshProjects(projects: readonly string[], manager: EntityManager): Promise<number> {
    return this.applySiteReportedFlags(
      'sm.module_id IN (SELECT id FROM modules WHERE project = ANY($1::text[]))',
      [projects],
      manager,
    );
  }

  /** Where no release history is known, the site's own update check is all there is. */
  private async applySiteReportedFlags(scope: string, parameters: unknown[], manager: EntityManager): Promise<number> {
    const [, changed] = await manager.query<[unknown, number]>(
      `WITH flagged AS (
         SELECT sm.site_id, sm.module_id,
                CASE WHEN sm.reported_security_update THEN 'security_update'
                     WHEN sm.reported_update_available THEN 'update_available'
                     WHEN sm.reported_latest_version = sm.installed_version THEN 'current'
                     WHEN sm.reported_update_available = false AND sm.reported_security_update IS NOT TRUE THEN 'current'
                     ELSE 'unknown' END AS status,
                CASE WHEN sm.reported_security_update IS NULL AND sm.reported_update_available IS NULL
                       AND sm.reported_latest_version IS NULL THEN 'none' ELSE 'site_report' END AS source
           FROM site_modules sm JOIN modules m ON m.id = sm.module_id
          WHERE ${scope} AND sm.removed_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM release_projects p WHERE p.name = m.project)
       ),
       computed AS (
         SELECT flagged.*,
                CASE source WHEN 'none' THEN 'no release history and no update information from the site'
                            ELSE 'reported by the site (no release history known)' END AS reason
           FROM flagged
       )
       UPDATE site_modules sm SET
         update_status = c.status,
         status_source = c.source,
         status_reason = c.reason,
         recommended_version = sm.reported_latest_version,
         update_available_since = CASE WHEN c.status IN ('update_available', 'security_update')
                                       THEN COALESCE(sm.update_available_since, now()) END
         FROM computed c
        WHERE sm.site_id = c.site_id AND sm.module_id = c.module_id
          AND (sm.update_status, sm.status_source, sm.status_reason, sm.recommended_version,
               sm.update_available_since IS NULL)
              IS DISTINCT FROM (c.status, c.source, c.reason, sm.reported_latest_version,
                                c.status NOT IN ('update_available', 'security_update'))`,
      parameters,
    );
    await manager.query(
      `UPDATE module_versions mv SET update_known_at = sm.update_available_since
         FROM site_modules sm JOIN modules m ON m.id = sm.module_id
        WHERE ${scope} AND sm.removed_at IS NULL AND sm.update_available_since IS NOT NULL
          AND mv.module_id = sm.module_id AND mv.site_id = sm.site_id AND mv.version = sm.installed_version
          AND mv.update_known_at IS NULL`,
      parameters,
    );
    return changed;
  }
}
