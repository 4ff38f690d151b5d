/**
 * podnetd agent --config FILE — every part of the node daemon in one process. This file only composes: each
 * part is an AgentPart started in order and stopped in reverse. Today: node registration (src/node) and the
 * endpoints controller under a leader lease (src/controller; off with the kube store, where the API server's
 * controllers do that work). Proxy, DNS, LB and routing parts are added to `parts` here.
 */
import { hostname } from 'node:os';
import { parseDaemonFlags } from './commonFlags.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { startOpsServer, type OpsServer } from '../common/opsServer.ts';
import { describeError } from '../common/errors.ts';
import { openStore } from '../store/openStore.ts';
import type { Store } from '../store/store.ts';
import { loadAgentConfig, type AgentConfig } from '../node/agentConfig.ts';
import { NodeRegistrar } from '../node/nodeRegistrar.ts';
import { NODE_ANNOTATIONS } from '../node/nodeObject.ts';
import { EndpointsController } from '../controller/endpointsController.ts';
import { LeaderElector } from '../controller/leaderElector.ts';
import { derivedVtepMac } from '../routing/vtepMac.ts';

export interface AgentContext {
  store: Store;
  nodeName: string;
  config: AgentConfig;
  logger: Logger;
}

/** One part of the agent. `healthy` feeds /healthz. */
export interface AgentPart {
  name: string;
  start(ctx: AgentContext): Promise<void>;
  stop(): Promise<void>;
  healthy?(): boolean;
}

export function nodePart(): AgentPart {
  let reg: NodeRegistrar | undefined;
  let done = false;
  return {
    name: 'node',
    async start({ store, nodeName, config: c, logger }) {
      const annotations: Record<string, string> = {
        [NODE_ANNOTATIONS.backend]: c.backend,
        [NODE_ANNOTATIONS.tunnelEndpoint]: c.tunnelEndpoint ?? c.nodeIP,
        ...(c.backend === 'vxlan' ? { [NODE_ANNOTATIONS.vtepMac]: c.vtepMAC ?? derivedVtepMac(nodeName) } : {}),
        ...(c.bgpASN ? { [NODE_ANNOTATIONS.bgpAsn]: String(c.bgpASN) } : {}),
      };
      reg = new NodeRegistrar({
        store, nodeName, nodeIP: c.nodeIP, clusterCIDR: c.clusterCIDR, serviceCIDR: c.serviceCIDR, subnetBits: c.podSubnetLength,
        mtu: c.mtu, leaseTtlSeconds: c.podCIDRLeaseTTLSeconds, nodeStateFile: c.nodeStateFile, annotations, backend: c.backend,
        clusterDNS: c.clusterDNS, clusterDomain: c.clusterDomain, logger,
      });
      await reg.start();
      done = true;
    },
    async stop() { reg?.stop(); },
    healthy: () => done,
  };
}

export function controllerPart(): AgentPart {
  let elector: LeaderElector | undefined;
  let controller: EndpointsController | undefined;
  return {
    name: 'controller',
    async start({ store, nodeName, config: c, logger }) {
      if (store.backend === 'kube' || !c.controller.enabled) {
        logger.info({ event: 'controllerOff' }, store.backend === 'kube' ? 'endpoints controller off: the API server does this' : 'endpoints controller disabled');
        return;
      }
      elector = new LeaderElector({
        store, leaseName: 'podnet-endpoints-controller', identity: `${nodeName}/${process.pid}`, ttlSeconds: c.controller.leaseTTLSeconds, logger,
        onStartedLeading: () => {
          controller = new EndpointsController({ store, serviceCIDR: c.serviceCIDR, nodePortRange: c.controller.nodePortRange, reserved: [c.clusterDNS], logger });
          controller.start().catch((err) => logger.error({ event: 'controllerFailed', err: describeError(err) }, 'endpoints controller failed to start'));
        },
        onStoppedLeading: () => { void controller?.stop(); controller = undefined; },
      });
      elector.start();
    },
    async stop() { await elector?.stop(); await controller?.stop(); },
  };
}

export async function run(argv: string[]): Promise<number> {
  const { common, values, help } = parseDaemonFlags(argv, { config: { type: 'string' } });
  if (help) {
    process.stdout.write('usage: podnetd agent --config FILE [--store ...] [--node NAME] [--log-level L] [--health ADDR:PORT]\n');
    return 0;
  }
  const config = loadAgentConfig(values.config as string | undefined);
  const logger = createLogger({ name: 'podnetd', level: common.logLevel });
  const storeFlag = argv.some((a) => a === '--store' || a.startsWith('--store='));
  const nodeFlag = argv.some((a) => a === '--node' || a.startsWith('--node='));
  const store = await openStore(storeFlag ? common.store : config.store ?? common.store, { logger });
  const nodeName = nodeFlag ? common.node : config.nodeName ?? common.node ?? hostname();
  const ctx: AgentContext = { store, nodeName, config, logger };
  const parts = [nodePart(), controllerPart()];
  const started: AgentPart[] = [];
  const ops: OpsServer[] = [];
  try {
    for (const p of parts) { await p.start(ctx); started.push(p); }
    const health = () => ({ healthy: started.every((p) => p.healthy?.() ?? true), detail: { parts: started.map((p) => p.name) } });
    if (common.health) ops.push(await startOpsServer({ ...common.health, health }));
    await new Promise<void>((resolve) => { process.once('SIGTERM', resolve); process.once('SIGINT', resolve); });
  } finally {
    for (const o of ops) await o.close();
    for (const p of started.reverse()) await p.stop().catch((err) => logger.warn({ event: 'stopFailed', part: p.name, err: describeError(err) }, 'stopping part failed'));
    await store.close();
  }
  return 0;
}
