/**
 * The LB part for `podnetd agent` (src/daemon/agentPart.ts composes parts; the coordinator adds
 * `lbAgentPart()` to its list). Same as `podnetd lb`: allocator under the store lease, speaker for this node in
 * the agent's own namespace. `proxyMode: 'ipvs'` enforces strict ARP first (lb/strictArp.ts).
 */
import type { AgentContext, AgentPart } from '../daemon/agentPart.ts';
import { startLb, type RunningLb } from './lbService.ts';
import { enforceStrictArp } from './strictArp.ts';

export function lbAgentPart(opts: { proxyMode?: string; netns?: string } = {}): AgentPart {
  let lb: RunningLb | undefined;
  return {
    name: 'lb',
    async start({ store, nodeName, logger }: AgentContext) {
      if (opts.proxyMode === 'ipvs') {
        const changed = enforceStrictArp(opts.netns);
        logger.info({ event: 'strictArp', changed }, changed.length ? `strict ARP enforced: ${changed.join(', ')}` : 'strict ARP already set');
      }
      lb = await startLb({ store, node: nodeName, netns: opts.netns, logger });
    },
    async stop() {
      await lb?.stop();
      lb = undefined;
    },
    healthy: () => lb !== undefined,
  };
}
