import { describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { AppError } from '../common/errors/app-error.js';
import { loadConfig } from '../config/config.loader.js';
import { HealthService } from './health.service.js';

const config = loadConfig({ env: { NODE_ENV: 'test' }, ignoreDotenv: true });

/** A DataSource stand-in that counts probes and answers (or fails) after a delay. */
function countingDataSource(options: { delayMs: number; fail?: boolean }) {
  let queries = 0;
  const dataSource = {
    query: async () => {
      queries += 1;
      await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (options.fail) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      return [{ '?column?': 1 }];
    },
  } as unknown as DataSource;
  return { dataSource, queries: () => queries };
}

describe('HealthService', () => {
  it('shares one database probe between concurrent checks', async () => {
    const { dataSource, queries } = countingDataSource({ delayMs: 50 });
    const service = new HealthService(config, dataSource, { url: 'x', embedded: true }, null);
    const reports = await Promise.all(Array.from({ length: 25 }, () => service.check()));
    expect(queries()).toBe(1);
    expect(reports.every((report) => report.checks.database.status === 'up')).toBe(true);
  });

  it('probes again once the last answer is more than a second old', async () => {
    const { dataSource, queries } = countingDataSource({ delayMs: 1 });
    const service = new HealthService(config, dataSource, { url: 'x', embedded: false }, null);
    await service.check();
    await service.check();
    expect(queries()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await service.check();
    expect(queries()).toBe(2);
  });

  it('answers 503 with the report and a short reason when the database is down', async () => {
    const { dataSource } = countingDataSource({ delayMs: 1, fail: true });
    const service = new HealthService(config, dataSource, { url: 'x', embedded: false }, null);
    const error = await service.check().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).getStatus()).toBe(503);
    expect((error as AppError).details).toMatchObject({
      status: 'unavailable',
      checks: { database: { status: 'down', kind: 'external', error: 'ECONNREFUSED' } },
    });
  });
});
