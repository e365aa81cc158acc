import { CreateAppState1795460688362 } from './1795460688362-CreateAppState.js';
import { CreateIdentity1795461759299 } from './1795461759299-CreateIdentity.js';

/** Every migration in order; listed explicitly so the build, the CLI and the tests load the same set. */
export const MIGRATIONS = [CreateAppState1795460688362, CreateIdentity1795461759299];
