/**
 * @module lb/lbAgentPart — the L2 load balancer as a part of `podnetd agent`, on when the config has an `lb`
 * section (`enabled: false` turns it off). Same as `podnetd lb`: allocator under the store lease, speaker for
 * this node in the agent's own namespace. Strict ARP follows `proxy.mode`: with ipvs it is enforced first
 * (lb/strictArp.ts).
 */
import type { AgentContext, AgentPart } from '../common/agentPart.ts';
import { FieldReader } from '../common/config.ts';
import type { AgentConfig } from '../node/agentConfig.ts';
import { startLb, type RunningLb } from './lbService.ts';
import { enforceStrictArp } from './strictArp.ts';

function readLbSection(c: AgentConfig, file?: string) {
  const r = new FieldReader(c.sections.lb ?? {}, 'lb');
  const enabled = c.sections.lb !== undefined && r.bool('enabled', true);
  r.rejectUnknown();
  r.throwIfProblems(file);
  const proxy = c.sections.proxy as { mode?: unknown } | undefined;
  return { enabled, proxyMode: typeof proxy?.mode === 'string' ? proxy.mode : 'nftables' };
}

export function lbAgentPart(opts: { netns?: string } = {}): AgentPart {
  let lb: RunningLb | undefined;
  let on = false;
  return {
    name: 'lb',
    check: (c, file) => { readLbSection(c, file); },
    enabled: (c) => readLbSection(c).enabled,
    async start({ store, nodeName, config, configFile, logger }: AgentContext) {
      const { enabled, proxyMode } = readLbSection(config, configFile);
      if (!enabled) return;
      on = true;
      if (proxyMode === 'ipvs') {
        const changed = enforceStrictArp(opts.netns);
        logger.info({ event: 'strictArp', changed }, changed.length ? `strict ARP enforced: ${changed.join(', ')}` : 'strict ARP already set');
      }
      lb = await startLb({ store, node: nodeName, netns: opts.netns, logger });
    },
    async stop() {
      await lb?.stop();
      lb = undefined;
    },
    healthy: () => !on || lb !== undefined,
  };
}
