import { HttpStatus } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';

/** Machine-readable reasons; operations store them, clients branch on `error` (`LXC.<REASON>`). */
export type LxcErrorReason =
  | 'invalid_argument'
  | 'unknown_template'
  | 'not_found'
  | 'already_exists'
  | 'running'
  | 'not_running'
  | 'port_in_use'
  | 'rule_exists'
  | 'conflict'
  | 'lxc_unavailable'
  | 'timeout'
  | 'command_failed';

/** Every error LxcHost raises; the exception filter turns it into the error envelope with `error: LXC.<REASON>`. */
export class LxcError extends AppError {
  constructor(
    status: HttpStatus,
    readonly reason: LxcErrorReason,
    message: string,
    field?: string,
  ) {
    super(status, `LXC.${reason.toUpperCase()}`, message, field === undefined ? null : [{ field, messages: [message] }]);
  }
}

/** A name, address, key or other argument that fails its pattern (checked again right before spawning). */
export class LxcInvalidArgumentError extends LxcError {
  constructor(field: string, message: string, reason: 'invalid_argument' | 'unknown_template' = 'invalid_argument') {
    super(HttpStatus.BAD_REQUEST, reason, message, field);
  }
}

export class LxcNotFoundError extends LxcError {
  constructor(message: string) {
    super(HttpStatus.NOT_FOUND, 'not_found', message);
  }
}

/** The container (or forward) exists already, is in the wrong state, or a host port is taken. */
export class LxcConflictError extends LxcError {
  constructor(reason: 'already_exists' | 'running' | 'not_running' | 'port_in_use' | 'rule_exists' | 'conflict', message: string) {
    super(HttpStatus.CONFLICT, reason, message);
  }
}

/** LXC, nftables or the lxc-tools scripts are not installed on this host. */
export class LxcUnavailableError extends LxcError {
  constructor(message: string) {
    super(HttpStatus.SERVICE_UNAVAILABLE, 'lxc_unavailable', message);
  }
}

/** The tool ran longer than its configured timeout and was killed. */
export class LxcTimeoutError extends LxcError {
  constructor(message: string) {
    super(HttpStatus.GATEWAY_TIMEOUT, 'timeout', message);
  }
}

/**
 * The tool ran and failed for a reason OpsDeck does not recognise. 502: the request was sound and OpsDeck itself
 * did not fail, the host tool it depends on did; the message is the tool's own last stderr line.
 */
export class LxcCommandError extends LxcError {
  constructor(message: string) {
    super(HttpStatus.BAD_GATEWAY, 'command_failed', message);
  }
}
