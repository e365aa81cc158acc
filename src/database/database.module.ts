import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/config.schema.js';
import { buildDataSourceOptions, type DatabaseTarget } from './database-options.js';

export const DATABASE_TARGET = Symbol('DATABASE_TARGET');

/**
 * The TypeORM connection. The target (external URL or the embedded server) is opened before Nest starts
 * and closed after it stops, so the pool always closes before the server it talks to.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(config: AppConfig, target: DatabaseTarget, connect = true): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          ...buildDataSourceOptions(config, target),
          autoLoadEntities: true,
          // Off only where no query will run (generating the OpenAPI document).
          manualInitialization: !connect,
          retryAttempts: 3,
          retryDelay: 1_000,
        }),
      ],
      providers: [{ provide: DATABASE_TARGET, useValue: target }],
      exports: [DATABASE_TARGET],
    };
  }
}
