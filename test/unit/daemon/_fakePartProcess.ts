/**
 * A fake agent part in a child process, served by the real child runtime (servePart) so the supervisor tests
 * exercise the real IPC protocol. argv: NAME; env FAKE_DIR: where starts are logged and crash markers kept.
 * Behaviour by name: `first` takes 400 ms to start; `crash-*` exits 3 shortly after its first start;
 * `loop-*` exits 3 shortly after every start; `fail-*` fails its start; `sick-*` reports itself unhealthy;
 * `hang-*` blocks its event loop once FAKE_DIR/hang-now exists.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { servePart } from '../../../src/daemon/partProcess.ts';
import { recordLeaseLoss } from '../../../src/common/leaseLosses.ts';
import { silentLogger } from '../../../src/common/logger.ts';
import { MemoryStore } from '../../../src/store/memoryStore.ts';
import { readAgentConfig } from '../../../src/node/agentConfig.ts';
import type { AgentPart } from '../../../src/common/agentPart.ts';

const name = process.argv[2] ?? 'unnamed';
const dir = process.env.FAKE_DIR ?? '.';
const registry = new Registry();
new Gauge({ name: 'fake_part_info', help: 'one per fake part', labelNames: ['part'], registers: [registry] }).set({ part: name }, 1);
recordLeaseLoss('fake');

const part: AgentPart = {
  name,
  async start() {
    appendFileSync(join(dir, 'events.log'), `start ${name} ${process.pid}\n`);
    if (name === 'first') await new Promise((r) => setTimeout(r, 400));
    const marker = join(dir, `${name}.crashed`);
    if (name.startsWith('crash-') && !existsSync(marker)) {
      writeFileSync(marker, '');
      setTimeout(() => process.exit(3), 300);
    }
    if (name.startsWith('loop-')) setTimeout(() => process.exit(3), 100);
    if (name.startsWith('fail-')) throw new Error('no such device: fake0');
    if (name.startsWith('hang-')) {
      const poll = setInterval(() => {
        if (!existsSync(join(dir, 'hang-now'))) return;
        clearInterval(poll);
        appendFileSync(join(dir, 'events.log'), `hanging ${name} ${process.pid}\n`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
      }, 20);
    }
    appendFileSync(join(dir, 'events.log'), `started ${name} ${process.pid}\n`);
  },
  async stop() { appendFileSync(join(dir, 'events.log'), `stopped ${name} ${process.pid}\n`); },
  healthy: () => !name.startsWith('sick-'),
};

const config = readAgentConfig({ nodeIP: '198.18.0.11' });
process.exitCode = await servePart(part, { store: new MemoryStore(), nodeName: 'n1', config, logger: silentLogger, registry });
