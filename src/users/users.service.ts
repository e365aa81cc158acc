import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { PasswordHasher } from '../auth/password-hasher.js';
import { PrincipalCache } from '../auth/principal-cache.js';
import { seesAllOrganizations, type Principal, type Role } from '../auth/principal.js';
import { Errors } from '../common/errors/errors.js';
import { UNIQUENESS, uniquenessConflict } from '../common/errors/uniqueness.js';
import { Page } from '../common/pagination/pagination.js';
import { OrganizationsRepository } from '../organizations/organizations.repository.js';
import { CreateUserDto, UpdateUserDto, UserDto, UserQueryDto } from './dto/user.dto.js';
import type { UserEntity } from './entities/user.entity.js';
import { UsersRepository, type UserWithOrganization } from './users.repository.js';

/** Fields only an admin may set, on anyone (mass assignment is refused for everyone else). */
const ADMIN_ONLY_FIELDS = ['role', 'organization_id', 'is_deleted'] as const;

export interface NewUser {
  readonly email: string;
  readonly password: string;
  readonly name?: string | null;
  readonly role: Role;
  readonly organizationId: string;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly usersRepository: UsersRepository,
    private readonly organizationsRepository: OrganizationsRepository,
    private readonly passwordHasher: PasswordHasher,
    private readonly auditService: AuditService,
    private readonly principalCache: PrincipalCache,
  ) {}

  async create(principal: Principal, dto: CreateUserDto): Promise<UserDto> {
    const organizationId = dto.organization_id ?? principal.organizationId;
    if (!organizationId) {
      throw Errors.badReference('USER.ORGANIZATION_REQUIRED', 'organization_id', 'organization_id is required');
    }
    const passwordHash = await this.passwordHasher.hash(dto.password);
    return this.dataSource.transaction(async (manager) => {
      const created = await this.insertUser(
        { email: dto.email, name: dto.name ?? null, role: dto.role ?? 'viewer', organizationId },
        passwordHash,
        principal.kind === 'user' ? principal.id : null,
        manager,
      );
      await this.auditService.record(
        {
          action: 'user.create',
          resourceType: 'user',
          resourceId: created.id,
          statusCode: 201,
          changes: { email: dto.email, role: created.role, organization_id: organizationId, password: true },
        },
        manager,
      );
      return this.toDto(created.id, manager);
    });
  }

  /** Used by the first-admin bootstrap and the create-admin CLI, inside their own transaction. */
  async createInTransaction(user: NewUser, manager: EntityManager): Promise<UserEntity> {
    const created = await this.insertUser(user, await this.passwordHasher.hash(user.password), null, manager);
    await this.auditService.record(
      {
        action: 'user.create',
        resourceType: 'user',
        resourceId: created.id,
        statusCode: 201,
        changes: { email: user.email, role: user.role, organization_id: user.organizationId, password: true },
        actor: { type: 'system', id: null, label: 'bootstrap' },
      },
      manager,
    );
    return created;
  }

  async list(query: UserQueryDto): Promise<Page<UserDto>> {
    const { rows, total } = await this.usersRepository.search({
      organizationId: query.organization_id,
      role: query.role,
      emailContains: query.email,
      includeDeleted: query.include_deleted ?? false,
      offset: query.offset,
      limit: query.per_page,
    });
    return new Page(rows.map(toUserDto), total, query);
  }

  async get(principal: Principal, id: string): Promise<UserDto> {
    return toUserDto(await this.findVisible(principal, id));
  }

  async update(principal: Principal, id: string, dto: UpdateUserDto): Promise<UserDto> {
    const isAdmin = principal.role === 'admin';
    const found = await this.findVisible(principal, id);
    if (!isAdmin) {
      if (principal.kind !== 'user' || principal.id !== id) {
        throw Errors.forbidden('USER.NOT_YOURS', 'Only an admin may change another user');
      }
      const refused = ADMIN_ONLY_FIELDS.filter((field) => dto[field] !== undefined);
      if (refused.length > 0) {
        throw Errors.forbidden('USER.FIELDS_FORBIDDEN', `Only an admin may set ${refused.join(', ')}`, refused);
      }
      if (dto.password !== undefined) {
        const currentMatches = await this.passwordHasher.verify(found.user.passwordHash, dto.current_password ?? '');
        if (!currentMatches) {
          throw Errors.badReference('USER.CURRENT_PASSWORD_INVALID', 'current_password', 'current_password is wrong');
        }
      }
    }
    const newHash = dto.password !== undefined ? await this.passwordHasher.hash(dto.password) : undefined;
    try {
      return await this.dataSource.transaction(async (manager) => {
        await this.usersRepository.lockAdminChanges(manager);
        const current = await this.usersRepository.findById(id, manager);
        if (!current) throw Errors.notFound('user');
        const user = current.user;
        const changes = await this.applyChanges(user, dto, newHash, manager);
        await this.usersRepository.save(user, manager);
        await this.assertAdminRemains(manager);
        await this.auditService.record({ action: 'user.update', resourceType: 'user', resourceId: id, changes }, manager);
        return this.toDto(id, manager);
      });
    } finally {
      // Role, organization, email (the audit label) or deletion may have changed: its tokens are re-read.
      await this.principalCache.invalidate({ scope: 'user', id });
    }
  }

  async remove(principal: Principal, id: string): Promise<UserDto> {
    await this.findVisible(principal, id);
    try {
      return await this.dataSource.transaction(async (manager) => {
        await this.usersRepository.lockAdminChanges(manager);
        const current = await this.usersRepository.findById(id, manager);
        if (!current || current.user.isDeleted) throw Errors.notFound('user');
        current.user.isDeleted = true;
        current.user.deletedAt = new Date();
        await this.usersRepository.save(current.user, manager);
        await this.assertAdminRemains(manager);
        await this.auditService.record(
          { action: 'user.delete', resourceType: 'user', resourceId: id, changes: { is_deleted: { from: false, to: true } } },
          manager,
        );
        return this.toDto(id, manager);
      });
    } finally {
      await this.principalCache.invalidate({ scope: 'user', id });
    }
  }

  private async insertUser(
    user: Omit<NewUser, 'password'>,
    passwordHash: string,
    createdBy: string | null,
    manager: EntityManager,
  ): Promise<UserEntity> {
    if (!(await this.organizationsRepository.findLiveById(user.organizationId, manager))) {
      throw Errors.badReference('USER.ORGANIZATION_NOT_FOUND', 'organization_id', 'No such organization');
    }
    if (await this.usersRepository.emailTaken(user.email, null, manager)) throw emailTaken();
    return this.usersRepository.insert(
      {
        email: user.email.toLowerCase(),
        name: user.name ?? null,
        role: user.role,
        organizationId: user.organizationId,
        passwordHash,
        createdBy,
      },
      manager,
    );
  }

  private async applyChanges(
    user: UserEntity,
    dto: UpdateUserDto,
    newHash: string | undefined,
    manager: EntityManager,
  ): Promise<Record<string, unknown>> {
    const changes: Record<string, unknown> = {};
    const restoring = dto.is_deleted === false && user.isDeleted;
    if ((dto.email !== undefined && dto.email !== user.email) || restoring) {
      const email = dto.email ?? user.email;
      if (await this.usersRepository.emailTaken(email, user.id, manager)) throw emailTaken();
      if (email !== user.email) changes.email = { from: user.email, to: email };
      user.email = email;
    }
    if (dto.name !== undefined && dto.name !== user.name) {
      changes.name = { from: user.name, to: dto.name };
      user.name = dto.name;
    }
    if (newHash !== undefined) {
      changes.password = true;
      user.passwordHash = newHash;
    }
    if (dto.role !== undefined && dto.role !== user.role) {
      changes.role = { from: user.role, to: dto.role };
      user.role = dto.role;
    }
    if (dto.organization_id !== undefined && dto.organization_id !== user.organizationId) {
      if (!(await this.organizationsRepository.findLiveById(dto.organization_id, manager))) {
        throw Errors.badReference('USER.ORGANIZATION_NOT_FOUND', 'organization_id', 'No such organization');
      }
      changes.organization_id = { from: user.organizationId, to: dto.organization_id };
      user.organizationId = dto.organization_id;
    }
    if (dto.is_deleted !== undefined && dto.is_deleted !== user.isDeleted) {
      changes.is_deleted = { from: user.isDeleted, to: dto.is_deleted };
      user.isDeleted = dto.is_deleted;
      user.deletedAt = dto.is_deleted ? new Date() : null;
    }
    return changes;
  }

  /** Nobody may remove, demote or move away the last live admin: the installation would be unmanageable. */
  private async assertAdminRemains(manager: EntityManager): Promise<void> {
    if ((await this.usersRepository.countLiveAdmins(manager)) === 0) {
      throw Errors.rule('USER.LAST_ADMIN', 'At least one admin must remain');
    }
  }

  /** Other organizations' users, and deleted users for non-admins, are "not found". */
  private async findVisible(principal: Principal, id: string): Promise<UserWithOrganization> {
    const found = await this.usersRepository.findById(id);
    const visible =
      found !== null &&
      (seesAllOrganizations(principal) || (found.user.organizationId === principal.organizationId && !found.user.isDeleted));
    if (!visible) throw Errors.notFound('user');
    return found;
  }

  private async toDto(id: string, manager: EntityManager): Promise<UserDto> {
    const found = await this.usersRepository.findById(id, manager);
    if (!found) throw Errors.notFound('user');
    return toUserDto(found);
  }
}

function emailTaken() {
  return uniquenessConflict(UNIQUENESS.userEmail);
}

export function toUserDto({ user, organizationName }: UserWithOrganization): UserDto {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    organization: { id: user.organizationId, name: organizationName },
    is_deleted: user.isDeleted,
    last_login_at: user.lastLoginAt ? user.lastLoginAt.toISOString() : null,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}
