/**
 * podnetd — the node daemon. `podnetd agent --config FILE` runs every part; one part alone:
 * `podnetd proxy|dns|lb|route [flags]`. Each part lives in src/daemon/<part>Part.ts and is loaded only when asked
 * for, so one part's dependencies never slow another's start.
 */
import { runMain, UsageError } from '../../src/common/cli.ts';

const USAGE = `usage: podnetd <part> [flags]
  agent --config FILE   run every part of the node daemon (one child process per part)
  proxy                 service proxy (--mode nftables|iptables|ipvs)
  dns                   cluster DNS
  lb                    L2 load balancer (ARP/NDP announcer, pool allocation)
  route                 pod network between nodes (vxlan | ipip | host-gw | cross-subnet | bgp)
common flags: --store file:DIR|etcd:URLS|kube  --node NAME  --log-level LEVEL  --metrics ADDR:PORT  --health ADDR:PORT
'podnetd <part> --help' lists a part's own flags.`;

type PartMain = (argv: string[]) => Promise<number>;

// One explicit table of parts (no import-time registration).
const PARTS: Record<string, () => Promise<PartMain>> = {
  agent: async () => (await import('../../src/daemon/agentPart.ts')).run,
  // Internal: one part of `agent` in a child process of it (src/daemon/partProcess.ts); not in the usage.
  'agent-part': async () => (await import('../../src/daemon/partProcess.ts')).run,
  proxy: async () => (await import('../../src/daemon/proxyPart.ts')).run,
  dns: async () => (await import('../../src/daemon/dnsPart.ts')).run,
  lb: async () => (await import('../../src/daemon/lbPart.ts')).run,
  route: async () => (await import('../../src/daemon/routePart.ts')).run,
};

runMain('podnetd', async () => {
  const [part, ...rest] = process.argv.slice(2);
  if (!part || part === '-h' || part === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return part ? 0 : 2;
  }
  const load = PARTS[part];
  if (!load) throw new UsageError(`unknown part "${part}"\n${USAGE}`);
  return (await load())(rest);
});
