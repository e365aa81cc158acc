import { describe, expect, it } from '@jest/globals';
import type { AppConfig } from '../config/config.schema.js';
import { isValidHost, TargetPolicy } from './target-policy.js';

const policy = (allowed: string[]) => new TargetPolicy({ idrac: { allowed_targets: allowed } } as unknown as AppConfig);

describe('isValidHost', () => {
  it.each(['10.0.0.1', '::1', 'fd00::12', 'idrac-01', 'idrac-01.example.com', 'IDRAC.Example.COM.'])('accepts %s', (host) => {
    expect(isValidHost(host)).toBe(true);
  });

  it.each(['', 'not a host', '999.1.1.1', '10.0.0', '-rf', 'a..b', 'host_name', 'x'.repeat(64), 'a;b', '$(id)', 'http://x'])(
    'refuses %j',
    (host) => {
      expect(isValidHost(host)).toBe(false);
    },
  );
});

describe('TargetPolicy', () => {
  it('allows any valid host when no targets are configured', () => {
    expect(policy([]).allows('203.0.113.9')).toBe(true);
  });

  it('matches CIDRs, single addresses, exact names and domain suffixes', () => {
    const allowed = policy(['10.20.0.0/16', '192.0.2.7', 'fd00::/8', 'bmc-1.example.com', '.idrac.example.net']);
    expect(allowed.allows('10.20.255.1')).toBe(true);
    expect(allowed.allows('10.21.0.1')).toBe(false);
    expect(allowed.allows('192.0.2.7')).toBe(true);
    expect(allowed.allows('192.0.2.8')).toBe(false);
    expect(allowed.allows('fd00::5')).toBe(true);
    expect(allowed.allows('fe80::5')).toBe(false);
    expect(allowed.allows('BMC-1.example.com.')).toBe(true);
    expect(allowed.allows('bmc-2.example.com')).toBe(false);
    expect(allowed.allows('r4.idrac.example.net')).toBe(true);
    expect(allowed.allows('idrac.example.net.evil.com')).toBe(false);
  });
});
