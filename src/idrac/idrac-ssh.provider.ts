import { Injectable } from '@nestjs/common';
import pLimit, { type LimitFunction } from 'p-limit';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';
import { Errors } from '../common/errors/errors.js';
import type { IdracServerEntity } from './entities/idrac-server.entity.js';
import { IdracKeysRepository } from './idrac-keys.repository.js';
import { PrivateKeyStore } from './private-key-store.js';
import { SecretBox } from '../common/secrets/secret-box.js';
import { IdracSshClient, type IdracSshSession, type IdracSshTarget } from './ssh/idrac-ssh-client.js';
import { IdracSshError } from './ssh/idrac-ssh-error.js';

export const PASSWORD_PURPOSE = 'idrac-server-password';

/**
 * SSH sessions to iDRACs for the services: the credentials of a stored server (password decrypted, or the
 * private key file of its login key) and the process-wide bound on sessions open at once.
 */
@Injectable()
export class IdracConnector {
  private readonly client: IdracSshClient;
  /** Every deployment, revocation and test shares this bound (IDRAC_MAX_CONCURRENCY). */
  readonly sessionSlots: LimitFunction;
  readonly maxConcurrency: number;

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly secrets: SecretBox,
    private readonly privateKeys: PrivateKeyStore,
    private readonly keysRepository: IdracKeysRepository,
  ) {
    this.client = IdracSshClient.fromConfig(config);
    this.maxConcurrency = config.idrac.max_concurrency;
    this.sessionSlots = pLimit(config.idrac.max_concurrency);
  }

  /** Opens a session to the server, runs the work, closes it; within the global bound. */
  withSession<T>(server: IdracServerEntity, work: (session: IdracSshSession) => Promise<T>): Promise<T> {
    return this.sessionSlots(async () => this.client.withSession(await this.targetOf(server), work));
  }

  private async targetOf(server: IdracServerEntity): Promise<IdracSshTarget> {
    const base = { host: server.host, port: server.port, username: server.username, expectedHostKey: server.hostKeyFingerprint };
    if (server.authKeyId) {
      const key = await this.keysRepository.findLive(server.authKeyId);
      if (!key) throw Errors.notFound('idrac_key');
      return { ...base, credential: { kind: 'private_key', privateKey: await this.privateKeys.read(key.id) } };
    }
    if (!server.passwordCiphertext) throw Errors.rule('IDRAC_SERVER.NO_CREDENTIALS', 'The server has neither a password nor a login key');
    return { ...base, credential: { kind: 'password', password: this.passwordOf(server) } };
  }

  private passwordOf(server: IdracServerEntity): string {
    try {
      return this.secrets.open(server.passwordCiphertext!, PASSWORD_PURPOSE);
    } catch {
      // Another SECRETS_MASTER_KEY sealed it (instances sharing a database must share the key).
      throw new IdracSshError('auth_failed', `${server.host}:${server.port}: the stored password cannot be decrypted with this SECRETS_MASTER_KEY`);
    }
  }
}
