import { BlockList, isIP } from 'node:net';
import { Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';

const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;

/** An IPv4 or IPv6 address, or a DNS host name (RFC 1123 labels). */
export function isValidHost(host: string): boolean {
  return isIP(host) !== 0 || (HOSTNAME.test(host) && !/^\d+(\.\d+)*$/.test(host));
}

/**
 * Which hosts iDRAC servers may point at: config `idrac.allowed_targets` lists CIDRs (10.0.0.0/8, fd00::/8),
 * single addresses, host names (idrac-01.example.com) and domain suffixes (.example.com). Empty allows any
 * valid host.
 */
@Injectable()
export class TargetPolicy {
  private readonly addresses = new BlockList();
  private readonly names = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly restricted: boolean;

  constructor(@InjectConfig() config: AppConfig) {
    for (const entry of config.idrac.allowed_targets) {
      const [address, prefix] = entry.split('/');
      const family = isIP(address);
      if (family !== 0 && prefix !== undefined) {
        this.addresses.addSubnet(address, Number(prefix), family === 6 ? 'ipv6' : 'ipv4');
      } else if (family !== 0) {
        this.addresses.addAddress(address, family === 6 ? 'ipv6' : 'ipv4');
      } else if (entry.startsWith('.')) {
        this.suffixes.push(entry.toLowerCase());
      } else {
        this.names.add(entry.toLowerCase().replace(/\.$/, ''));
      }
    }
    this.restricted = config.idrac.allowed_targets.length > 0;
  }

  allows(host: string): boolean {
    if (!this.restricted) return true;
    const family = isIP(host);
    if (family !== 0) return this.addresses.check(host, family === 6 ? 'ipv6' : 'ipv4');
    const name = host.toLowerCase().replace(/\.$/, '');
    return this.names.has(name) || this.suffixes.some((suffix) => name.endsWith(suffix));
  }
}
