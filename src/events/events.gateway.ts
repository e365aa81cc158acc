import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import { AuthenticationService, INVALID_CREDENTIALS } from '../auth/authentication.service.js';
import { hasPermission, type Principal } from '../auth/principal.js';
import { InjectLogger } from '../common/logging/logging.module.js';
import { EventBus } from './event-bus.js';
import { roomPermission } from './rooms.js';

interface SocketData {
  principal: Principal;
  credentials: HandshakeCredentials;
}

interface HandshakeCredentials {
  readonly token?: string;
  readonly api_key?: string;
}

export interface RoomAck {
  readonly ok: boolean;
  readonly room?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

const refusal = (code: string, message: string): RoomAck => ({ ok: false, error: { code, message } });

/**
 * Live events for dashboards (DESIGN.md §4): clients authenticate in the handshake, join the rooms their role
 * may see, and receive what the services publish on the EventBus.
 */
@WebSocketGateway()
export class EventsGateway implements OnGatewayInit<Server>, OnGatewayConnection<Socket>, OnModuleDestroy {
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly authenticationService: AuthenticationService,
    private readonly eventBus: EventBus,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  afterInit(server: Server): void {
    server.use((socket, next) => {
      const credentials = readCredentials(socket.handshake.auth);
      this.authenticate(credentials).then(
        (principal) => {
          if (!principal) {
            next(Object.assign(new Error('unauthorized'), { data: { code: 'UNAUTHORIZED', message: 'A valid token or api_key is required in auth' } }));
            return;
          }
          (socket.data as SocketData).principal = principal;
          (socket.data as SocketData).credentials = credentials;
          next();
        },
        (error: unknown) => {
          this.logger.error({ err: error }, 'Socket.IO authentication failed');
          next(Object.assign(new Error('unavailable'), { data: { code: 'SERVICE_UNAVAILABLE', message: 'Try again later' } }));
        },
      );
    });
    this.unsubscribe = this.eventBus.subscribe((event) => {
      server.to([...event.rooms]).emit(event.channel, event.payload);
    });
  }

  handleConnection(socket: Socket): void {
    const { principal } = socket.data as SocketData;
    socket.emit('connected', {
      socket_id: socket.id,
      principal: { kind: principal.kind, id: principal.id, label: principal.label, role: principal.role },
      timestamp: new Date().toISOString(),
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  @SubscribeMessage('join_room')
  async joinRoom(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<RoomAck> {
    const room = readRoom(body);
    if (room === null) return refusal('BAD_REQUEST', 'Send {room: string}');
    const permission = roomPermission(room);
    if (permission === null) return refusal('NOT_FOUND', `No room named ${room}`);
    // Credentials are checked again, so a revoked token or key cannot join anything new.
    const principal = await this.authenticate((socket.data as SocketData).credentials).catch(() => null);
    if (!principal) {
      socket.disconnect(true);
      return refusal('UNAUTHORIZED', 'Credentials are no longer valid');
    }
    if (!hasPermission(principal, permission)) return refusal('FORBIDDEN', `Not allowed to join ${room}`);
    await socket.join(room);
    return { ok: true, room };
  }

  @SubscribeMessage('leave_room')
  async leaveRoom(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<RoomAck> {
    const room = readRoom(body);
    if (room === null) return refusal('BAD_REQUEST', 'Send {room: string}');
    await socket.leave(room);
    return { ok: true, room };
  }

  private async authenticate(credentials: HandshakeCredentials): Promise<Principal | null> {
    const principal = await this.authenticationService.authenticateCredentials({
      token: credentials.token,
      apiKey: credentials.api_key,
    });
    return principal === INVALID_CREDENTIALS ? null : principal;
  }
}

function readCredentials(auth: unknown): HandshakeCredentials {
  if (typeof auth !== 'object' || auth === null) return {};
  const { token, api_key: apiKey } = auth as Record<string, unknown>;
  const bounded = (value: unknown): string | undefined =>
    typeof value === 'string' && value.length > 0 && value.length <= 4096 ? value : undefined;
  return { token: bounded(token), api_key: bounded(apiKey) };
}

function readRoom(body: unknown): string | null {
  const room = typeof body === 'object' && body !== null ? (body as { room?: unknown }).room : undefined;
  return typeof room === 'string' && room.length > 0 && room.length <= 100 ? room : null;
}
