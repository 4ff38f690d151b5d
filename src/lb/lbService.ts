/**
 * @module lb/lbService — the LB part assembled: store informers, the allocator controller (one leader cluster-wide)
 * and this node's speaker (liveness + planner + announcer on packet sockets). `podnetd lb` runs it alone; the
 * agent can embed it. See src/lb/README.md.
 */
import { silentLogger, type Logger } from '../common/logger.ts';
import type { Store } from '../store/store.ts';
import { AllocController, startLbInformers, stopLbInformers } from './allocController.ts';
import { Announcer } from './announcer.ts';
import { nativeFrameSockets, type OpenFrameSocket } from './frameSocket.ts';
import { LbMetrics } from './lbMetrics.ts';
import { netlinkLinks, type LinkLister } from './linkScan.ts';
import { Speaker, startSpeakerInformers, type SpeakerOptions } from './speaker.ts';

export interface LbServiceOptions {
  store: Store;
  node: string;
  /** Namespace to answer in (path or /var/run/netns name); the process's own when undefined. */
  netns?: string;
  logger?: Logger;
  metrics?: LbMetrics;
  /** Take part in the allocator election (default true). */
  allocate?: boolean;
  liveness?: SpeakerOptions['liveness'];
  garpIntervalMs?: number;
  garpWindowMs?: number;
  openSocket?: OpenFrameSocket;
  links?: LinkLister;
}

export interface RunningLb {
  metrics: LbMetrics;
  speaker: Speaker;
  announcer: Announcer;
  allocator: AllocController | undefined;
  stop(): Promise<void>;
}

export async function startLb(o: LbServiceOptions): Promise<RunningLb> {
  const logger = o.logger ?? silentLogger;
  const metrics = o.metrics ?? new LbMetrics();
  const base = startLbInformers(o.store, logger);
  const informers = startSpeakerInformers(base, o.store, logger);
  const allocator = o.allocate === false ? undefined : new AllocController({ store: o.store, informers: base, identity: o.node, logger, metrics });
  const announcer = new Announcer({
    node: o.node, links: o.links ?? netlinkLinks(o.netns), openSocket: o.openSocket ?? nativeFrameSockets(o.netns),
    logger, metrics, garpIntervalMs: o.garpIntervalMs, garpWindowMs: o.garpWindowMs,
  });
  const speaker = new Speaker({ store: o.store, node: o.node, informers, announcer, logger, liveness: o.liveness });
  allocator?.start();
  announcer.start();
  await speaker.start();
  return {
    metrics, speaker, announcer, allocator,
    stop: async () => {
      await speaker.stop();
      await allocator?.stop();
      stopLbInformers(base);
      informers.slices.stop();
      informers.nodes.stop();
    },
  };
}
