/**
 * @module lb/legacyConfig — MetalLB ≤ 0.12's configuration: the ConfigMap `metallb-system/config` whose `config`
 * key holds YAML with `address-pools` (name, protocol layer2|bgp, addresses as CIDRs or "a-b" ranges,
 * auto-assign, avoid-buggy-ips) exactly as older clusters wrote it. Layer-2 pools were announced from every node
 * on every interface then, so each gets an implicit L2 advertisement; `peers`, `bgp-communities` and bgp pools'
 * `bgp-advertisements` belong to the BGP speaker and are ignored here. Pure.
 */
import { parse as parseYaml } from 'yaml';
import type { ConfigMap } from '../store/types.ts';
import type { AddressPool, ConfigProblem, L2Advert } from './pools.ts';
import { parseAddresses } from './pools.ts';

export const LEGACY_CONFIGMAP = { namespace: 'metallb-system', name: 'config', key: 'config' } as const;

type Raw = Record<string, unknown>;

function isRecord(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function boolField(raw: Raw, key: string, dflt: boolean, origin: string, field: string, problems: ConfigProblem[]): boolean {
  const v = raw[key];
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  problems.push({ object: origin, field: `${field}.${key}`, message: `must be true or false, got ${JSON.stringify(v)}` });
  return dflt;
}

function legacyPool(raw: unknown, i: number, origin: string, problems: ConfigProblem[]): AddressPool | undefined {
  const field = `data.config: address-pools[${i}]`;
  if (!isRecord(raw)) {
    problems.push({ object: origin, field, message: 'must be a mapping' });
    return undefined;
  }
  const name = raw.name;
  if (typeof name !== 'string' || !name) {
    problems.push({ object: origin, field: `${field}.name`, message: 'a pool needs a name' });
    return undefined;
  }
  const protocol = raw.protocol;
  if (protocol !== 'layer2' && protocol !== 'bgp') {
    problems.push({ object: origin, field: `${field}.protocol`, message: `must be layer2 or bgp, got ${JSON.stringify(protocol)}` });
    return undefined;
  }
  const addrs = Array.isArray(raw.addresses) ? raw.addresses : [];
  const ranges = parseAddresses(addrs, origin, `${field}.addresses`, problems);
  if (ranges.length === 0) {
    problems.push({ object: origin, field: `${field}.addresses`, message: `pool "${name}" has no usable addresses` });
    return undefined;
  }
  return {
    name, origin, protocol, ranges,
    autoAssign: boolField(raw, 'auto-assign', true, origin, field, problems),
    avoidBuggyIPs: boolField(raw, 'avoid-buggy-ips', false, origin, field, problems),
    priority: undefined, namespaces: [], namespaceSelectors: [], serviceSelectors: [], labels: {},
  };
}

export function legacyConfigMapPools(cm: ConfigMap, problems: ConfigProblem[]): { pools: AddressPool[]; advertisements: L2Advert[] } {
  const origin = `ConfigMap ${LEGACY_CONFIGMAP.namespace}/${LEGACY_CONFIGMAP.name}`;
  const text = cm.data?.[LEGACY_CONFIGMAP.key];
  if (text === undefined) {
    problems.push({ object: origin, field: 'data.config', message: 'missing: the MetalLB configuration lives under the "config" key' });
    return { pools: [], advertisements: [] };
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    problems.push({ object: origin, field: 'data.config', message: `not valid YAML: ${(err as Error).message.split('\n')[0]}` });
    return { pools: [], advertisements: [] };
  }
  const list = isRecord(doc) ? doc['address-pools'] : undefined;
  if (list !== undefined && !Array.isArray(list)) {
    problems.push({ object: origin, field: 'data.config: address-pools', message: 'must be a list' });
    return { pools: [], advertisements: [] };
  }
  const pools = (list ?? []).map((p, i) => legacyPool(p, i, origin, problems)).filter((p) => p !== undefined);
  const layer2 = pools.filter((p) => p.protocol === 'layer2').map((p) => p.name);
  const advertisements: L2Advert[] = layer2.length
    ? [{ name: 'legacy-layer2', origin, poolNames: layer2, poolSelectors: [], nodeSelectors: [], interfaces: [] }]
    : [];
  return { pools, advertisements };
}
