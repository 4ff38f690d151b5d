/**
 * @module node/dualStackConfig — the comma lists Kubernetes uses for dual-stack settings, parsed and checked (pure):
 * kubelet's `--node-ip=IPv4,IPv6`, kube-controller-manager's `--cluster-cidr=10.244.0.0/16,fd00:10:244::/56` and
 * the API server's `--service-cluster-ip-range`. The first entry is the primary family; a second entry must be of
 * the other family (one per family, as Kubernetes requires). Each problem is returned as text for the FieldReader,
 * so a config file's errors all come out together, naming the field.
 */
import { AddressError } from '../common/errors.ts';
import { ipFamilyOf, type IpFamily } from '../common/ipAddress.ts';
import { formatPrefix, parsePrefix, type IpPrefix } from '../common/ipPrefix.ts';

export interface ParsedList<T> {
  values: T[];
  problem?: string;
}

function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

function familyProblem(families: IpFamily[], text: string, what: string): string | undefined {
  if (families.length === 0) return `must name at least one ${what}, got "${text}"`;
  if (families.length > 2) return `at most two ${what}s (one IPv4, one IPv6), got ${families.length} in "${text}"`;
  if (families.length === 2 && families[0] === families[1]) {
    return `a second ${what} must be of the other family (dual-stack is one IPv4 and one IPv6), got two IPv${families[0]} in "${text}"`;
  }
  return undefined;
}

/** `198.18.0.11` or `198.18.0.11,fd00:198:18::11`. */
export function parseIpList(text: string): ParsedList<string> {
  const items = splitList(text);
  const bad = items.find((a) => ipFamilyOf(a) === undefined);
  if (bad !== undefined) return { values: [], problem: `must be an IP address, got "${bad}"` };
  const problem = familyProblem(items.map((a) => ipFamilyOf(a)!), text, 'address');
  return problem ? { values: [], problem } : { values: items };
}

/** `10.244.0.0/16` or `10.244.0.0/16,fd00:10:244::/56`; host bits are cleared (flannel reads its config so). */
export function parseCidrList(text: string, example: string): ParsedList<IpPrefix> {
  const values: IpPrefix[] = [];
  for (const item of splitList(text)) {
    try {
      values.push(parsePrefix(item, { hostBits: 'clear' }));
    } catch (err) {
      if (!(err instanceof AddressError)) throw err;
      return { values: [], problem: `must be a CIDR such as ${example}, got "${item}": ${err.reason}` };
    }
  }
  const problem = familyProblem(values.map((p) => p.addr.family), text, 'CIDR');
  return problem ? { values: [], problem } : { values };
}

export function cidrTexts(list: readonly IpPrefix[]): string[] {
  return list.map(formatPrefix);
}

/** The entry of one family, if the list has it. */
export function ofFamily<T extends string>(list: readonly T[], family: IpFamily): T | undefined {
  return list.find((x) => ipFamilyOf(x.split('/')[0]!) === family);
}
