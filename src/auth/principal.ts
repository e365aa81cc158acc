export const ROLES = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export enum Permission {
  /** Ask who one is (GET /auth/me); every caller has it, site-limited keys included. */
  SelfRead = 'self.read',
  OrganizationRead = 'organization.read',
  OrganizationWrite = 'organization.write',
  UserRead = 'user.read',
  UserAdmin = 'user.admin',
  /** Change one's own profile (name, email, password); the service keeps it to oneself. */
  ProfileUpdate = 'profile.update',
  ApiKeyManage = 'api_key.manage',
  AuditRead = 'audit.read',
  MetricsRead = 'metrics.read',
  SiteRead = 'site.read',
  SiteWrite = 'site.write',
  ModuleReportWrite = 'module_report.write',
  PatchRunWrite = 'patch_run.write',
  ContainerRead = 'container.read',
  ContainerWrite = 'container.write',
  IdracRead = 'idrac.read',
  IdracWrite = 'idrac.write',
  OperationRead = 'operation.read',
  OperationCancel = 'operation.cancel',
}

const VIEWER: readonly Permission[] = [
  Permission.SelfRead,
  Permission.OrganizationRead,
  Permission.UserRead,
  Permission.ProfileUpdate,
  Permission.SiteRead,
  Permission.ContainerRead,
  Permission.IdracRead,
  Permission.OperationRead,
];

const OPERATOR: readonly Permission[] = [
  ...VIEWER,
  Permission.SiteWrite,
  Permission.ModuleReportWrite,
  Permission.PatchRunWrite,
  Permission.ContainerWrite,
  Permission.IdracWrite,
  Permission.OperationCancel,
];

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  viewer: new Set(VIEWER),
  operator: new Set(OPERATOR),
  admin: new Set(Object.values(Permission)),
};

/** A key limited to one site may only report that site's modules and patch runs (and see who it is). */
export const SITE_SCOPED_PERMISSIONS: ReadonlySet<Permission> = new Set([
  Permission.SelfRead,
  Permission.ModuleReportWrite,
  Permission.PatchRunWrite,
]);

/** Who is calling: a signed-in user, a machine's API key, or the bootstrap token. */
export interface Principal {
  readonly kind: 'user' | 'api_key' | 'bootstrap';
  /** The user's or the key's id; null for the bootstrap token. */
  readonly id: string | null;
  /** An email or a key prefix: what the audit log shows. */
  readonly label: string;
  readonly role: Role;
  /** Null only for the bootstrap token, which belongs to no organization. */
  readonly organizationId: string | null;
  /** Set for API keys limited to one site. */
  readonly siteId: string | null;
  /** The JWT's id and expiry, so logout can revoke exactly this token. */
  readonly token?: { readonly jti: string; readonly expiresAt: Date };
}

export function hasPermission(principal: Principal, permission: Permission): boolean {
  if (principal.siteId !== null && !SITE_SCOPED_PERMISSIONS.has(permission)) return false;
  return ROLE_PERMISSIONS[principal.role].has(permission);
}

/** Admins work across organizations; everyone else only inside their own. */
export function seesAllOrganizations(principal: Principal): boolean {
  return principal.role === 'admin';
}
