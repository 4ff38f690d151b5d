/**
 * @module services/proxyAgentPart — the service proxy as a part of `podnetd agent` (composed by src/daemon/agentParts.ts): the
 * same informers → model → backend as `podnetd proxy`, on the agent's store, configured by the agent config's
 * `proxy` section (on when the section is present; `enabled: false` turns it off):
 *
 *   proxy: { mode: nftables|iptables|ipvs, minSyncPeriod: 1s, syncPeriod: 30s, fullSyncPeriod: 1h,
 *            nodePortAddresses: [CIDR...], clusterCIDRs: [CIDR...] (default: the agent's clusterCIDR),
 *            masqueradeAll: false, conntrackCleanup: true, healthz: "0.0.0.0:10256" }
 *
 * /healthz on 10256 like kube-proxy (and `podnetd proxy`); the agent's own /healthz also includes this part.
 */
import type { AgentContext, AgentPart } from '../common/agentPart.ts';
import { startProxyOnStore, parseDuration, type ProxyOptions } from '../daemon/proxyPart.ts';
import { FieldReader } from '../common/config.ts';
import type { AgentConfig } from '../node/agentConfig.ts';
import { AddressError, describeError } from '../common/errors.ts';
import { parseListenAddress, startOpsServer, type OpsServer } from '../common/opsServer.ts';
import { PROXY_MODES, type ProxyMode } from './backend.ts';
import { createBackend, cleanupOtherModes } from './backendTable.ts';
import { parseNodePortAddresses } from './proxyNode.ts';
import { parsePrefix } from '../common/ipPrefix.ts';
import type { ProxyRunner } from './proxyRunner.ts';

export interface ProxySection {
  options: ProxyOptions;
  healthz: { host: string; port: number } | undefined;
}

/** The `proxy` section checked field by field; undefined when the part is off. Problems land in `r`. */
export function readProxySection(r: FieldReader, defaultClusterCIDRs: string | readonly string[], present: boolean): ProxySection | undefined {
  const enabled = present && r.bool('enabled', true);
  const mode = r.oneOf('mode', [...PROXY_MODES], 'nftables') as ProxyMode;
  const dur = (field: string, def: string) => {
    try { return parseDuration(r.string(field, def) ?? def, field); } catch (err) { r.problem(field, describeError(err).replace(`${field}: `, '')); return 1000; }
  };
  const minSyncMs = dur('minSyncPeriod', '1s');
  const syncPeriodMs = dur('syncPeriod', '30s');
  const fullSyncMs = dur('fullSyncPeriod', '1h');
  // Every cluster CIDR of the agent (IPv4 and IPv6 when dual-stack): masquerade decisions need both families.
  const clusterCIDRs = r.stringList('clusterCIDRs', typeof defaultClusterCIDRs === 'string' ? [defaultClusterCIDRs] : [...defaultClusterCIDRs]);
  for (const c of clusterCIDRs) {
    try {
      parsePrefix(c, { hostBits: 'clear', bareAddress: true });
    } catch (err) {
      if (!(err instanceof AddressError)) throw err;
      r.problem('clusterCIDRs', `"${c}" is not a CIDR: ${err.reason}`);
    }
  }
  let nodePortAddresses: ProxyOptions['nodePortAddresses'] = 'primary';
  try { nodePortAddresses = parseNodePortAddresses(r.stringList('nodePortAddresses', []), 'nodePortAddresses'); } catch (err) {
    r.problem('nodePortAddresses', describeError(err).replace('nodePortAddresses: ', ''));
  }
  const masqueradeAll = r.bool('masqueradeAll', false);
  const conntrack = r.bool('conntrackCleanup', true);
  const proxyName = r.string('proxyName');
  const healthzText = r.string('healthz', '0.0.0.0:10256') ?? '';
  let healthz: ProxySection['healthz'];
  if (healthzText !== 'off') {
    try { healthz = parseListenAddress(healthzText, 'healthz'); } catch (err) { r.problem('healthz', describeError(err).replace('healthz: ', '')); }
  }
  r.rejectUnknown();
  if (!enabled) return undefined;
  return {
    options: { mode, backend: { clusterCIDRs, masqueradeAll }, nodePortAddresses, minSyncMs, syncPeriodMs, fullSyncMs, proxyName, conntrack },
    healthz,
  };
}

export function proxyAgentPart(): AgentPart {
  let runner: ProxyRunner | undefined;
  let stopProxy: (() => void) | undefined;
  let ops: OpsServer | undefined;
  const read = (config: AgentConfig, configFile?: string) => {
    const r = new FieldReader(config.sections.proxy ?? {}, 'proxy');
    const section = readProxySection(r, config.clusterCIDRs, config.sections.proxy !== undefined);
    r.throwIfProblems(configFile);
    return section;
  };
  return {
    name: 'proxy',
    check: (config, configFile) => { read(config, configFile); },
    enabled: (config) => read(config) !== undefined,
    async start({ store, nodeName, config, configFile, logger }: AgentContext) {
      const section = read(config, configFile);
      if (!section) return;
      const log = logger.child({ subsystem: 'proxy' });
      const backend = createBackend(section.options.mode, { ...section.options.backend, logger: log }); // ipvs without ip_vs: a clear error
      await cleanupOtherModes(section.options.mode, section.options.backend);
      const started = await startProxyOnStore(store, nodeName, section.options, backend, log);
      runner = started.runner;
      stopProxy = started.stop;
      if (section.healthz) ops = await startOpsServer({ ...section.healthz, health: () => started.runner.health() });
      log.info({ event: 'proxyStarted', mode: section.options.mode }, `proxy: ${section.options.mode} mode running`);
    },
    async stop() {
      await ops?.close();
      stopProxy?.();
    },
    healthy: () => runner === undefined || runner.health().healthy,
  };
}
