import { SetMetadata } from '@nestjs/common';

export const SKIP_RATE_LIMIT = 'opsdeck:skip-rate-limit';

/** Exempts a route from the global per-client limit (health probes, metrics scrapes). */
export const SkipRateLimit = (): MethodDecorator & ClassDecorator => SetMetadata(SKIP_RATE_LIMIT, true);
