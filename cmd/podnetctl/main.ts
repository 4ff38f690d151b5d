/**
 * podnetctl — the operator CLI: the lab (`lab up|down|status|exec|serve`), kubectl-like access to the store
 * (`apply`, `get`, `delete`, `describe`), `ipam ls`, and per-subsystem status (`bgp status`, `lb status`).
 */
import { runMain, UsageError } from '../../src/common/cli.ts';

const USAGE = `usage: podnetctl <command> [args]
  lab up|down|status|exec|serve   a cluster in network namespaces on this machine
  apply -f FILE|DIR|-             create or update objects in the store
  get KIND [NAME] [-n NS|-A] [-o yaml|json|wide]
  delete KIND NAME [-n NS] | -f FILE
  describe KIND NAME [-n NS]
  ipam ls                         IP leases on this node
  install-cni                     install the CNI binaries and conflist
  lb status                       LoadBalancer IPs: service, announcing node and interface
  bgp status [--address A:P] [-o json]   BGP sessions of this node's podnetd (its loopback status API)
common flags: --store file:DIR|etcd:URLS|kube (default: the running lab's store, else file:/etc/podnet/state)`;

type Command = (argv: string[]) => Promise<number>;

// One explicit table: command → the module that implements it, loaded on demand.
const COMMANDS: Record<string, () => Promise<Command>> = {
  lab: async () => (await import('../../src/lab/labCommand.ts')).labCommand,
  apply: async () => (await import('../../src/store/ctl/ctlCommands.ts')).commandFor('apply'),
  get: async () => (await import('../../src/store/ctl/ctlCommands.ts')).commandFor('get'),
  delete: async () => (await import('../../src/store/ctl/ctlCommands.ts')).commandFor('delete'),
  describe: async () => (await import('../../src/store/ctl/ctlCommands.ts')).commandFor('describe'),
  ipam: async () => (await import('../../src/ipam/ipamCommand.ts')).ipamCommand,
  lb: async () => (await import('../../src/lb/lbStatusCommand.ts')).lbCommand,
  bgp: async () => (await import('../../src/bgp/bgpStatusCommand.ts')).bgpCommand,
  'install-cni': async () => (await import('../../src/cni/installCommand.ts')).installCniCommand,
};

runMain('podnetctl', async () => {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!cmd || cmd === '-h' || cmd === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return cmd ? 0 : 2;
  }
  const load = COMMANDS[cmd];
  if (!load) throw new UsageError(`unknown command "${cmd}"\n${USAGE}`);
  return (await load())(rest);
});
