import type { ErrorDetail } from './app-error.js';

/** The body of every error response (DESIGN.md §3). */
export interface ErrorEnvelope {
  readonly status_code: number;
  readonly error: string;
  readonly message: string;
  readonly details: readonly ErrorDetail[] | Record<string, unknown> | null;
  readonly timestamp: string;
  readonly request_id: string;
  readonly path: string;
}
