/**
 * @module lab/lab — the lab as a library: `createLab(opts)` builds a cluster's underlay out of network namespaces
 * and returns a `Lab` handle (`exec`, `spawn`, `status`, `checkReachability`, `destroy`); `openLab(name)` gets the
 * handle of a running lab; `destroyLab(name)` removes one whatever its state. `podnetctl lab` is a thin CLI on top,
 * and every end-to-end test uses the same calls (`t.teardown(() => lab.destroy())`).
 *
 * `createLab` either returns a complete lab or leaves nothing: any failure, or an abort through `signal`
 * (SIGINT/SIGTERM in the CLI), rolls back by tearing the lab down. See README.md for the topology.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PodnetError } from '../common/errors.ts';
import { runTool, type RunOptions, type RunResult } from '../common/systemTools.ts';
import { nodesOf, planLab, planNamespaces, type LabHost, type LabOptions, type LabPlan } from './addressPlan.ts';
import { IprouteWiring } from './iprouteWiring.ts';
import { DEFAULT_LAB_NAME, guardNamespace, isLabNamespace, namespaceCandidates, validateLabName } from './labNames.ts';
import { isRunning, podnetctlCommand, podnetdCommand, startInNamespace, stopProcesses } from './labProcesses.ts';
import { checkReachability, type ReachabilityReport } from './reachability.ts';
import { collectStatus, type LabStatus } from './labStatus.ts';
import { destroyLab, type TeardownReport } from './labTeardown.ts';
import {
  claimLabDir, labPaths, readLabState, updateLabState, writeLabState, type LabPaths, type LabProcessRecord, type LabState,
} from './labState.ts';
import { wiringFor, type LabWiring } from './labWiring.ts';

export { destroyLab, podnetctlCommand, podnetdCommand };
export type { LabPlan, LabHost, LabOptions, LabStatus, ReachabilityReport, TeardownReport };

export class LabExistsError extends PodnetError {
  constructor(name: string, what: string) {
    super('PODNET_LAB_EXISTS', `lab ${name} already exists (${what}); remove it with \`podnetctl lab down --name ${name}\``);
  }
}

export class LabNotFoundError extends PodnetError {
  constructor(name: string, what: string) {
    super('PODNET_LAB_NOT_FOUND', `lab ${name}: ${what}`);
  }
}

export class LabInterruptedError extends PodnetError {
  constructor(name: string, step: string) {
    super('PODNET_LAB_INTERRUPTED', `lab ${name}: interrupted during ${step}; everything made so far was removed`);
  }
}

/** The steps of `createLab`, in order; `onStep` is called after each (a seam for tests and progress output). */
export type LabStep = 'state' | 'namespaces' | 'fabric' | 'hosts' | 'store';

export interface CreateLabOptions extends Partial<LabOptions> {
  /** Parent of the lab's state directory (default: env PODNET_LAB_DIR, else /run/podnet-lab). */
  stateRoot?: string;
  /** Aborting rolls back whatever was made and rejects with LabInterruptedError. */
  signal?: AbortSignal;
  onStep?: (step: LabStep) => void | Promise<void>;
  wiring?: LabWiring;
}

export async function createLab(opts: CreateLabOptions = {}): Promise<Lab> {
  const name = validateLabName(opts.name ?? DEFAULT_LAB_NAME);
  const plan = planLab({ name, nodes: opts.nodes ?? 3, routing: opts.routing ?? 'none', store: opts.store ?? 'file',
    ...(opts.proxyMode ? { proxyMode: opts.proxyMode } : {}), ...(opts.ipFamily ? { ipFamily: opts.ipFamily } : {}) });
  const paths = labPaths(name, opts.stateRoot);
  const wiring = opts.wiring ?? new IprouteWiring(name);
  const existing = (await wiring.listNamespaces()).filter((ns) => isLabNamespace(name, ns));
  if (existing.length > 0) throw new LabExistsError(name, `namespaces ${existing.join(', ')}`);
  if (!claimLabDir(paths)) throw new LabExistsError(name, `state directory ${paths.dir}`);
  // From here on the lab is ours: whatever goes wrong, tear down everything with its prefix.
  let step: LabStep = 'state';
  const done = async (s: LabStep) => {
    step = s;
    await opts.onStep?.(s);
    if (opts.signal?.aborted) throw new LabInterruptedError(name, s);
  };
  try {
    const state: LabState = {
      version: 1, name, phase: 'creating', createdAt: new Date().toISOString(), options: plan.options,
      namespaces: planNamespaces(plan), processes: [],
      hosts: plan.hosts.map((h) => ({ id: h.id, role: h.role, ns: h.ns,
        addresses: h.interfaces.flatMap((i) => [`${i.address}/${i.prefixLen}`, `${i.address6}/${i.prefixLen6}`]) })),
    };
    writeLabState(paths, state);
    await done('state');
    await wiring.addNamespaces(state.namespaces);
    await done('namespaces');
    const [fabric, ...hosts] = wiringFor(plan);
    await wiring.wire(fabric!);
    await done('fabric');
    await Promise.all(hosts.map((w) => wiring.wire(w)));
    await done('hosts');
    mkdirSync(paths.storeDir, { recursive: true });
    await done('store');
    state.phase = 'up';
    writeLabState(paths, state);
    return new Lab(plan, paths, wiring, opts.stateRoot);
  } catch (err) {
    await destroyLab(name, { stateRoot: opts.stateRoot, wiring }).catch(() => undefined);
    if (opts.signal?.aborted && !(err instanceof LabInterruptedError)) throw new LabInterruptedError(name, step);
    throw err;
  }
}

/** The handle of a lab that is up (from its state file). */
export function openLab(name: string = DEFAULT_LAB_NAME, opts: { stateRoot?: string; wiring?: LabWiring } = {}): Lab {
  const paths = labPaths(validateLabName(name), opts.stateRoot);
  const state = readLabState(paths);
  if (!state) throw new LabNotFoundError(name, `no state in ${paths.dir} (is it up? \`podnetctl lab up --name ${name}\`)`);
  return new Lab(planLab(state.options), paths, opts.wiring ?? new IprouteWiring(name), opts.stateRoot);
}

/** The existing lab namespace a user means by `target` (see `Lab.resolve`); needs no state file. */
export async function resolveLabNamespace(lab: string, target: string, wiring: LabWiring = new IprouteWiring(lab)):
  Promise<string> {
  const present = await wiring.listNamespaces();
  const candidates = namespaceCandidates(lab, target);
  const ns = candidates.find((c) => present.includes(c));
  if (!ns) {
    const have = present.filter((n) => isLabNamespace(lab, n)).map((n) => n.slice(lab.length + 1)).join(', ') || 'none';
    throw new LabNotFoundError(lab, `no namespace ${candidates.join(' or ')} (lab ${lab} has: ${have})`);
  }
  return guardNamespace(lab, ns);
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Enter only the network namespace (see labProcesses.ts `netOnly`). */
  netOnly?: boolean;
}

export class Lab {
  readonly name: string;
  readonly plan: LabPlan;
  readonly paths: LabPaths;
  readonly #wiring: LabWiring;
  readonly #stateRoot: string | undefined;

  constructor(plan: LabPlan, paths: LabPaths, wiring: LabWiring, stateRoot?: string) {
    this.name = plan.options.name;
    this.plan = plan;
    this.paths = paths;
    this.#wiring = wiring;
    this.#stateRoot = stateRoot;
  }

  /** `file:` store directory of the lab (what `--store file:DIR` of podnetd and podnetctl point at). */
  get storeDir(): string {
    return this.paths.storeDir;
  }

  get nodes(): LabHost[] {
    return nodesOf(this.plan);
  }

  get client(): LabHost {
    return this.host('client');
  }

  host(id: string): LabHost {
    const h = this.plan.hosts.find((x) => x.id === id || x.ns === id);
    if (!h) throw new LabNotFoundError(this.name, `no host "${id}" (have ${this.plan.hosts.map((x) => x.id).join(', ')})`);
    return h;
  }

  /** Namespace for a name as a user types it: `n1`, `client`, `fabric`, a pod's name, or a full namespace name. */
  async resolve(target: string): Promise<string> {
    // Planned hosts need no lookup (if one was deleted, `ip netns exec` says so); pods and others do.
    if (target === 'fabric' || target === this.plan.fabricNs) return guardNamespace(this.name, this.plan.fabricNs);
    const host = this.plan.hosts.find((h) => h.id === target || h.ns === target);
    if (host) return guardNamespace(this.name, host.ns);
    return resolveLabNamespace(this.name, target, this.#wiring);
  }

  /** Run a command inside a lab namespace and collect its output (non-zero exit rejects unless allowFailure). */
  async exec(target: string, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const ns = await this.resolve(target);
    return runTool('ip', ['netns', 'exec', ns, ...argv], opts);
  }

  /** Start a long-running process in a lab namespace; it is recorded in the state and stopped by `destroy()`. */
  async spawn(target: string, name: string, argv: readonly string[], opts: SpawnOptions = {}): Promise<LabProcessRecord> {
    const ns = await this.resolve(target);
    if (this.processes().some((p) => p.name === name && isRunning(p))) {
      throw new LabExistsError(this.name, `a process named ${name} is running`);
    }
    const rec = await startInNamespace({ name, ns, argv: [...argv], log: join(this.paths.logDir, `${name}.log`),
      env: opts.env, cwd: opts.cwd, netOnly: opts.netOnly });
    updateLabState(this.paths, (s) => {
      s.processes = s.processes.filter((p) => p.name !== name).concat(rec);
    });
    return rec;
  }

  /** Stop a process started by `spawn` (by its name in the lab). */
  async stop(name: string): Promise<void> {
    const recs = this.processes().filter((p) => p.name === name);
    await stopProcesses(recs);
    updateLabState(this.paths, (s) => {
      s.processes = s.processes.filter((p) => p.name !== name);
    });
  }

  processes(): LabProcessRecord[] {
    return readLabState(this.paths)?.processes ?? [];
  }

  status(): Promise<LabStatus> {
    return collectStatus(this.name, { stateRoot: this.#stateRoot, wiring: this.#wiring });
  }

  checkReachability(): Promise<ReachabilityReport> {
    return checkReachability(this);
  }

  async destroy(): Promise<TeardownReport> {
    return destroyLab(this.name, { stateRoot: this.#stateRoot, wiring: this.#wiring });
  }
}
