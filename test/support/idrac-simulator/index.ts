export * from './idrac-simulator.js';
export * from './fleet.js';
export { MESSAGES as RACADM_MESSAGES, renderView, renderVersion, type FirmwareVersions, type ViewFormat } from './racadm-shell.js';
