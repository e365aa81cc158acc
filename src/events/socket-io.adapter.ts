import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Server, ServerOptions } from 'socket.io';
import type { AppConfig } from '../config/config.schema.js';

/** Largest message a client may send (join_room and leave_room are tiny). */
const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

/**
 * Socket.IO on the HTTP(S) server at /socket.io, with the configured CORS origins; with REDIS_URL, the Redis
 * adapter so an event emitted on one instance reaches the clients of every instance.
 */
export class SocketIoAdapter extends IoAdapter {
  private readonly redisClients: Redis[] = [];

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
    private readonly appLogger: Logger,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, {
      ...options,
      path: '/socket.io',
      serveClient: false,
      maxHttpBufferSize: MAX_CLIENT_MESSAGE_BYTES,
      cors: this.config.server.cors_origins.length > 0 ? { origin: this.config.server.cors_origins } : undefined,
    } as ServerOptions);
    const url = this.config.redis.url;
    if (url) {
      const publisher = new Redis(url, { maxRetriesPerRequest: null, connectTimeout: 2_000 });
      const subscriber = publisher.duplicate();
      for (const client of [publisher, subscriber]) {
        client.on('error', (error: Error) => this.appLogger.warn({ err: error }, 'Socket.IO Redis adapter connection error'));
        this.redisClients.push(client);
      }
      server.adapter(createAdapter(publisher, subscriber));
    }
    return server;
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    await Promise.all(this.redisClients.map((client) => client.quit().catch(() => client.disconnect())));
    this.redisClients.length = 0;
  }
}
