import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';

export const EVENT_CHANNELS = ['container_update', 'idrac_update', 'operation_update'] as const;
export type EventChannel = (typeof EVENT_CHANNELS)[number];

/** The shape every `*_update` event carries to dashboards (DESIGN.md §4). */
export interface UpdateEventPayload {
  readonly type: string;
  readonly operation_id: string | null;
  readonly status: string;
  readonly message: string | null;
  readonly error: { readonly code: string; readonly message: string; readonly reason?: string } | null;
  readonly timestamp: string;
  readonly [key: string]: unknown;
}

export interface BusEvent {
  readonly channel: EventChannel;
  /** Socket.IO rooms that receive it; a client in several of them gets it once. */
  readonly rooms: readonly string[];
  readonly payload: UpdateEventPayload;
}

type Listener = (event: BusEvent) => void;

/**
 * In-process fan-out from the services to the gateway. Services publish here and never see Socket.IO; the
 * gateway (and with REDIS_URL, the Redis adapter behind it) carries events to every instance's clients.
 */
@Injectable()
export class EventBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(event: BusEvent): void {
    this.emitter.emit('event', event);
  }

  subscribe(listener: Listener): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
