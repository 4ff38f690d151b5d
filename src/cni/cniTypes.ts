/**
 * @module cni/cniTypes — CNI result types in the 1.1.0 shape (our internal form), and conversion to and from the
 * older shapes we advertise. Pure.
 *
 * Differences handled: before 1.0.0 every `ips[]` entry carries `version: "4"|"6"`; 1.1.0 added `interfaces[].mtu`,
 * `socketPath`, `pciID` and the route fields `mtu`, `advmss`, `priority`, `table`, `scope`. 0.1.0/0.2.0 (ip4/ip6
 * results) are not advertised: no runtime of the last six years sends them.
 */
import { CniCode, CniError } from './cniError.ts';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const CURRENT_VERSION: CniVersion = '1.1.0';

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

export interface CniIpConfig {
  address: string;
  gateway?: string;
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A result in the 1.1.0 shape, without cniVersion (added when printed). */
export interface CniResult {
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: CniDns;
}

export function isSupportedVersion(v: string): v is CniVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** Compare dotted versions numerically: negative, 0, positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const PRE_1_1_ROUTE_KEYS = ['mtu', 'advmss', 'priority', 'table', 'scope'] as const;

/** Print a result in `version`'s shape. */
export function resultForVersion(result: CniResult, version: CniVersion): Record<string, unknown> {
  const old = compareVersions(version, '1.0.0') < 0;
  const pre11 = compareVersions(version, '1.1.0') < 0;
  const out: Record<string, unknown> = { cniVersion: version };
  if (result.interfaces) {
    out.interfaces = result.interfaces.map((i) => {
      if (!pre11) return { ...i };
      const { mtu: _m, socketPath: _s, pciID: _p, ...rest } = i;
      return rest;
    });
  }
  out.ips = (result.ips ?? []).map((ip) => (old ? { version: ip.address.includes(':') ? '6' : '4', ...ip } : { ...ip }));
  if (result.routes) {
    out.routes = result.routes.map((r) => {
      if (!pre11) return { ...r };
      const copy: Record<string, unknown> = { ...r };
      for (const k of PRE_1_1_ROUTE_KEYS) delete copy[k];
      return copy;
    });
  }
  if (result.dns && Object.keys(result.dns).length > 0) out.dns = { ...result.dns };
  return out;
}

function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new CniError(CniCode.decodeFailure, `${what} must be an object`);
  return v as Record<string, unknown>;
}

function listOf(v: unknown, what: string): Record<string, unknown>[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new CniError(CniCode.decodeFailure, `${what} must be a list`);
  return v.map((x, i) => asRecord(x, `${what}[${i}]`));
}

function str(o: Record<string, unknown>, k: string, what: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new CniError(CniCode.decodeFailure, `${what}.${k} must be a string`);
  return v;
}

/** Read a result (a prevResult or a delegate's output) in any supported shape into the 1.1.0 form. */
export function parseResult(value: unknown, what = 'prevResult'): CniResult {
  const o = asRecord(value, what);
  const result: CniResult = {};
  if (o.interfaces !== undefined) {
    result.interfaces = listOf(o.interfaces, `${what}.interfaces`).map((i, n) => {
      const name = str(i, 'name', `${what}.interfaces[${n}]`) ?? '';
      const iface: CniInterface = { name };
      for (const k of ['mac', 'sandbox', 'socketPath', 'pciID'] as const) {
        const v = str(i, k, `${what}.interfaces[${n}]`);
        if (v !== undefined) iface[k] = v;
      }
      if (typeof i.mtu === 'number') iface.mtu = i.mtu;
      return iface;
    });
  }
  result.ips = listOf(o.ips, `${what}.ips`).map((ip, n) => {
    const address = str(ip, 'address', `${what}.ips[${n}]`);
    if (!address) throw new CniError(CniCode.decodeFailure, `${what}.ips[${n}].address is required`);
    const out: CniIpConfig = { address };
    const gw = str(ip, 'gateway', `${what}.ips[${n}]`);
    if (gw) out.gateway = gw;
    if (typeof ip.interface === 'number') out.interface = ip.interface;
    return out;
  });
  if (o.routes !== undefined) {
    result.routes = listOf(o.routes, `${what}.routes`).map((r, n) => {
      const dst = str(r, 'dst', `${what}.routes[${n}]`);
      if (!dst) throw new CniError(CniCode.decodeFailure, `${what}.routes[${n}].dst is required`);
      const route: CniRoute = { dst };
      const gw = str(r, 'gw', `${what}.routes[${n}]`);
      if (gw) route.gw = gw;
      for (const k of PRE_1_1_ROUTE_KEYS) if (typeof r[k] === 'number') route[k] = r[k] as number;
      return route;
    });
  }
  if (o.dns !== undefined && o.dns !== null) result.dns = asRecord(o.dns, `${what}.dns`) as CniDns;
  return result;
}
