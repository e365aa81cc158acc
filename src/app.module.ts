import { Global, Module, type DynamicModule, type Type } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import type { Logger } from 'pino';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import { EnvelopeInterceptor } from './common/http/envelope.interceptor.js';
import { LOGGER, LoggingModule } from './common/logging/logging.module.js';
import { RateLimitModule } from './common/rate-limit/rate-limit.module.js';
import { AppConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/config.schema.js';
import { DatabaseModule } from './database/database.module.js';
import type { DatabaseTarget } from './database/database-options.js';
import { AuditModule } from './audit/audit.module.js';
import { AuditService } from './audit/audit.service.js';
import { AuthModule } from './auth/auth.module.js';
import { BOOTSTRAP_ADMIN_ON_START } from './auth/first-admin.service.js';
import { HealthModule } from './health/health.module.js';
import { EventsModule } from './events/events.module.js';
import { IdracModule } from './idrac/idrac.module.js';
import { LxcModule } from './lxc/lxc.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OperationsModule } from './operations/operations.module.js';
import { OrganizationsModule } from './organizations/organizations.module.js';
import { ReportingModule } from './reporting/reporting.module.js';
import { SiteModulesModule } from './sites/modules/site-modules.module.js';
import { PatchRunsModule } from './sites/patch-runs/patch-runs.module.js';
import { ReleaseHistoryModule } from './sites/release-history/release-history.module.js';
import { SitesModule } from './sites/sites.module.js';
import { UsersModule } from './users/users.module.js';
import { RedisModule } from './redis/redis.module.js';

export interface AppModuleOptions {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly database: DatabaseTarget;
  /** Extra modules mounted beside the feature modules (tests use this for probe routes). */
  readonly extraModules?: ReadonlyArray<Type<unknown> | DynamicModule>;
  /** False builds the routes without opening the database (OpenAPI generation). */
  readonly connectDatabase?: boolean;
  /** Create the first admin at start-up when there is none. */
  readonly bootstrapAdmin?: boolean;
}

/** The feature modules every instance serves; AppModule adds the infrastructure around them. */
const FEATURE_MODULES: Type<unknown>[] = [
  AuditModule,
  AuthModule,
  OrganizationsModule,
  UsersModule,
  SitesModule,
  PatchRunsModule,
  ReportingModule,
  SiteModulesModule,
  ReleaseHistoryModule,
  EventsModule,
  OperationsModule,
  LxcModule,
  IdracModule,
  HealthModule,
  MetricsModule,
];

@Global()
@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    const { config, logger, database } = options;
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggingModule.forRoot(logger),
        DatabaseModule.forRoot(config, database, options.connectDatabase ?? true),
        RedisModule,
        RateLimitModule,
        ...FEATURE_MODULES,
        ...(options.extraModules ?? []),
      ],
      providers: [
        { provide: BOOTSTRAP_ADMIN_ON_START, useValue: options.bootstrapAdmin ?? true },
        { provide: APP_INTERCEPTOR, useClass: EnvelopeInterceptor },
        {
          provide: APP_FILTER,
          inject: [LOGGER, AuditService],
          useFactory: (appLogger: Logger, auditService: AuditService) => new AllExceptionsFilter(appLogger, auditService),
        },
      ],
      exports: [BOOTSTRAP_ADMIN_ON_START],
    };
  }
}
