/**
 * @module store/ctl/ctlCommands — podnetctl's kubectl-like store commands: `apply -f`, `get`, `delete`,
 * `describe`, against `--store` (see ctlIO.ts for the default). Errors read as kubectl's do; exit 1 when anything
 * failed, 2 for usage errors.
 */
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { existsSync } from 'node:fs';
import { openStore } from '../openStore.ts';
import type { Store } from '../store.ts';
import { KINDS, type KindName } from '../types.ts';
import { NotFoundError } from '../storeErrors.ts';
import { UsageError } from '../../common/cli.ts';
import { kindFromArg } from './ctlKinds.ts';
import { renderTable } from './ctlTables.ts';
import { applyManifests, deleteObjects, readManifestArg } from './ctlApply.ts';
import { describeObject } from './ctlDescribe.ts';
import { processIO, serverError, storeSpecFor, type CtlIO } from './ctlIO.ts';

const OPTIONS = {
  store: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  output: { type: 'string', short: 'o' },
  filename: { type: 'string', short: 'f' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface Flags { store?: string; namespace?: string; all: boolean; output?: string; filename?: string; positionals: string[] }

function parseFlags(argv: string[]): Flags {
  try {
    const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    return { store: v.store, namespace: v.namespace, all: Boolean(v['all-namespaces']), output: v.output, filename: v.filename, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

type Verb = (store: Store, f: Flags, io: CtlIO) => Promise<number>;

async function get(store: Store, f: Flags, io: CtlIO): Promise<number> {
  const [kindArg, name] = f.positionals;
  if (!kindArg) throw new UsageError('get: which kind? e.g. podnetctl get svc');
  if (kindArg.includes(',') && !name && (!f.output || f.output === 'wide')) return getSeveral(store, f, io, kindArg.split(','));
  if (f.output && !['yaml', 'json', 'wide', 'name'].includes(f.output)) throw new UsageError(`unable to match a printer suitable for the output format "${f.output}", allowed formats are: json,name,wide,yaml`);
  const kind = kindFromArg(kindArg);
  const namespaced = KINDS[kind].namespaced;
  const ns = f.namespace ?? 'default';
  let items;
  if (name) {
    const o = await store.get(kind, name, ns);
    if (!o) throw new NotFoundError(kind, name);
    items = [o];
  } else {
    items = (await store.list(kind, namespaced && !f.all ? { namespace: ns } : {})).items;
    items.sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`));
  }
  if (f.output === 'yaml' || f.output === 'json') {
    const doc = name ? items[0] : { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
    io.out(f.output === 'json' ? `${JSON.stringify(doc, null, 4)}\n` : YAML.stringify(doc));
    return 0;
  }
  if (items.length === 0) {
    io.err(namespaced && !f.all ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
    return 0;
  }
  if (f.output === 'name') {
    io.out(items.map((o) => `${kind.toLowerCase()}/${o.metadata.name}\n`).join(''));
    return 0;
  }
  io.out(`${renderTable(kind, items, { wide: f.output === 'wide', withNamespace: namespaced && f.all && !name })}\n`);
  return 0;
}

/** `get svc,po`: one table per kind, names as `kind/name`, a blank line between tables (kubectl's layout). */
async function getSeveral(store: Store, f: Flags, io: CtlIO, kindArgs: string[]): Promise<number> {
  const tables: string[] = [];
  for (const kind of kindArgs.map(kindFromArg)) {
    const namespaced = KINDS[kind].namespaced;
    const items = (await store.list(kind, namespaced && !f.all ? { namespace: f.namespace ?? 'default' } : {})).items
      .map((o) => ({ ...o, metadata: { ...o.metadata, name: `${kind.toLowerCase()}/${o.metadata.name}` } }));
    if (items.length) tables.push(renderTable(kind, items, { wide: f.output === 'wide', withNamespace: namespaced && f.all }));
  }
  if (tables.length === 0) io.err(`No resources found in ${f.namespace ?? 'default'} namespace.\n`);
  else io.out(`${tables.join('\n\n')}\n`);
  return 0;
}

async function apply(store: Store, f: Flags, io: CtlIO): Promise<number> {
  if (!f.filename) throw new UsageError('error: must specify one of -f and -k');
  return (await applyManifests(store, f.filename, io)) > 0 ? 1 : 0;
}

async function del(store: Store, f: Flags, io: CtlIO): Promise<number> {
  if (f.filename) {
    const { objects, problems } = await readManifestArg(f.filename, io);
    for (const p of problems) io.err(`${p}\n`);
    return problems.length + (await deleteObjects(store, objects, io)) > 0 ? 1 : 0;
  }
  const [kindArg, ...names] = f.positionals;
  if (!kindArg || names.length === 0) throw new UsageError('delete: expected KIND NAME... or -f FILE');
  const kind = kindFromArg(kindArg);
  const objects = names.map((name) => ({ kind, metadata: { name, namespace: f.namespace ?? 'default' } }) as never);
  return (await deleteObjects(store, objects, io)) > 0 ? 1 : 0;
}

async function describe(store: Store, f: Flags, io: CtlIO): Promise<number> {
  const [kindArg, name] = f.positionals;
  if (!kindArg || !name) throw new UsageError('describe: expected KIND NAME');
  const kind: KindName = kindFromArg(kindArg);
  const o = await store.get(kind, name, f.namespace ?? 'default');
  if (!o) throw new NotFoundError(kind, name);
  io.out(await describeObject(store, o));
  return 0;
}

const VERBS: Record<string, Verb> = { get, apply, delete: del, describe };

/** Run one store command; errors from the store are printed kubectl-style and give exit code 1. */
export async function runCtl(verb: string, argv: string[], io: CtlIO = processIO()): Promise<number> {
  const run = VERBS[verb];
  if (!run) throw new UsageError(`unknown command "${verb}"`);
  const flags = parseFlags(argv);
  const spec = storeSpecFor(flags.store, io);
  // Reading a file store that is not there is almost always a mistyped --store: say so instead of "No resources".
  if (verb !== 'apply' && spec.startsWith('file:') && !existsSync(spec.slice('file:'.length))) {
    throw new UsageError(`--store ${spec}: no such directory (is the lab up? \`podnetctl lab up\`)`);
  }
  const store = await openStore(spec, { writer: verb === 'apply' || verb === 'delete' });
  try {
    return await run(store, flags, io);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    io.err(`${serverError(err, `${verb}`)}\n`);
    return 1;
  } finally {
    await store.close();
  }
}

/** The entry cmd/podnetctl/main.ts dispatches to. */
export function commandFor(verb: string): (argv: string[]) => Promise<number> {
  return (argv) => runCtl(verb, argv);
}
