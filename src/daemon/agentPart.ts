/**
 * podnetd agent --config FILE — every part of the node daemon in one process. This file only composes: each
 * part is an AgentPart started in order and stopped in reverse. Today: node registration (src/node) and the
 * endpoints controller under a leader lease (src/controller; off with the kube store, where the API server's
 * controllers do that work), routing (src/routing), the service proxy (src/services/proxyAgentPart.ts), cluster
 * DNS published at the clusterDNS address (src/dns/dnsAgentPart.ts), the L2 load balancer (src/lb/lbAgentPart.ts)
 * and the CNI hand-off server (src/cni/handoff/cniAgentPart.ts), each on when its config section is present.
 * Every part's `check` runs before any part starts, so a bad section changes nothing (errors name file and field).
 */
import { hostname } from 'node:os';
import { parseDaemonFlags } from './commonFlags.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { startOpsServer, type OpsServer } from '../common/opsServer.ts';
import { ConfigError, describeError } from '../common/errors.ts';
import { openStore } from '../store/openStore.ts';
import type { Store } from '../store/store.ts';
import { loadAgentConfig, type AgentConfig } from '../node/agentConfig.ts';
import { NodeRegistrar } from '../node/nodeRegistrar.ts';
import { NODE_ANNOTATIONS } from '../node/nodeObject.ts';
import { EndpointsController } from '../controller/endpointsController.ts';
import { LeaderElector } from '../controller/leaderElector.ts';
import { derivedVtepMac } from '../routing/vtepMac.ts';
import { ConfigProblems, FieldReader } from '../common/config.ts';
import { backendNamed } from '../routing/backends/backendTable.ts';
import { DEFAULT_VNI, DEFAULT_VXLAN_PORT, type BackendName } from '../routing/routingModel.ts';
import { proxyAgentPart } from '../services/proxyAgentPart.ts';
import { dnsAgentPart } from '../dns/dnsAgentPart.ts';
import { lbAgentPart } from '../lb/lbAgentPart.ts';
import { cniAgentPart } from '../cni/handoff/cniAgentPart.ts';
import { readBgpSettings, type BgpAgentSettings } from '../bgp/bgpAgentConfig.ts';
import { Registry } from 'prom-client';

export interface AgentContext {
  store: Store;
  nodeName: string;
  config: AgentConfig;
  /** The config file, for errors that name file and field. */
  configFile?: string;
  logger: Logger;
  /** The agent's /metrics registry (served with --metrics); parts register what they export. */
  registry?: Registry;
}

/** One part of the agent. `check` validates its config section (throws ConfigError); `healthy` feeds /healthz. */
export interface AgentPart {
  name: string;
  check?(config: AgentConfig, configFile?: string): void;
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
        store, nodeName, nodeIP: c.nodeIP, nodeIPs: c.nodeIPs, clusterCIDR: c.clusterCIDR, clusterCIDRs: c.clusterCIDRs, serviceCIDR: c.serviceCIDR, subnetBits: c.podSubnetLength, subnetBits6: c.podSubnetLength6,
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
          controller = new EndpointsController({ store, serviceCIDR: c.serviceCIDR, serviceCIDRs: c.serviceCIDRs, nodePortRange: c.controller.nodePortRange, reserved: [c.clusterDNS], logger });
          controller.start().catch((err) => logger.error({ event: 'controllerFailed', err: describeError(err) }, 'endpoints controller failed to start'));
        },
        onStoppedLeading: () => { void controller?.stop(); controller = undefined; },
      });
      elector.start();
    },
    async stop() { await elector?.stop(); await controller?.stop(); },
  };
}

/**
 * The routing part (issue 7, src/routing): on when the config has a `routing` section (`enabled: false` turns it
 * off). The backend is the agent's `backend` (also advertised in the Node object), so the two cannot disagree;
 * the section adds `vni`, `port`, `masquerade` and `resyncSeconds`. Started after the node part, whose node.json
 * carries the pod CIDR the routes are built from. Same RouteAgent as `podnetd route`. With `backend: bgp` (issue
 * 8) it runs the BGP agent (src/bgp/bgpAgent.ts) instead, configured by the `bgp` section and `bgpASN`; a `bgp`
 * section alone also turns routing on then.
 */
export function routingPart(): AgentPart {
  let agent: { stop(): void | Promise<void>; healthy?(): boolean } | undefined;
  const read = (c: AgentConfig, file?: string) => {
    const r = new FieldReader(c.sections.routing ?? {}, 'routing');
    const present = c.sections.routing !== undefined || (c.backend === 'bgp' && c.sections.bgp !== undefined);
    const enabled = present && r.bool('enabled', true);
    const vni = r.int('vni', DEFAULT_VNI, { min: 0, max: 0xffffff });
    const port = r.int('port', DEFAULT_VXLAN_PORT, { min: 1, max: 65535 });
    const masquerade = r.bool('masquerade', true);
    const resyncSeconds = r.int('resyncSeconds', 10, { min: 1, max: 3600 });
    r.rejectUnknown();
    r.throwIfProblems(file ?? 'routing');
    if (c.backend !== 'bgp' && c.sections.bgp !== undefined) {
      throw new ConfigError(`is only read with backend: bgp (backend is ${c.backend}); remove it or set backend: bgp`, { ...(file ? { file } : {}), field: 'bgp' });
    }
    let bgp: BgpAgentSettings | undefined;
    if (enabled && c.backend === 'bgp') bgp = readBgpSettings(c.sections.bgp, c.bgpASN ?? 0, file);
    else if (enabled) backendNamed(c.backend, 'backend');
    return { enabled, vni, port, masquerade, resyncSeconds, bgp };
  };
  return {
    name: 'routing',
    check: (c, file) => { read(c, file); },
    async start({ store, nodeName, config: c, configFile, logger, registry }) {
      const { enabled, vni, port, masquerade, resyncSeconds, bgp } = read(c, configFile);
      if (!enabled) return;
      if (bgp) {
        const { BgpAgent } = await import('../bgp/bgpAgent.ts');
        agent = await BgpAgent.start({
          store, nodeName, settings: bgp, clusterCidrs: c.clusterCIDRs ?? [c.clusterCIDR], serviceCidrs: c.serviceCIDRs ?? [c.serviceCIDR], masquerade,
          resyncMs: resyncSeconds * 1000, logger, ...(registry ? { registry } : {}),
        });
        logger.info({ event: 'routingStarted', backend: c.backend }, `routing: bgp backend running (AS ${bgp.asn}, ${bgp.mode})`);
        return;
      }
      const { RouteAgent } = await import('../routing/routeAgent.ts');
      agent = await RouteAgent.start({
        store, nodeName, settings: { backend: c.backend as BackendName, vni, port }, clusterCidrs: c.clusterCIDRs,
        masquerade, nodeStateFile: c.nodeStateFile, resyncMs: resyncSeconds * 1000, logger,
      });
      logger.info({ event: 'routingStarted', backend: c.backend }, `routing: ${c.backend} backend running`);
    },
    async stop() { await agent?.stop(); },
    healthy: () => agent?.healthy?.() ?? true,
  };
}

/** The LB part (src/lb/lbAgentPart.ts) when the config has an `lb` section; strict ARP follows `proxy.mode`. */
export function lbPart(): AgentPart {
  let inner: AgentPart | undefined;
  const read = (c: AgentConfig, file?: string) => {
    const r = new FieldReader(c.sections.lb ?? {}, 'lb');
    const enabled = c.sections.lb !== undefined && r.bool('enabled', true);
    r.rejectUnknown();
    r.throwIfProblems(file);
    const proxy = c.sections.proxy as { mode?: unknown } | undefined;
    return { enabled, proxyMode: typeof proxy?.mode === 'string' ? proxy.mode : 'nftables' };
  };
  return {
    name: 'lb',
    check: (c, file) => { read(c, file); },
    async start(ctx) {
      const { enabled, proxyMode } = read(ctx.config, ctx.configFile);
      if (!enabled) return;
      inner = lbAgentPart({ proxyMode });
      await inner.start(ctx);
    },
    async stop() { await inner?.stop(); },
    healthy: () => inner?.healthy?.() ?? true,
  };
}

/**
 * Every part checks its section before anything starts; an operator fixing a config file sees every section's
 * problems in one run instead of one section per restart.
 */
export function checkAllParts(parts: readonly AgentPart[], config: AgentConfig, file?: string): void {
  const problems: string[] = [];
  for (const p of parts) {
    try {
      p.check?.(config, file);
    } catch (err) {
      if (err instanceof ConfigProblems) problems.push(...err.problems);
      else if (err instanceof ConfigError) problems.push(err.file && err.message.startsWith(`${err.file}: `) ? err.message.slice(err.file.length + 2) : err.message);
      else throw err;
    }
  }
  if (problems.length > 0) throw new ConfigProblems(problems, file);
}

export async function run(argv: string[]): Promise<number> {
  const { common, values, help } = parseDaemonFlags(argv, { config: { type: 'string' } });
  if (help) {
    process.stdout.write('usage: podnetd agent --config FILE [--store ...] [--node NAME] [--log-level L] [--health ADDR:PORT] [--metrics ADDR:PORT]\n');
    return 0;
  }
  const configFile = values.config as string | undefined;
  const config = loadAgentConfig(configFile);
  const parts = [nodePart(), controllerPart(), routingPart(), proxyAgentPart(), dnsAgentPart(), lbPart(), cniAgentPart()];
  checkAllParts(parts, config, configFile);
  const logger = createLogger({ name: 'podnetd', level: common.logLevel });
  const storeFlag = argv.some((a) => a === '--store' || a.startsWith('--store='));
  const nodeFlag = argv.some((a) => a === '--node' || a.startsWith('--node='));
  const store = await openStore(storeFlag ? common.store : config.store ?? common.store, { logger });
  const nodeName = nodeFlag ? common.node : config.nodeName ?? common.node ?? hostname();
  const registry = new Registry();
  const ctx: AgentContext = { store, nodeName, config, configFile, logger, registry };
  const started: AgentPart[] = [];
  const ops: OpsServer[] = [];
  try {
    for (const p of parts) { await p.start(ctx); started.push(p); }
    const health = () => ({ healthy: started.every((p) => p.healthy?.() ?? true), detail: { parts: started.map((p) => p.name) } });
    if (common.metrics) ops.push(await startOpsServer({ ...common.metrics, registry, health }));
    const sameAddress = common.metrics && common.health && common.metrics.host === common.health.host && common.metrics.port === common.health.port;
    if (common.health && !sameAddress) ops.push(await startOpsServer({ ...common.health, health }));
    await new Promise<void>((resolve) => { process.once('SIGTERM', resolve); process.once('SIGINT', resolve); });
  } finally {
    for (const o of ops) await o.close();
    for (const p of started.reverse()) await p.stop().catch((err) => logger.warn({ event: 'stopFailed', part: p.name, err: describeError(err) }, 'stopping part failed'));
    await store.close();
  }
  return 0;
}
