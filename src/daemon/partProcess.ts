/**
 * @module daemon/partProcess — `podnetd agent-part NAME --config FILE [the agent's flags]`: one part of the agent
 * in its own process, started by `podnetd agent` (src/daemon/agentSupervisor.ts) over an IPC channel, never by
 * hand. The part gets its own store connection, logger (`part` binding) and /metrics registry, and answers the
 * supervisor's health and metrics requests. SIGTERM stops the part cleanly; losing the supervisor (its IPC
 * channel closes: it was killed -9) exits at once, the way the whole agent died before the split, so a restarted
 * agent finds this node's DNS endpoint, LB leases and BGP routes as they were and adopts them.
 */
import { hostname } from 'node:os';
import { Registry } from 'prom-client';
import { UsageError } from '../common/cli.ts';
import type { AgentContext, AgentPart } from '../common/agentPart.ts';
import { describeError } from '../common/errors.ts';
import { leaseLossRegistry } from '../common/leaseLosses.ts';
import { createLogger } from '../common/logger.ts';
import { openStore } from '../store/openStore.ts';
import { loadAgentConfig } from '../node/agentConfig.ts';
import { parseDaemonFlags } from './commonFlags.ts';
import { partEntry, AGENT_PARTS } from './agentParts.ts';
import { isSupervisorMessage, type ChildMessage } from './partIpc.ts';
import { agentSettings } from './agentSettings.ts';

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const entry = name ? partEntry(name) : undefined;
  if (!entry) throw new UsageError(`agent-part: expected one of ${AGENT_PARTS.map((p) => p.name).join(', ')}, got "${name ?? ''}"`);
  if (!process.send) throw new UsageError('agent-part runs under `podnetd agent` (it needs the agent\'s IPC channel)');
  const { common, values } = parseDaemonFlags(rest, { config: { type: 'string' } });
  const configFile = values.config as string | undefined;
  const config = loadAgentConfig(configFile);
  const settings = agentSettings(rest, common, config, hostname());
  const logger = createLogger({ name: 'podnetd', level: common.logLevel }).child({ part: entry.name });
  const store = await openStore(settings.store, { logger });
  let code = 1;
  try {
    code = await servePart(await entry.load(), { store, storeSpec: settings.store, nodeName: settings.nodeName, config, configFile, logger, registry: new Registry() });
  } finally {
    await Promise.race([store.close(), sleep(STORE_CLOSE_BUDGET_MS)]);
  }
  // Exit now rather than when the last handle drains: a part whose stop left a timer or a socket behind would
  // otherwise live on beside the agent that replaced it (seen: an old proxy child still syncing nftables after a
  // restart into iptables mode, holding its health-check node ports).
  process.exit(code);
}

const STOP_BUDGET_MS = 8000; // inside the supervisor's 10 s before SIGKILL
const STORE_CLOSE_BUDGET_MS = 1000;
const sleep = (ms: number) => new Promise<void>((resolve) => { setTimeout(resolve, ms).unref(); });

/**
 * Run `part` under the supervisor on this process's IPC channel until SIGTERM/SIGINT (then stop it, resolve 0)
 * or until the channel closes (then exit at once). Also the body of the test fixture's fake parts.
 */
export async function servePart(part: AgentPart, ctx: AgentContext): Promise<number> {
  const send = (m: ChildMessage) => { if (process.connected) process.send?.(m); };
  // No cleanup when the supervisor is gone: see the module comment.
  const orphaned = () => process.exit(0);
  process.once('disconnect', orphaned);
  // Belt and braces: a child reparented away from the supervisor that started it is orphaned even if no
  // 'disconnect' reached it (seen: routing children outliving a killed agent in the restart tests).
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) orphaned(); }, 1000).unref();
  let started = false;
  const partRegistry = ctx.registry ?? new Registry();
  process.on('message', (m: unknown) => {
    if (!isSupervisorMessage(m)) return;
    if (m.what === 'health') {
      const healthy = started && (part.healthy?.() ?? true);
      send({ type: 'reply', id: m.id, health: { healthy, detail: { started } } });
      return;
    }
    // Merged per request: a part registers its metrics while it starts (the BGP agent's peers), after this.
    Registry.merge([partRegistry, leaseLossRegistry]).getMetricsAsJSON().then((metrics) => send({ type: 'reply', id: m.id, metrics }),
      () => send({ type: 'reply', id: m.id, metrics: [] }));
  });
  const stopping = new Promise<void>((resolve) => { process.once('SIGTERM', resolve); process.once('SIGINT', resolve); });
  send({ type: 'booted' });
  try {
    await part.start(ctx);
  } catch (err) {
    ctx.logger.error({ event: 'partStartFailed', err: describeError(err) }, `${part.name}: start failed`);
    send({ type: 'startFailed', error: describeError(err) });
    await part.stop().catch(() => undefined);
    process.off('disconnect', orphaned);
    process.disconnect?.();
    return 1;
  }
  started = true;
  send({ type: 'started' });
  await stopping;
  const stopped = part.stop().catch((err) => ctx.logger.warn({ event: 'stopFailed', err: describeError(err) }, `${part.name}: stopping failed`));
  if (await Promise.race([stopped.then(() => true), sleep(STOP_BUDGET_MS).then(() => false)]) === false) {
    ctx.logger.warn({ event: 'stopSlow', ms: STOP_BUDGET_MS }, `${part.name}: did not stop within ${STOP_BUDGET_MS} ms; exiting anyway`);
  }
  // The channel would keep the process alive; closing it ourselves is not the supervisor dying.
  process.off('disconnect', orphaned);
  process.disconnect?.();
  return 0;
}
