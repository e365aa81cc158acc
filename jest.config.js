/** Jest runs in native ESM mode (`--experimental-vm-modules`): the NestJS 12 packages are ESM-only. */
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
};
const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
  transform,
};

/**
 * The real-LXC suite (`npm run test:lxc`) creates containers as root and takes minutes, so it is only a project
 * when OPSDECK_TEST_LXC=1; `npm test` never runs it.
 */
const integration = process.env.OPSDECK_TEST_LXC === '1'
  ? [{ ...shared, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.integration-spec.ts'], slowTestThreshold: 120 }]
  : [];

export default {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'], slowTestThreshold: 20 },
    ...integration,
  ],
  collectCoverageFrom: ['src/**/*.ts', '!src/**/*.spec.ts', '!src/main.ts', '!src/cli/**'],
  coverageReporters: ['text-summary', 'lcov', 'json-summary'],
  coverageThreshold: { global: { lines: 80 } },
  testTimeout: 30_000,
};
