/**
 * @module lab/kubeletCommand — `podnetctl lab kubelet --node n1 [--name LAB] [--lab-dir ROOT] [--schedule]`: the
 * lab kubelet of one node as a process (what `lab up` starts in each node's network namespace). Everything it
 * needs comes from the lab's state: the store, the node's address and its files (labNodeFiles.ts).
 * `--schedule` also runs the lab's scheduler (one per lab: `lab up` gives it to n1).
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../common/cli.ts';
import { createLogger, isLogLevel } from '../common/logger.ts';
import { openStore } from '../store/openStore.ts';
import type { Store } from '../store/store.ts';
import { primaryAddress } from './addressPlan.ts';
import { openLab, podnetctlCommand, type Lab } from './lab.ts';
import { LabKubelet } from './kubelet.ts';
import { LabScheduler } from './kubeletScheduler.ts';
import { cniPath, nodeFiles } from './labNodeFiles.ts';
import { readLabState } from './labState.ts';
import { DEFAULT_LAB_NAME } from './labNames.ts';

export const KUBELET_USAGE = 'usage: podnetctl lab kubelet --node ID [--name LAB] [--lab-dir ROOT] [--schedule] [--log-level L]';

/** The kubelet options for node `nodeId` of a lab (exported for tests that run a kubelet in-process). */
export function kubeletOptionsFor(lab: Lab, nodeId: string, store: Store) {
  const host = lab.host(nodeId);
  if (host.role !== 'node') throw new UsageError(`--node: ${nodeId} is not a node of lab ${lab.name}`);
  const files = nodeFiles(lab.paths, host.id);
  return {
    store, lab: lab.name, nodeName: host.id, nodeIP: primaryAddress(host), nodeNs: host.ns,
    recordDir: files.kubeletDir, conflist: files.conflist, cniPath: cniPath(lab.paths, files), logDir: lab.paths.logDir,
    dnsIp: lab.plan.cluster.dnsIp, clusterDomain: 'cluster.local', defaultCommand: podnetctlCommand(),
  };
}

export async function kubeletCommand(argv: string[]): Promise<number> {
  let v;
  try {
    v = parseArgs({ args: argv, strict: true, options: {
      node: { type: 'string' }, name: { type: 'string', default: DEFAULT_LAB_NAME }, 'lab-dir': { type: 'string' },
      schedule: { type: 'boolean' }, 'log-level': { type: 'string', default: 'info' },
    } }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${KUBELET_USAGE}`);
  }
  if (!v.node) throw new UsageError(`--node is required\n${KUBELET_USAGE}`);
  if (!isLogLevel(v['log-level']!)) throw new UsageError(`--log-level: unknown level "${v['log-level']}"`);
  const lab = openLab(v.name!, { stateRoot: v['lab-dir'] });
  const spec = readLabState(lab.paths)?.store ?? `file:${lab.storeDir}`;
  const logger = createLogger({ name: `kubelet-${v.node}`, level: v['log-level'] });
  const store = await openStore(spec, { logger });
  const kubelet = new LabKubelet({ ...kubeletOptionsFor(lab, v.node, store), logger });
  const scheduler = v.schedule ? new LabScheduler({ store, nodes: lab.nodes.map((n) => n.id), logger }) : undefined;
  try {
    await scheduler?.start();
    await kubelet.start();
    logger.info({ event: 'started', node: v.node, store: spec, schedule: Boolean(scheduler) }, `lab kubelet for ${v.node} running`);
    await new Promise<void>((resolve) => { process.once('SIGTERM', resolve); process.once('SIGINT', resolve); });
  } finally {
    await scheduler?.stop();
    await kubelet.stop();
    await store.close();
  }
  return 0;
}
