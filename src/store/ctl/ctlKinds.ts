/**
 * @module store/ctl/ctlKinds — kubectl's names for kinds: `svc`, `po`, `no`, `ep`, `ns`, `cm`, plural and
 * singular forms, and `kind.group` (`endpointslices.discovery.k8s.io`). `ep` means EndpointSlice here: podnet
 * has no legacy Endpoints objects.
 */
import { KINDS, type KindName } from '../types.ts';
import { resourceName } from '../storeErrors.ts';
import { UsageError } from '../../common/cli.ts';

const SHORT: Record<string, KindName> = {
  svc: 'Service', po: 'Pod', no: 'Node', ep: 'EndpointSlice', eps: 'EndpointSlice', endpoints: 'EndpointSlice',
  ns: 'Namespace', cm: 'ConfigMap', pool: 'IPAddressPool', pools: 'IPAddressPool', l2: 'L2Advertisement',
};

export function kindFromArg(arg: string): KindName {
  const lower = arg.toLowerCase().split('.')[0]!;
  if (SHORT[lower]) return SHORT[lower]!;
  for (const k of Object.keys(KINDS) as KindName[]) {
    if (lower === k.toLowerCase() || lower === resourceName(k)) return k;
  }
  throw new UsageError(`the server doesn't have a resource type "${arg}"`);
}

/** `service`, `endpointslice.discovery.k8s.io`, `ipaddresspool.metallb.io`: how kubectl names an object's type. */
export function qualifiedKind(kind: KindName): string {
  const group = KINDS[kind].apiVersion.includes('/') ? `.${KINDS[kind].apiVersion.split('/')[0]}` : '';
  return `${kind.toLowerCase()}${group}`;
}
