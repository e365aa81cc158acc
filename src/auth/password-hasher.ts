import { Injectable } from '@nestjs/common';
import argon2 from 'argon2';

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane (see bench/ for the measured cost). */
const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;

@Injectable()
export class PasswordHasher {
  private dummyHash: Promise<string> | undefined;

  hash(password: string): Promise<string> {
    return argon2.hash(password, HASH_OPTIONS);
  }

  /**
   * Verifies against the stored hash, or against a throw-away hash when there is no such user, so an
   * unknown email costs as much time as a wrong password.
   */
  async verify(storedHash: string | null, password: string): Promise<boolean> {
    this.dummyHash ??= this.hash('opsdeck-timing-equaliser');
    const hash = storedHash ?? (await this.dummyHash);
    const matches = await argon2.verify(hash, password).catch(() => false);
    return storedHash !== null && matches;
  }
}
