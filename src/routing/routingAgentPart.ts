/**
 * @module routing/routingAgentPart — the routing part of `podnetd agent` (issue 7): on when the config has a
 * `routing` section (`enabled: false` turns it off). The backend is the agent's `backend` (also advertised in the
 * Node object), so the two cannot disagree; the section adds `vni`, `port`, `masquerade` and `resyncSeconds`.
 * Started after the node part, whose node.json carries the pod CIDR the routes are built from. Same RouteAgent as
 * `podnetd route`. With `backend: bgp` (issue 8) it runs the BGP agent (src/bgp/bgpAgent.ts) instead, configured
 * by the `bgp` section and `bgpASN`; a `bgp` section alone also turns routing on then.
 */
import type { AgentPart } from '../common/agentPart.ts';
import { ConfigError } from '../common/errors.ts';
import { FieldReader } from '../common/config.ts';
import type { AgentConfig } from '../node/agentConfig.ts';
import { backendNamed } from './backends/backendTable.ts';
import { DEFAULT_VNI, DEFAULT_VXLAN_PORT, type BackendName } from './routingModel.ts';
import { readBgpSettings, type BgpAgentSettings } from '../bgp/bgpAgentConfig.ts';

function readRoutingSection(c: AgentConfig, file?: string) {
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
}

export function routingAgentPart(): AgentPart {
  let agent: { stop(): void | Promise<void>; healthy?(): boolean } | undefined;
  return {
    name: 'routing',
    check: (c, file) => { readRoutingSection(c, file); },
    enabled: (c) => readRoutingSection(c).enabled,
    async start({ store, nodeName, config: c, configFile, logger, registry }) {
      const { enabled, vni, port, masquerade, resyncSeconds, bgp } = readRoutingSection(c, configFile);
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
      const { RouteAgent } = await import('./routeAgent.ts');
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
