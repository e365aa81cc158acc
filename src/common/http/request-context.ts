import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from '../../auth/principal.js';

export interface AuditDescriptor {
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId: string | null;
}

/** What one request carries from the first middleware to the last log line. */
export interface RequestContext {
  readonly requestId: string;
  readonly ip?: string;
  readonly userAgent?: string;
  /** Set by the authentication guard once credentials are verified. */
  principal?: Principal;
  /** Set by the guard on audited routes, so a refused or failed request still leaves an audit row. */
  audit?: AuditDescriptor;
  /** True once a service wrote this request's audit row itself. */
  auditWritten?: boolean;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const requestContext = {
  run<T>(context: RequestContext, fn: () => T): T {
    return storage.run(context, fn);
  },
  current(): RequestContext | undefined {
    return storage.getStore();
  },
};
