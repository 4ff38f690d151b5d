/**
 * @module lab/labState — the lab's state directory: `<root>/<lab>/state.json` (root: env PODNET_LAB_DIR, default
 * /run/podnet-lab — tmpfs, so a reboot, which also drops every namespace, drops the state too), the file store
 * `<root>/<lab>/store` and process logs `<root>/<lab>/logs/`.
 *
 * The state is written before the first namespace exists (phase `creating`), so an interrupted `lab up` leaves
 * enough behind for `lab down`; writes go through a temporary file and rename, so a reader never sees half a file.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PodnetError } from '../common/errors.ts';
import type { LabOptions } from './addressPlan.ts';
import { validateLabName } from './labNames.ts';

export const DEFAULT_LAB_ROOT = '/run/podnet-lab';
export const STATE_VERSION = 1;

/** A process the lab started (podnetd, etcd, a test server...): enough to find it again and to stop only it. */
export interface LabProcessRecord {
  name: string;
  ns: string;
  pid: number;
  /** Field 22 of /proc/PID/stat: tells our process from a later one that reused the PID. */
  startTime: string;
  argv: string[];
  log: string;
}

export interface LabState {
  version: number;
  name: string;
  phase: 'creating' | 'up';
  createdAt: string;
  options: LabOptions;
  namespaces: string[];
  /** The address plan, spelled out for readers other than podnet (scripts, people); derived from `options`. */
  hosts: Array<{ id: string; role: string; ns: string; addresses: string[] }>;
  processes: LabProcessRecord[];
  /** The store every process of the lab uses (`file:<dir>/store` or the lab's etcd), once the control plane runs. */
  store?: string;
  /** The same store from the host's side (differs for the lab's etcd: a unix socket). */
  hostStore?: string;
}

export function labRoot(explicit?: string): string {
  return resolve(explicit ?? process.env.PODNET_LAB_DIR ?? DEFAULT_LAB_ROOT);
}

export interface LabPaths {
  dir: string;
  stateFile: string;
  storeDir: string;
  logDir: string;
}

export function labPaths(name: string, root?: string): LabPaths {
  const dir = join(labRoot(root), validateLabName(name));
  return { dir, stateFile: join(dir, 'state.json'), storeDir: join(dir, 'store'), logDir: join(dir, 'logs') };
}

export class LabStateError extends PodnetError {
  constructor(file: string, why: string) {
    super('PODNET_LAB_STATE', `${file}: ${why}`);
  }
}

/** The state, or null when there is none. A file that is not a lab state is an error naming the file. */
export function readLabState(paths: LabPaths): LabState | null {
  let text: string;
  try {
    text = readFileSync(paths.stateFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LabStateError(paths.stateFile, `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    throw new LabStateError(paths.stateFile, 'not valid JSON (run `podnetctl lab down` to clear the lab)');
  }
  const s = state as Partial<LabState>;
  if (typeof s !== 'object' || s === null || s.version !== STATE_VERSION || typeof s.name !== 'string' ||
      !Array.isArray(s.namespaces) || !Array.isArray(s.processes) || typeof s.options !== 'object') {
    throw new LabStateError(paths.stateFile, `not a lab state of version ${STATE_VERSION}`);
  }
  return s as LabState;
}

export function writeLabState(paths: LabPaths, state: LabState): void {
  const tmp = `${paths.stateFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, paths.stateFile);
}

/** Read-modify-write of the state (the lab's own processes are its only writers). */
export function updateLabState(paths: LabPaths, change: (s: LabState) => void): LabState {
  const s = readLabState(paths);
  if (!s) throw new LabStateError(paths.stateFile, 'the lab has no state (is it up?)');
  change(s);
  writeLabState(paths, s);
  return s;
}

/**
 * Create the lab's directory exclusively: the second of two concurrent `lab up --name X` fails here, before it
 * touches anything, instead of both building (and then tearing down) the same namespaces.
 * Returns false when the directory already exists.
 */
export function claimLabDir(paths: LabPaths): boolean {
  mkdirSync(dirname(paths.dir), { recursive: true });
  try {
    mkdirSync(paths.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  mkdirSync(paths.logDir);
  return true;
}

export function removeLabDir(paths: LabPaths): void {
  rmSync(paths.dir, { recursive: true, force: true });
}
