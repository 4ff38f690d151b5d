/**
 * @module bgp/bgpAgentConfig — the agent config's `bgp` section (and the top-level `bgpASN` it needs), checked
 * field by field with FieldReader so every problem names file and field (docs: /tmp contract, src/bgp/README.md):
 *
 *   backend: bgp
 *   bgpASN: 64512
 *   bgp: { mode, routeReflectors, routeReflectorServer: { clusterId }, port, advertise: { podCIDR,
 *          serviceClusterIPs, externalIPs, loadBalancerIPs }, gracefulRestartTime, bfd: { intervalMs, multiplier }
 *          | false, statusAddress: 127.0.0.1:9179 | off }
 *
 * Pure: no I/O. The admin surface is loopback only (issue 8): any other status address is refused here.
 */
import { FieldReader } from '../common/config.ts';
import { describeError } from '../common/errors.ts';
import { parseListenAddress } from '../common/opsServer.ts';
import { ipFamilyOf } from '../common/ipAddress.ts';
import { parseDurationSeconds, type BgpTopologySettings } from './bgpTopology.ts';

export type BgpMode = BgpTopologySettings['mode'];
export const BGP_MODES: readonly BgpMode[] = ['full-mesh', 'route-reflector-client', 'external-only'];

export interface BgpAdvertise {
  podCIDR: boolean;
  serviceClusterIPs: boolean;
  externalIPs: boolean;
  loadBalancerIPs: boolean;
}

export interface BgpBfdSettings {
  intervalMs: number;
  multiplier: number;
}

export interface BgpAgentSettings {
  asn: number;
  mode: BgpMode;
  routeReflectors: string[];
  /** This node reflects routes between its iBGP clients (RFC 4456) with this cluster id. */
  routeReflectorServer?: { clusterId: string };
  port: number;
  advertise: BgpAdvertise;
  gracefulRestartTimeSeconds: number;
  /** Node-to-node BFD; undefined = off. */
  bfd?: BgpBfdSettings;
  /** Where GET /bgp/status answers; undefined = off. */
  statusAddress?: { host: string; port: number };
}

export const DEFAULT_STATUS_ADDRESS = '127.0.0.1:9179';
export const DEFAULT_GRACEFUL_RESTART_SECONDS = 120;
/** RFC 4724: the restart time field has 12 bits. */
const MAX_RESTART_SECONDS = 4095;

export function isLoopbackAddress(host: string): boolean {
  if (ipFamilyOf(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

function readAdvertise(r: FieldReader): BgpAdvertise {
  const a = r.child('advertise');
  const out = {
    podCIDR: a.bool('podCIDR', true),
    serviceClusterIPs: a.bool('serviceClusterIPs', false),
    externalIPs: a.bool('externalIPs', false),
    loadBalancerIPs: a.bool('loadBalancerIPs', false),
  };
  a.rejectUnknown();
  return out;
}

function readBfd(r: FieldReader, raw: unknown): BgpBfdSettings | undefined {
  if (raw === false) { r.bool('bfd', false); return undefined; }
  if (raw === true) { r.bool('bfd', true); return { intervalMs: 300, multiplier: 3 }; }
  const b = r.child('bfd');
  const out = { intervalMs: b.int('intervalMs', 300, { min: 10, max: 60_000 }), multiplier: b.int('multiplier', 3, { min: 1, max: 255 }) };
  b.rejectUnknown();
  return out;
}

function readDuration(r: FieldReader, field: string, raw: unknown, def: number): number {
  if (typeof raw === 'number') return r.int(field, def, { min: 0, max: MAX_RESTART_SECONDS });
  const text = r.string(field);
  if (text === undefined) return def;
  const s = parseDurationSeconds(text);
  if (s === null) { r.problem(field, `must be a duration such as 120s or 2m, got "${text}"`); return def; }
  if (s > MAX_RESTART_SECONDS) r.problem(field, `must be at most ${MAX_RESTART_SECONDS}s (the restart time field of RFC 4724 has 12 bits), got ${text}`);
  return s;
}

function readStatusAddress(r: FieldReader): BgpAgentSettings['statusAddress'] {
  const text = r.string('statusAddress', DEFAULT_STATUS_ADDRESS);
  if (text === 'off') return undefined;
  let addr: { host: string; port: number };
  try { addr = parseListenAddress(text, 'statusAddress'); } catch (err) {
    r.problem('statusAddress', describeError(err).replace('statusAddress: ', ''));
    return undefined;
  }
  if (!isLoopbackAddress(addr.host)) {
    r.problem('statusAddress', `must be a loopback address (127.0.0.0/8 or [::1]): the status API is unauthenticated, got "${text}"`);
    return undefined;
  }
  return addr;
}

function checkAddresses(r: FieldReader, field: string, list: string[]): void {
  for (const a of list) if (ipFamilyOf(a) === undefined) r.problem(field, `"${a}" is not an IP address`);
}

/**
 * The `bgp` section of an agent config whose backend is bgp; `asn` is the top-level bgpASN (0 = not set). Throws
 * ConfigProblems naming `file` with every problem found.
 */
export function readBgpSettings(section: unknown, asn: number, file?: string): BgpAgentSettings {
  const r = new FieldReader(section ?? {}, 'bgp');
  if (!asn) r.problems.push('bgpASN: is required when backend is bgp (the cluster AS, e.g. 64512)');
  const raw = (section && typeof section === 'object' ? section : {}) as Record<string, unknown>;
  const mode = r.oneOf('mode', BGP_MODES, 'full-mesh');
  const routeReflectors = r.stringList('routeReflectors', []);
  checkAddresses(r, 'routeReflectors', routeReflectors);
  if (mode === 'route-reflector-client' && !routeReflectors.length) r.problem('routeReflectors', 'is required in route-reflector-client mode (the reflectors\' addresses)');
  let routeReflectorServer: BgpAgentSettings['routeReflectorServer'];
  if (r.has('routeReflectorServer')) {
    const s = r.child('routeReflectorServer');
    const clusterId = s.requiredString('clusterId');
    if (clusterId && ipFamilyOf(clusterId) !== 4) s.problem('clusterId', `must be a dotted-quad (a 32-bit cluster id, RFC 4456), got "${clusterId}"`);
    s.rejectUnknown();
    routeReflectorServer = { clusterId };
  }
  const port = r.int('port', 179, { min: 1, max: 65535 });
  const advertise = readAdvertise(r);
  const gracefulRestartTimeSeconds = readDuration(r, 'gracefulRestartTime', raw.gracefulRestartTime, DEFAULT_GRACEFUL_RESTART_SECONDS);
  const bfd = readBfd(r, raw.bfd);
  const statusAddress = readStatusAddress(r);
  r.rejectUnknown();
  r.throwIfProblems(file);
  return {
    asn, mode, routeReflectors, ...(routeReflectorServer ? { routeReflectorServer } : {}), port, advertise,
    gracefulRestartTimeSeconds, ...(bfd ? { bfd } : {}), ...(statusAddress ? { statusAddress } : {}),
  };
}
