/**
 * podnet CNI hand-off server, standalone: `node cmd/cni/handoffMain.ts [--socket /run/podnet/cni.sock]`. podnetd
 * embeds the same server (startCniHandoffServer); this entry serves the lab and bench/cni without a full podnetd.
 * Runs in the node's network namespace, i.e. where the runtime runs the CNI plugin.
 */
import { parseArgs } from 'node:util';
import { runMain } from '../../src/common/cli.ts';
import { DEFAULT_HANDOFF_SOCKET, startCniHandoffServer } from '../../src/cni/handoff/cniHandoffServer.ts';

runMain('podnet-handoff', async () => {
  const { values } = parseArgs({ options: { socket: { type: 'string', default: DEFAULT_HANDOFF_SOCKET } } });
  const server = await startCniHandoffServer({ socketPath: values.socket! });
  process.stderr.write(`podnet-handoff: serving CNI requests on ${server.path}\n`);
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  await server.close();
});
