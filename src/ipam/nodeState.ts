/**
 * @module ipam/nodeState — the node state file podnetd writes (`/run/podnet/node.json`) and the CNI plugin reads:
 *
 *   { "nodeName": "n1", "podCIDRs": ["10.244.1.0/24", "fd00:10:244:1::/64"],
 *     "clusterCIDRs": ["10.244.0.0/16"], "mtu": 1450 }
 *
 * `podCIDR` (one string) is accepted for a single-stack node. Everything is optional: readers fall back.
 */
import { readFileSync } from 'node:fs';

export const DEFAULT_NODE_STATE_FILE = '/run/podnet/node.json';

export interface NodeState {
  nodeName?: string;
  podCIDRs: string[];
  clusterCIDRs: string[];
  mtu?: number;
}

export class NodeStateError extends Error {}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Read the node state; null when the file does not exist; NodeStateError when it is unreadable or not JSON. */
export function readNodeState(path: string): NodeState | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new NodeStateError(`reading node state ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new NodeStateError(`node state ${path} is not JSON: ${(err as Error).message}`);
  }
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const podCIDRs = strings(o.podCIDRs);
  if (podCIDRs.length === 0 && typeof o.podCIDR === 'string') podCIDRs.push(o.podCIDR);
  return {
    ...(typeof o.nodeName === 'string' ? { nodeName: o.nodeName } : {}),
    podCIDRs,
    clusterCIDRs: strings(o.clusterCIDRs),
    ...(typeof o.mtu === 'number' && o.mtu > 0 ? { mtu: o.mtu } : {}),
  };
}
