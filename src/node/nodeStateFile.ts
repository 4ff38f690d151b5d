/**
 * @module node/nodeStateFile — write `/run/podnet/node.json` for the CNI plugin (read by src/ipam/nodeState.ts):
 * temp file in the same directory + rename, so the plugin never reads half a file.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface NodeStateFile {
  nodeName: string;
  podCIDR: string;
  podCIDRs: string[];
  clusterCIDR: string;
  clusterCIDRs: string[];
  serviceCIDR: string;
  mtu: number;
  nodeIP?: string;
  backend?: string;
  clusterDNS?: string;
  clusterDomain?: string;
}

export async function writeNodeStateFile(path: string, state: NodeStateFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, path);
}
