import { Injectable } from '@nestjs/common';
import { EventBus } from '../events/event-bus.js';

export type IdracEventType =
  | `idrac_deploy_${'start' | 'progress' | 'success' | 'error'}`
  | `idrac_revoke_${'start' | 'progress' | 'success' | 'error'}`
  | `idrac_key_generate_${'start' | 'success' | 'error'}`;

/** Publishes `idrac_update` events to the `idrac` room. */
@Injectable()
export class IdracEvents {
  constructor(private readonly eventBus: EventBus) {}

  publish(
    type: IdracEventType,
    event: {
      readonly operationId: string | null;
      readonly status: string;
      readonly message: string | null;
      readonly error?: { readonly code: string; readonly message: string; readonly reason?: string } | null;
      readonly [key: string]: unknown;
    },
  ): void {
    const { operationId, status, message, error, ...details } = event;
    this.eventBus.publish({
      channel: 'idrac_update',
      rooms: ['idrac'],
      payload: {
        type,
        operation_id: operationId,
        status,
        message,
        error: error ?? null,
        ...details,
        timestamp: new Date().toISOString(),
      },
    });
  }
}
