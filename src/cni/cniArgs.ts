/**
 * @module cni/cniArgs — CNI_ARGS (`K=V;K=V`), as libcni's LoadArgs reads it.
 *
 * Unknown keys are an error unless `IgnoreUnknown=1` (or true) is present, like host-local and bridge: a typo in a
 * requested `IP=` must not be silently dropped. kubelet/containerd always send IgnoreUnknown=1.
 */
import { CniCode, CniError } from './cniError.ts';

export interface CniArgs {
  ignoreUnknown: boolean;
  podNamespace?: string;
  podName?: string;
  podInfraContainerId?: string;
  podUid?: string;
  /** `IP=a,b`: requested addresses (host-local convention). */
  ips?: string[];
  /** `MAC=`: requested MAC of the pod interface. */
  mac?: string;
}

const KNOWN: Record<string, (a: CniArgs, v: string) => void> = {
  IgnoreUnknown: () => undefined,
  K8S_POD_NAMESPACE: (a, v) => { a.podNamespace = v; },
  K8S_POD_NAME: (a, v) => { a.podName = v; },
  K8S_POD_INFRA_CONTAINER_ID: (a, v) => { a.podInfraContainerId = v; },
  K8S_POD_UID: (a, v) => { a.podUid = v; },
  IP: (a, v) => { a.ips = v.split(',').map((s) => s.trim()).filter(Boolean); },
  MAC: (a, v) => { a.mac = v; },
};

export function parseCniArgs(raw: string): CniArgs {
  const pairs: Array<[string, string]> = [];
  for (const part of raw.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CniError(CniCode.invalidEnv, `CNI_ARGS: "${part}" is not KEY=VALUE`);
    pairs.push([part.slice(0, eq), part.slice(eq + 1)]);
  }
  const ignore = pairs.find(([k]) => k === 'IgnoreUnknown')?.[1];
  const args: CniArgs = { ignoreUnknown: ignore === '1' || ignore?.toLowerCase() === 'true' };
  const unknown: string[] = [];
  for (const [k, v] of pairs) {
    const set = KNOWN[k];
    if (set) set(args, v);
    else unknown.push(k);
  }
  if (unknown.length > 0 && !args.ignoreUnknown) {
    throw new CniError(CniCode.invalidEnv, `CNI_ARGS: unknown argument ${unknown.map((k) => `"${k}"`).join(', ')}`,
      'add IgnoreUnknown=1 to CNI_ARGS to ignore arguments this plugin does not use');
  }
  return args;
}
