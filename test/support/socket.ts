import { io, type Socket } from 'socket.io-client';

export interface SocketAuth {
  readonly token?: string;
  readonly api_key?: string;
}

/** Connects like a dashboard does and resolves once the server has sent `connected`. */
export function connectSocket(url: string, auth: SocketAuth | Record<string, unknown>): Promise<Socket> {
  const socket = io(url, { path: '/socket.io', auth, transports: ['websocket'], reconnection: false, timeout: 5_000 });
  return new Promise((resolve, reject) => {
    socket.once('connected', () => resolve(socket));
    socket.once('connect_error', (error: Error & { data?: unknown }) => {
      socket.close();
      reject(error);
    });
  });
}

/** The `connect_error` a refused handshake produces. */
export async function refusedConnection(url: string, auth: Record<string, unknown>): Promise<Error & { data?: { code?: string } }> {
  try {
    const socket = await connectSocket(url, auth);
    socket.close();
  } catch (error) {
    return error as Error & { data?: { code?: string } };
  }
  throw new Error('the connection was accepted');
}

export async function joinRoom(socket: Socket, room: unknown): Promise<{ ok: boolean; room?: string; error?: { code: string } }> {
  return socket.timeout(5_000).emitWithAck('join_room', { room }) as Promise<{ ok: boolean; room?: string; error?: { code: string } }>;
}

/** Records every event of a channel so a test can wait for the ones it expects, in order. */
export class EventRecorder<T extends Record<string, unknown> = Record<string, unknown>> {
  readonly events: T[] = [];
  private waiters: Array<() => void> = [];

  constructor(socket: Socket, channel: string) {
    socket.on(channel, (payload: T) => {
      this.events.push(payload);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves with the first recorded event matching, waiting up to timeoutMs for it. */
  async next(matches: (event: T) => boolean, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(matches);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; saw ${JSON.stringify(this.events.map((e) => e.type))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
