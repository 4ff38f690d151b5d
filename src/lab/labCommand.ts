/**
 * @module lab/labCommand — `podnetctl lab up|down|status|exec|serve`: argument parsing and output around the lab
 * library (lab.ts). Nothing here touches the kernel directly.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants, hostname } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../common/cli.ts';
import { requireTool } from '../common/systemTools.ts';
import { LAB_ROUTINGS, LAB_STORES, type LabIpFamily, type LabProxyMode, type LabRouting, type LabStoreKind } from './addressPlan.ts';
import { createLab, destroyLab, resolveLabNamespace, type LabStep } from './lab.ts';
import { startControlPlane, type ControlPlaneReport } from './labControlPlane.ts';
import { kubeletCommand } from './kubeletCommand.ts';
import { DEFAULT_LAB_NAME, validateLabName } from './labNames.ts';
import { collectStatus, formatStatus } from './labStatus.ts';
import { formatLabSummary } from './labSummary.ts';
import { formatReachability } from './reachability.ts';
import { DEFAULT_SERVE_PORTS, startTestServer } from './testServer.ts';

const USAGE = `usage: podnetctl lab <command>
  up [--name LAB] [--nodes N] [--routing ${LAB_ROUTINGS.join('|')}] [--store ${LAB_STORES.join('|')}]
     [--proxy-mode nftables|iptables] [--ip-family ipv4|dual] [--no-podnet] [--log-level L]
                      build the lab (default name ${DEFAULT_LAB_NAME}, 3 nodes), start its store, podnetd and a lab
                      kubelet on every node (--no-podnet: the underlay only), check the nodes reach each other
  down [--name LAB]   remove every namespace, process and file of the lab (also after a failed up)
  status [--name LAB] [--json]
  exec [--name LAB] TARGET -- CMD...   run CMD in n1..nN, client, fabric, router, a pod, or a full namespace name
  serve [--http PORT] [--udp PORT] [--tcp PORT] [--name HOSTNAME]
                      the lab's test server (defaults ${DEFAULT_SERVE_PORTS.http}/${DEFAULT_SERVE_PORTS.udp}/${DEFAULT_SERVE_PORTS.tcp})
  kubelet --node ID [--name LAB] [--lab-dir ROOT] [--schedule]
                      the lab kubelet of one node (lab up starts one per node)
state: $PODNET_LAB_DIR/<lab>/ (default /run/podnet-lab/<lab>/)`;

type Options = NonNullable<ParseArgsConfig['options']>;

function parse(argv: string[], options: Options): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as
      Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
}

function intFlag(v: string | boolean | undefined, flag: string, def: number, max = 65535): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || n > max) throw new UsageError(`--${flag}: expected a number up to ${max}, got "${v}"`);
  return n;
}

function labName(v: Record<string, string | boolean | undefined>): string {
  return validateLabName((v.name as string | undefined) ?? DEFAULT_LAB_NAME);
}

/** Run `body` with SIGINT/SIGTERM turned into an abort (instead of dying half-way). */
async function withSignals<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (!ac.signal.aborted) process.stderr.write(`podnetctl: ${sig}: rolling back...\n`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body(ac.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Test seam: PODNET_LAB_PAUSE_AFTER=<step> makes `lab up` stop after that step until it is signalled (at most
 * 60 s), so a test can interrupt it at a known point instead of racing it.
 */
function pauseHook(signal: AbortSignal): ((step: LabStep) => Promise<void>) | undefined {
  const pauseAt = process.env.PODNET_LAB_PAUSE_AFTER;
  if (!pauseAt) return undefined;
  return async (step) => {
    if (step !== pauseAt) return;
    process.stderr.write(`podnetctl: paused after ${step} (PODNET_LAB_PAUSE_AFTER)\n`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 60_000);
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
  };
}

async function up(argv: string[]): Promise<number> {
  const v = parse(argv, { name: { type: 'string' }, nodes: { type: 'string' }, routing: { type: 'string' },
    store: { type: 'string' }, 'proxy-mode': { type: 'string' }, 'ip-family': { type: 'string' }, 'no-podnet': { type: 'boolean' }, 'log-level': { type: 'string' } });
  const name = labName(v);
  // vxlan by default: an operator's `lab up` should give pods, Services and DNS that work across nodes.
  const routing = ((v.routing as string | undefined) ?? 'vxlan') as LabRouting;
  const store = ((v.store as string | undefined) ?? 'file') as LabStoreKind;
  const nodes = intFlag(v.nodes, 'nodes', 3, 1000);
  return withSignals(async (signal) => {
    const started = Date.now();
    const proxyMode = v['proxy-mode'] as LabProxyMode | undefined;
    const ipFamily = v['ip-family'] as LabIpFamily | undefined;
    const lab = await createLab({ name, nodes, routing, store, ...(proxyMode ? { proxyMode } : {}), ...(ipFamily ? { ipFamily } : {}), signal, onStep: pauseHook(signal) });
    try {
      // The control plane is part of `up`: if it cannot start, nothing is left behind (as for the underlay).
      let cp: ControlPlaneReport | undefined;
      if (!v['no-podnet']) cp = await startControlPlane(lab, { logLevel: v['log-level'] as string | undefined });
      if (signal.aborted) throw new Error('interrupted');
      process.stdout.write(`${formatLabSummary(lab, Date.now() - started, cp)}\n`);
      const check = await lab.checkReachability();
      if (signal.aborted) throw new Error('interrupted');
      process.stdout.write(`\nreachability:\n${formatReachability(check)}\n`);
      if (check.failures.length > 0) {
        process.stdout.write(`\nsome nodes cannot reach each other; the lab is left up for inspection ` +
          `(podnetctl lab status --name ${name}; podnetctl lab down --name ${name})\n`);
        return 1;
      }
      const nameFlag = name === DEFAULT_LAB_NAME ? '' : ` --name ${name}`;
      // podnetctl finds the default lab's file store by itself; any other store is named explicitly.
      const storeFlag = cp && (name !== DEFAULT_LAB_NAME || cp.hostStore !== cp.store || process.env.PODNET_LAB_DIR)
        ? ` --store ${cp.hostStore}` : '';
      const apply = cp ? `podnetctl apply${storeFlag} -f deploy/lab-demo.yaml   |   ` : '';
      process.stdout.write(`\nnext: ${apply}podnetctl lab exec${nameFlag} n1 -- ip address` +
        `   |   podnetctl lab down${nameFlag}\n`);
      return 0;
    } catch (err) {
      await lab.destroy();
      if (!signal.aborted) throw err;
      throw new Error(`lab ${name}: interrupted; everything made so far was removed`);
    }
  });
}

async function down(argv: string[]): Promise<number> {
  const name = labName(parse(argv, { name: { type: 'string' } }));
  const r = await destroyLab(name);
  if (r.namespaces.length === 0 && r.processes === 0) {
    process.stdout.write(`lab ${name}: nothing left to remove\n`);
  } else {
    process.stdout.write(`lab ${name}: removed ${r.namespaces.length} namespaces (${r.namespaces.join(', ')}), ` +
      `stopped ${r.processes} process${r.processes === 1 ? '' : 'es'}, removed its state directory\n`);
  }
  if (r.stateProblem) process.stdout.write(`  (the state file was unreadable: ${r.stateProblem})\n`);
  return 0;
}

async function status(argv: string[]): Promise<number> {
  const v = parse(argv, { name: { type: 'string' }, json: { type: 'boolean' } });
  const s = await collectStatus(labName(v));
  if (v.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
  else if (s.phase === 'no state' && s.otherNamespaces.length === 0) process.stdout.write(`lab ${s.name}: not up\n`);
  else process.stdout.write(`${formatStatus(s)}\n`);
  return s.healthy ? 0 : 1;
}

/** `exec [--name LAB] TARGET [--] CMD...`: flags end at TARGET, so CMD's own flags pass through untouched. */
async function exec(argv: string[]): Promise<number> {
  let lab = DEFAULT_LAB_NAME;
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const a = argv[i]!;
    if (a === '--name' && i + 1 < argv.length) lab = argv[++i]!;
    else if (a.startsWith('--name=')) lab = a.slice('--name='.length);
    else throw new UsageError(`lab exec: unknown flag "${a}"\n${USAGE}`);
  }
  const target = argv[i];
  const cmd = argv.slice(argv[i + 1] === '--' ? i + 2 : i + 1);
  if (!target || cmd.length === 0) throw new UsageError(`lab exec: expected TARGET -- CMD...\n${USAGE}`);
  const ns = await resolveLabNamespace(validateLabName(lab), target);
  const child = spawn(requireTool('ip', 'iproute2'), ['netns', 'exec', ns, ...cmd], { stdio: 'inherit' });
  // The terminal's SIGINT reaches the child too (same process group); this process just waits for its exit code.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      // A command killed by a signal exits like a shell reports it: 128 + the signal number.
      child.once('exit', (code, sig) => resolve(code ?? 128 + (sig ? osConstants.signals[sig] : 0)));
    });
  } finally {
    process.off('SIGINT', ignore);
  }
}

async function serve(argv: string[]): Promise<number> {
  const v = parse(argv, { http: { type: 'string' }, udp: { type: 'string' }, tcp: { type: 'string' },
    name: { type: 'string' }, host: { type: 'string' } });
  const server = await startTestServer({
    name: (v.name as string | undefined) ?? process.env.POD_NAME ?? hostname(),
    http: intFlag(v.http, 'http', DEFAULT_SERVE_PORTS.http),
    udp: intFlag(v.udp, 'udp', DEFAULT_SERVE_PORTS.udp),
    tcp: intFlag(v.tcp, 'tcp', DEFAULT_SERVE_PORTS.tcp),
    host: v.host as string | undefined,
  });
  const { http, udp, tcp } = server.ports;
  process.stdout.write(`serving as ${server.name} on [${server.host}]: http ${http}, udp ${udp}, tcp ${tcp}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await server.close();
  return 0;
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = { up, down, status, exec, serve, kubelet: kubeletCommand };

export async function labCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '-h' || sub === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return sub ? 0 : 2;
  }
  const run = SUBCOMMANDS[sub];
  if (!run) throw new UsageError(`lab: unknown command "${sub}"\n${USAGE}`);
  return run(rest);
}
