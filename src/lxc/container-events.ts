import { Injectable } from '@nestjs/common';
import { EventBus } from '../events/event-bus.js';
import { containerRooms } from '../events/rooms.js';
import { toOperationError } from '../operations/operation-errors.js';

/** The container actions dashboards follow; each emits `<action>_start`, then `_success` or `_error`. */
export type ContainerAction =
  | 'container_create'
  | 'container_delete'
  | 'container_restart'
  | 'container_start'
  | 'container_stop'
  | 'network_setup'
  | 'authkey_deploy'
  | 'portforward_create';

/** Publishes `container_update` events to the `containers` and `container:<name>` rooms. */
@Injectable()
export class ContainerEvents {
  constructor(private readonly eventBus: EventBus) {}

  /** Runs a step between its start and success (or error) events and returns what it returned. */
  async around<R>(
    action: ContainerAction,
    container: string,
    operationId: string | null,
    step: () => Promise<R>,
  ): Promise<R> {
    this.publish(action, 'start', container, operationId, 'running', `${describe(action)} started`, null);
    try {
      const result = await step();
      this.publish(action, 'success', container, operationId, 'succeeded', `${describe(action)} succeeded`, null);
      return result;
    } catch (error) {
      const { code, message, reason } = toOperationError(error);
      this.publish(action, 'error', container, operationId, 'failed', message, { code, message, ...(reason ? { reason } : {}) });
      throw error;
    }
  }

  private publish(
    action: ContainerAction,
    phase: 'start' | 'success' | 'error',
    container: string,
    operationId: string | null,
    status: string,
    message: string,
    error: { code: string; message: string; reason?: string } | null,
  ): void {
    this.eventBus.publish({
      channel: 'container_update',
      rooms: containerRooms(container),
      payload: {
        type: `${action}_${phase}`,
        container,
        operation_id: operationId,
        status,
        message,
        error,
        timestamp: new Date().toISOString(),
      },
    });
  }
}

function describe(action: ContainerAction): string {
  return action.replace(/_/g, ' ').replace(/^container /, '');
}
