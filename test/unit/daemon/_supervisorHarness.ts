/**
 * A supervisor over fake parts in its own process, for the test that kills it -9: prints one JSON line with its
 * children's pids once they have started. argv: the part names, in start order.
 */
import { fileURLToPath } from 'node:url';
import { AgentSupervisor } from '../../../src/daemon/agentSupervisor.ts';
import { silentLogger } from '../../../src/common/logger.ts';

const fake = fileURLToPath(new URL('./_fakePartProcess.ts', import.meta.url));
const s = await AgentSupervisor.start({
  parts: process.argv.slice(2).map((name) => ({ name, class: 'latency' as const })),
  command: (name) => ({ modulePath: fake, args: [name], execArgv: ['--import=tsx'] }),
  logger: silentLogger,
});
process.stdout.write(`${JSON.stringify(s.pids())}\n`);
process.once('SIGTERM', () => { void s.stop().then(() => process.exit(0)); });
setInterval(() => undefined, 60_000);
