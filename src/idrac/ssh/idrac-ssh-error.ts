/**
 * Why talking to an iDRAC over SSH failed. The deployment results carry these reasons as they are
 * (DESIGN.md §6); `no_free_slot` and `command_failed` after a good connection come from the racadm layer.
 */
export type IdracSshFailureReason = 'auth_failed' | 'timeout' | 'unreachable' | 'host_key_mismatch' | 'command_failed';

/**
 * An SSH-level failure. Messages name the target and what happened, never a password or key: they end up
 * in operation results, logs and API responses.
 */
export class IdracSshError extends Error {
  override readonly name = 'IdracSshError';
  constructor(
    readonly reason: IdracSshFailureReason,
    message: string,
    /** For host_key_mismatch: the fingerprint the server presented. */
    readonly presentedHostKey: string | null = null,
  ) {
    super(message);
  }
}
