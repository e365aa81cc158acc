import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { pgPool } from '../database/pg-pool.js';
import { SiteEntity } from './entities/site.entity.js';
import { escapeLike } from '../database/like-pattern.js';

export interface SiteSearch {
  /** Null: every organization (admins). */
  readonly organizationId: string | null;
  /** Part of the name or URL, case-insensitive. */
  readonly text?: string;
  readonly offset: number;
  readonly limit: number;
}

interface SiteRow {
  id: string;
  organization_id: string;
  name: string;
  url: string;
  description: string | null;
  drupal_version: string | null;
  php_version: string | null;
  last_report_at: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

const SITE_COLUMNS = `id, organization_id, name, url, description, drupal_version, php_version, last_report_at,
  created_by, created_at, updated_at, deleted_at`;

@Injectable()
export class SitesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repository(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(SiteEntity);
  }

  findLiveById(id: string, manager?: EntityManager): Promise<SiteEntity | null> {
    return this.repository(manager)
      .createQueryBuilder('site')
      .where('site.id = :id AND site.deleted_at IS NULL', { id })
      .getOne();
  }

  /** Locks the live site's row for the rest of the transaction, so reports for one site apply one at a time. */
  async lockLive(id: string, manager: EntityManager): Promise<SiteEntity | null> {
    return this.repository(manager)
      .createQueryBuilder('site')
      .setLock('pessimistic_write')
      .where('site.id = :id AND site.deleted_at IS NULL', { id })
      .getOne();
  }

  /**
   * One round trip: the page and the total. The total is a scalar subquery rather than a window count, which
   * would drag every matching row through the sort just to count it (8.5 ms vs 0.9 ms at 2,000 sites).
   */
  async search(search: SiteSearch): Promise<{ rows: SiteEntity[]; total: number }> {
    const conditions = ['deleted_at IS NULL'];
    const parameters: unknown[] = [];
    if (search.organizationId !== null) {
      parameters.push(search.organizationId);
      conditions.push(`organization_id = $${parameters.length}`);
    }
    if (search.text) {
      parameters.push(`%${escapeLike(search.text.toLowerCase())}%`);
      conditions.push(`(lower(name) LIKE $${parameters.length} OR lower(url) LIKE $${parameters.length})`);
    }
    const where = conditions.join(' AND ');
    parameters.push(search.offset, search.limit);
    // The right join keeps one row (with the total) when the page is empty. Straight to the pool: the hottest read.
    const { rows } = await pgPool(this.dataSource).query<Partial<SiteRow> & { total: string }>(
      `SELECT page.*, (SELECT count(*) FROM sites WHERE ${where}) AS total
         FROM (SELECT ${SITE_COLUMNS} FROM sites WHERE ${where}
                ORDER BY lower(name), id OFFSET $${parameters.length - 1} LIMIT $${parameters.length}) AS page
        RIGHT JOIN (SELECT 1) AS always ON true`,
      parameters,
    );
    const total = Number(rows[0]?.total ?? 0);
    return { rows: rows.filter((row): row is SiteRow & { total: string } => row.id != null).map(toEntity), total };
  }

  async urlTaken(url: string, exceptId: string | null, manager: EntityManager): Promise<boolean> {
    const found = await this.repository(manager)
      .createQueryBuilder('site')
      .where('site.url = :url AND site.deleted_at IS NULL', { url })
      .getOne();
    return found !== null && found.id !== exceptId;
  }

  insert(site: Partial<SiteEntity>, manager: EntityManager): Promise<SiteEntity> {
    return this.repository(manager).save(this.repository(manager).create(site));
  }

  save(site: SiteEntity, manager: EntityManager): Promise<SiteEntity> {
    return this.repository(manager).save(site);
  }

  /** Marks the site deleted and revokes the API keys limited to it, in the caller's transaction. */
  async softDelete(id: string, manager: EntityManager): Promise<{ apiKeys: number }> {
    await manager.query('UPDATE sites SET deleted_at = now(), updated_at = now() WHERE id = $1', [id]);
    const [, apiKeys] = await manager.query<[unknown, number]>(
      'UPDATE api_keys SET revoked_at = now() WHERE site_id = $1 AND revoked_at IS NULL',
      [id],
    );
    return { apiKeys };
  }
}

function toEntity(row: SiteRow): SiteEntity {
  return Object.assign(new SiteEntity(), {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    url: row.url,
    description: row.description,
    drupalVersion: row.drupal_version,
    phpVersion: row.php_version,
    lastReportAt: row.last_report_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  });
}
