import { describe, expect, it } from '@jest/globals';
import { parseLxcLsFancy } from './lxc-ls.parser.js';

// Verbatim `lxc-ls -f -F name,state,ipv4,ipv6,pid,autostart,ram` output of LXC 5.0.2 (Debian 12).
const NONE = '';
const ONE_STOPPED = ['NAME     STATE   IPV4 IPV6 PID AUTOSTART RAM    ', 'odtest-a STOPPED -    -    -   0         -      ', ''].join('\n');
const SEVERAL = [
  'NAME     STATE   IPV4                 IPV6       PID   AUTOSTART RAM    ',
  'odtest-a RUNNING 10.0.3.11, 10.0.3.12 fd00:3::11 12175 0         0.61MB ',
  'odtest-b FROZEN  10.0.3.13            -          12187 1         0.64MB ',
  'odtest-c STOPPED -                    -          -     0         -      ',
  '',
].join('\n');

describe('parseLxcLsFancy', () => {
  it('reads no output (no containers) as an empty list', () => {
    expect(parseLxcLsFancy(NONE)).toEqual([]);
  });

  it("reads a stopped container whose fields are all '-'", () => {
    expect(parseLxcLsFancy(ONE_STOPPED)).toEqual([
      { name: 'odtest-a', state: 'STOPPED', ipv4: [], ipv6: [], pid: null, autostart: false, memoryBytes: null },
    ]);
  });

  it('reads several containers by column position, with several and IPv6 addresses', () => {
    const [a, b, c] = parseLxcLsFancy(SEVERAL);

    expect(a).toEqual({
      name: 'odtest-a',
      state: 'RUNNING',
      ipv4: ['10.0.3.11', '10.0.3.12'],
      ipv6: ['fd00:3::11'],
      pid: 12175,
      autostart: false,
      memoryBytes: Math.round(0.61 * 1024 * 1024),
    });
    expect(b).toMatchObject({ name: 'odtest-b', state: 'FROZEN', ipv4: ['10.0.3.13'], ipv6: [], pid: 12187, autostart: true });
    expect(c).toMatchObject({ name: 'odtest-c', state: 'STOPPED', ipv4: [], pid: null, memoryBytes: null });
  });

  it('refuses output without the columns it asked for', () => {
    expect(() => parseLxcLsFancy('NAME STATE\nx RUNNING\n')).toThrow(/IPV4/);
  });
});
