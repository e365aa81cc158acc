import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isEmail } from 'class-validator';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { InjectLogger } from '../common/logging/logging.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';
import { OrganizationsRepository } from '../organizations/organizations.repository.js';
import { UsersRepository } from '../users/users.repository.js';
import { UsersService } from '../users/users.service.js';

export interface CreatedAdmin {
  readonly email: string;
  /** Set only when OpsDeck generated the password, so it can be handed over once. */
  readonly generatedPassword: string | null;
  readonly passwordFile: string | null;
}

export const INITIAL_ADMIN_PASSWORD_FILE = 'initial-admin-password';

export const BOOTSTRAP_ADMIN_ON_START = Symbol('BOOTSTRAP_ADMIN_ON_START');

/** On the first start with no admin: one from ADMIN_EMAIL/ADMIN_PASSWORD, or with a generated password. */
@Injectable()
export class FirstAdminService implements OnApplicationBootstrap {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectLogger() private readonly logger: Logger,
    private readonly usersRepository: UsersRepository,
    private readonly usersService: UsersService,
    private readonly organizationsRepository: OrganizationsRepository,
    @Inject(BOOTSTRAP_ADMIN_ON_START) private readonly bootstrapOnStart: boolean,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.bootstrapOnStart) return;
    const created = await this.createAdmin({ onlyIfNone: true });
    if (!created) return;
    this.logger.info({ email: created.email }, 'created the first admin');
    if (created.generatedPassword) announceGeneratedPassword(created);
  }

  /** Creates an admin (in the configured default organization); with onlyIfNone, only when no live admin exists. */
  async createAdmin(options: { onlyIfNone: boolean; email?: string; password?: string }): Promise<CreatedAdmin | null> {
    const email = (options.email ?? this.config.admin.email ?? 'admin@opsdeck.local').trim().toLowerCase();
    if (!isEmail(email)) throw new InvalidAdminEmailError(email);
    const configuredPassword = options.password ?? this.config.admin.password;
    const password = configuredPassword ?? randomBytes(18).toString('base64url');
    const created = await this.dataSource.transaction(async (manager) => {
      await this.usersRepository.lockAdminChanges(manager);
      if (options.onlyIfNone && (await this.usersRepository.countLiveAdmins(manager)) > 0) return false;
      const organizationName = this.config.admin.organization_name;
      const organization =
        (await this.organizationsRepository.findLiveByName(organizationName, manager)) ??
        (await this.organizationsRepository.insert({ name: organizationName, description: null, createdBy: null }, manager));
      await this.usersService.createInTransaction({ email, password, role: 'admin', organizationId: organization.id }, manager);
      return true;
    });
    if (!created) return null;
    if (configuredPassword) return { email, generatedPassword: null, passwordFile: null };
    const dataDir = resolve(this.config.data_dir);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const passwordFile = join(dataDir, INITIAL_ADMIN_PASSWORD_FILE);
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    // `mode` applies only when the file is created: an older file keeps its mode unless it is set again.
    chmodSync(passwordFile, 0o600);
    return { email, generatedPassword: password, passwordFile };
  }
}

export class InvalidAdminEmailError extends Error {
  constructor(email: string) {
    super(`"${email}" is not a valid email address`);
  }
}

/** Printed once on the terminal, never through the logger, so it cannot end up in log files. */
export function announceGeneratedPassword(admin: CreatedAdmin): void {
  process.stdout.write(
    `\nOpsDeck created the admin ${admin.email} with the generated password:\n\n    ${admin.generatedPassword}\n\n` +
      `It is also in ${admin.passwordFile} (mode 0600). Sign in and change it.\n\n`,
  );
}
