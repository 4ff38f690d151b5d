/**
 * @module lb/pools — compiles MetalLB's configuration objects into one validated, immutable LbConfig: the
 * `metallb.io/v1beta1` IPAddressPool and L2Advertisement CRs, and the legacy `metallb-system/config` ConfigMap
 * (lb/legacyConfig.ts). This is the allocator's and the announcer's only view of the configuration (MetalLB's
 * `config.For`): an invalid object is reported as a ConfigProblem naming the object and field and left out, the
 * rest still applies. Pure.
 */
import type { ConfigMap, IPAddressPool, L2Advertisement, LabelSelector } from '../store/types.ts';
import { describeRange, parseIpRange, rangesOverlap, type IpRange } from './ipRange.ts';
import { legacyConfigMapPools, LEGACY_CONFIGMAP } from './legacyConfig.ts';

export interface AddressPool {
  name: string;
  /** Where it came from, for messages: `IPAddressPool metallb-system/prod` or `ConfigMap metallb-system/config`. */
  origin: string;
  protocol: 'layer2' | 'bgp';
  ranges: IpRange[];
  autoAssign: boolean;
  avoidBuggyIPs: boolean;
  /** serviceAllocation.priority: lower is preferred; pools without one come after all pools with one. */
  priority: number | undefined;
  namespaces: string[];
  namespaceSelectors: LabelSelector[];
  serviceSelectors: LabelSelector[];
  labels: Record<string, string>;
}

export interface L2Advert {
  name: string;
  origin: string;
  /** Pool names it applies to; with no names and no selectors it applies to every pool. */
  poolNames: string[];
  poolSelectors: LabelSelector[];
  nodeSelectors: LabelSelector[];
  /** Interfaces to answer on; empty = every eligible interface. */
  interfaces: string[];
}

export interface ConfigProblem {
  object: string;
  field: string;
  message: string;
}

export interface LbConfig {
  pools: AddressPool[];
  advertisements: L2Advert[];
  problems: ConfigProblem[];
}

export interface LbConfigInput {
  pools: readonly IPAddressPool[];
  advertisements: readonly L2Advertisement[];
  configMaps: readonly ConfigMap[];
}

function originOf(kind: string, o: { metadata: { name: string; namespace?: string } }): string {
  return `${kind} ${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
}

/** Parse `addresses`; problems are pushed, bad entries dropped. */
export function parseAddresses(addresses: readonly unknown[], origin: string, field: string, problems: ConfigProblem[]): IpRange[] {
  const out: IpRange[] = [];
  addresses.forEach((a, i) => {
    const r = typeof a === 'string' ? parseIpRange(a) : { error: `must be a string, got ${JSON.stringify(a)}` };
    if ('error' in r) problems.push({ object: origin, field: `${field}[${i}]`, message: r.error });
    else out.push(r);
  });
  return out;
}

function poolFromCrd(p: IPAddressPool, problems: ConfigProblem[]): AddressPool | undefined {
  const origin = originOf('IPAddressPool', p);
  const spec = p.spec ?? { addresses: [] };
  const ranges = parseAddresses(Array.isArray(spec.addresses) ? spec.addresses : [], origin, 'spec.addresses', problems);
  if (ranges.length === 0) {
    problems.push({ object: origin, field: 'spec.addresses', message: 'the pool has no usable addresses' });
    return undefined;
  }
  const sa = spec.serviceAllocation ?? {};
  return {
    name: p.metadata.name, origin, protocol: 'layer2', ranges,
    autoAssign: spec.autoAssign ?? true, avoidBuggyIPs: spec.avoidBuggyIPs ?? false,
    priority: sa.priority, namespaces: sa.namespaces ?? [], namespaceSelectors: sa.namespaceSelectors ?? [],
    serviceSelectors: sa.serviceSelectors ?? [], labels: p.metadata.labels ?? {},
  };
}

function advertFromCrd(a: L2Advertisement): L2Advert {
  const spec = a.spec ?? {};
  return {
    name: a.metadata.name, origin: originOf('L2Advertisement', a), poolNames: spec.ipAddressPools ?? [],
    poolSelectors: spec.ipAddressPoolSelectors ?? [], nodeSelectors: spec.nodeSelectors ?? [], interfaces: spec.interfaces ?? [],
  };
}

/** Drop pools whose name is taken or whose ranges overlap an earlier pool's (MetalLB rejects both). */
function dedupePools(candidates: AddressPool[], problems: ConfigProblem[]): AddressPool[] {
  const kept: AddressPool[] = [];
  for (const p of candidates) {
    const sameName = kept.find((k) => k.name === p.name);
    if (sameName) {
      problems.push({ object: p.origin, field: 'metadata.name', message: `pool name "${p.name}" is already used by ${sameName.origin}; ignored` });
      continue;
    }
    const clash = kept.flatMap((k) => k.ranges.map((r) => ({ k, r }))).find(({ r }) => p.ranges.some((pr) => rangesOverlap(pr, r)));
    if (clash) {
      problems.push({ object: p.origin, field: 'spec.addresses', message: `overlaps ${describeRange(clash.r)} of pool "${clash.k.name}" (${clash.k.origin}); ignored` });
      continue;
    }
    kept.push(p);
  }
  return kept;
}

export function compileLbConfig(input: LbConfigInput): LbConfig {
  const problems: ConfigProblem[] = [];
  const byName = (a: { metadata: { name: string } }, b: { metadata: { name: string } }) => a.metadata.name.localeCompare(b.metadata.name);
  const crdPools = [...input.pools].sort(byName).map((p) => poolFromCrd(p, problems)).filter((p) => p !== undefined);
  const legacyMap = input.configMaps.find((c) => c.metadata.namespace === LEGACY_CONFIGMAP.namespace && c.metadata.name === LEGACY_CONFIGMAP.name);
  const legacy = legacyMap ? legacyConfigMapPools(legacyMap, problems) : { pools: [], advertisements: [] };
  // CRDs first: when both formats name the same pool, the CRD (the newer format) wins.
  const pools = dedupePools([...crdPools, ...legacy.pools], problems);
  const advertisements = [...[...input.advertisements].sort(byName).map(advertFromCrd), ...legacy.advertisements];
  for (const a of advertisements) {
    a.poolNames.forEach((n, i) => {
      if (!pools.some((p) => p.name === n)) problems.push({ object: a.origin, field: `spec.ipAddressPools[${i}]`, message: `no pool named "${n}"` });
    });
  }
  return { pools, advertisements, problems };
}

export function poolNamed(config: LbConfig, name: string): AddressPool | undefined {
  return config.pools.find((p) => p.name === name);
}
