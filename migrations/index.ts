import { CreateAppState1795460688362 } from './1795460688362-CreateAppState.js';
import { CreateIdentity1795461759299 } from './1795461759299-CreateIdentity.js';
import { CreateSites1795650000000 } from './1795650000000-CreateSites.js';
import { CreateOperations1796300000000 } from './1796300000000-CreateOperations.js';
import { CreateIdrac1796400000000 } from './1796400000000-CreateIdrac.js';

/** Every migration in order; listed explicitly so the build, the CLI and the tests load the same set. */
export const MIGRATIONS = [
  CreateAppState1795460688362,
  CreateIdentity1795461759299,
  CreateSites1795650000000,
  CreateOperations1796300000000,
  CreateIdrac1796400000000,
];
