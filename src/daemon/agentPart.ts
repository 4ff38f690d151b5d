/**
 * podnetd agent --config FILE — the node daemon as a supervisor of one child process per part (design and
 * figures in src/daemon/README.md). This file only composes: every part's `check` runs here before anything
 * starts, so a bad section changes nothing and every section's problems come in one error (naming file and
 * field); then each enabled part of the table in agentParts.ts runs as `podnetd agent-part NAME` with the same
 * config file and flags (src/daemon/partProcess.ts). /healthz and /metrics aggregate the children's over IPC.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseDaemonFlags } from './commonFlags.ts';
import { createLogger } from '../common/logger.ts';
import { startOpsServer, type OpsServer } from '../common/opsServer.ts';
import { loadAgentConfig } from '../node/agentConfig.ts';
import { AGENT_PARTS, checkAllParts } from './agentParts.ts';
import { agentSettings } from './agentSettings.ts';
import { AgentSupervisor, type PartCommand } from './agentSupervisor.ts';
import { supervisorMetrics } from './supervisorMetrics.ts';

const USAGE = 'usage: podnetd agent --config FILE [--store ...] [--node NAME] [--log-level L] [--health ADDR:PORT] [--metrics ADDR:PORT]\n';

/** How long /healthz and /metrics wait for a child's answer before calling it unresponsive. */
const CHILD_ANSWER_MS = 2000;

/**
 * Re-execute this same entry (cmd/podnetd/main.ts through tsx from source, bin/podnetd from the bundle) with
 * the same Node flags, as `agent-part NAME` plus the agent's own arguments.
 */
export function selfCommand(argv: readonly string[]): (part: string) => PartCommand {
  const entry = resolve(process.argv[1] ?? '');
  return (part) => ({ modulePath: entry, args: ['agent-part', part, ...argv], execArgv: process.execArgv });
}

export async function run(argv: string[]): Promise<number> {
  const { common, values, help } = parseDaemonFlags(argv, { config: { type: 'string' } });
  if (help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const configFile = values.config as string | undefined;
  const config = loadAgentConfig(configFile);
  const all = await Promise.all(AGENT_PARTS.map(async (e) => ({ entry: e, part: await e.load() })));
  checkAllParts(all.map((p) => p.part), config, configFile);
  const logger = createLogger({ name: 'podnetd', level: common.logLevel });
  const { store } = agentSettings(argv, common, config, hostname());
  const parts = all.filter(({ entry, part }) => entry.name === 'node' || (part.enabled?.(config, store) ?? true)).map(({ entry }) => entry);
  // The supervisor's flags (ports) are its own; children get the config file, store, node and log level.
  const childArgv = argv.filter((_, i) => !isOpsFlag(argv, i));
  // Listening before the children start: a SIGTERM during start-up still ends in a clean stop.
  const stopSignal = new Promise<void>((done) => { process.once('SIGTERM', done); process.once('SIGINT', done); });
  const supervisor = await AgentSupervisor.start({ parts, command: selfCommand(childArgv), logger });
  logger.info({ event: 'agentStarted', parts: parts.map((p) => p.name), pids: supervisor.pids() }, `agent: ${parts.length} parts running`);
  const ops: OpsServer[] = [];
  try {
    const health = () => supervisor.health(CHILD_ANSWER_MS);
    const registry = supervisorMetrics(supervisor, CHILD_ANSWER_MS);
    if (common.metrics) ops.push(await startOpsServer({ ...common.metrics, registry, health }));
    const sameAddress = common.metrics && common.health && common.metrics.host === common.health.host && common.metrics.port === common.health.port;
    if (common.health && !sameAddress) ops.push(await startOpsServer({ ...common.health, health }));
    await stopSignal;
  } finally {
    for (const o of ops) await o.close();
    await supervisor.stop();
  }
  return 0;
}

/** `--metrics X`, `--metrics=X`, `--health X`, `--health=X` (the value of the separate form too). */
function isOpsFlag(argv: readonly string[], i: number): boolean {
  const is = (a: string | undefined) => a === '--metrics' || a === '--health';
  const a = argv[i]!;
  return is(a) || a.startsWith('--metrics=') || a.startsWith('--health=') || is(argv[i - 1]);
}
