/**
 * @module store/ctl/ctlApply — `podnetctl apply -f FILE|DIR|-` and `delete -f`: read manifests, report each bad
 * document (file, document, field) and apply the rest. Applying over an existing object keeps what the cluster
 * filled in and the manifest does not say (allocated clusterIP and nodePorts, status written by the lab kubelet
 * or the LB), as kubectl apply's merge would, so re-applying a file never reshuffles addresses.
 *
 * Cluster-sized input (issue 14): objects are streamed from the file (manifestStream.ts) and written
 * APPLY_BATCH at a time through `Store.writeBatch` (one lock hold on the file store, ≤128-op transactions on
 * etcd), each batch ordered namespaces first; one output write per batch. A rerun after a crash re-applies
 * what is there as `unchanged` and completes the rest.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchOp, BatchResult, Store } from '../store.ts';
import { MAX_BATCH } from '../store.ts';
import type { Service } from '../types.ts';
import { formatProblem, parseJsonManifest, parseManifests, type AnyObject } from '../validate.ts';
import { APPLY_ORDER } from '../objectKeys.ts';
import { manifestStream } from './manifestStream.ts';
import { qualifiedKind } from './ctlKinds.ts';
import { describeError } from '../../common/errors.ts';
import type { CtlIO } from './ctlIO.ts';
import { serverError } from './ctlIO.ts';

export async function readManifestArg(arg: string, io: CtlIO): Promise<{ objects: AnyObject[]; problems: string[] }> {
  const files: Array<{ name: string; text: string }> = [];
  if (arg === '-') files.push({ name: '<stdin>', text: await io.readStdin() });
  else {
    const st = await stat(arg).catch(() => undefined);
    if (!st) return { objects: [], problems: [`error: the path "${arg}" does not exist`] };
    if (st.isDirectory()) {
      for (const n of (await readdir(arg)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort()) files.push({ name: join(arg, n), text: await readFile(join(arg, n), 'utf8') });
    } else files.push({ name: arg, text: await readFile(arg, 'utf8') });
  }
  const objects: AnyObject[] = [];
  const problems: string[] = [];
  for (const f of files) {
    const parsed = f.name.endsWith('.json') ? parseJsonManifest(f.text, f.name) : parseManifests(f.text, f.name);
    if (parsed.syntaxError) problems.push(`error: ${parsed.syntaxError}`);
    problems.push(...parsed.problems.map((p) => `error: ${formatProblem(p)}`));
    objects.push(...parsed.objects.map((o) => o.object));
  }
  objects.sort((a, b) => APPLY_ORDER.indexOf(a.kind) - APPLY_ORDER.indexOf(b.kind));
  return { objects, problems };
}

/** `desired` with what the cluster filled in kept from `current`. */
export function mergeForApply(current: AnyObject, desired: AnyObject): AnyObject {
  const next = structuredClone(desired) as AnyObject & { status?: unknown };
  const cur = current as AnyObject & { status?: unknown };
  if (next.status === undefined && cur.status !== undefined) next.status = structuredClone(cur.status);
  next.metadata.resourceVersion = current.metadata.resourceVersion!;
  next.metadata.uid = current.metadata.uid!;
  next.metadata.creationTimestamp = current.metadata.creationTimestamp!;
  if (next.kind === 'Service' && current.kind === 'Service') keepAllocations(current, next);
  return next;
}

function keepAllocations(cur: Service, next: Service): void {
  if (!next.spec.clusterIP && cur.spec.clusterIP) {
    next.spec.clusterIP = cur.spec.clusterIP;
    if (cur.spec.clusterIPs) next.spec.clusterIPs = cur.spec.clusterIPs;
    if (cur.spec.ipFamilies) next.spec.ipFamilies ??= cur.spec.ipFamilies;
    if (cur.spec.ipFamilyPolicy) next.spec.ipFamilyPolicy ??= cur.spec.ipFamilyPolicy;
  }
  for (const p of next.spec.ports ?? []) {
    if (p.nodePort !== undefined) continue;
    const old = cur.spec.ports?.find((o) => (o.name ?? '') === (p.name ?? '') && o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
    if (old?.nodePort !== undefined) p.nodePort = old.nodePort;
  }
}

const VERB: Record<string, string> = { created: 'created', updated: 'configured', unchanged: 'unchanged' };

/** Apply everything `arg` names, batch by batch; returns how many problems and failures there were. */
export async function applyManifests(store: Store, arg: string, io: CtlIO): Promise<number> {
  let bad = 0;
  let batch: AnyObject[] = [];
  for await (const item of manifestStream(arg, io)) {
    if ('problem' in item) {
      bad += 1;
      io.err(`${item.problem}\n`);
      continue;
    }
    batch.push(item.object);
    if (batch.length >= MAX_BATCH) {
      bad += await applyObjects(store, batch, io);
      batch = [];
    }
  }
  if (batch.length) bad += await applyObjects(store, batch, io);
  return bad;
}

/** Apply one batch (namespaces first); one output line per object, written at once. Returns the failures. */
export async function applyObjects(store: Store, objects: AnyObject[], io: CtlIO): Promise<number> {
  const ordered = [...objects].sort((a, b) => APPLY_ORDER.indexOf(a.kind) - APPLY_ORDER.indexOf(b.kind));
  const ops: BatchOp[] = ordered.map((object) => ({ op: 'apply', object, merge: (cur) => mergeForApply(cur, object) }));
  const results = await writeAll(store, ops);
  let out = '';
  let err = '';
  let failed = 0;
  results.forEach((r, i) => {
    const obj = ordered[i]!;
    const label = `${qualifiedKind(obj.kind)}/${obj.metadata.name}`;
    if (r.status === 'failed') {
      failed += 1;
      err += `${serverError(r.error, `applying ${label}`)}\n`;
    } else out += `${label} ${VERB[r.status] ?? r.status}\n`;
  });
  if (out) io.out(out);
  if (err) io.err(err);
  return failed;
}

/** writeBatch, with a failure of the whole call (store unreachable) reported on every op. */
async function writeAll(store: Store, ops: BatchOp[]): Promise<BatchResult[]> {
  try {
    return await store.writeBatch(ops);
  } catch (error) {
    return ops.map(() => ({ status: 'failed', error: error as Error }));
  }
}

export async function deleteObjects(store: Store, objects: AnyObject[], io: CtlIO): Promise<number> {
  let failed = 0;
  const reversed = [...objects].reverse();
  for (let i = 0; i < reversed.length; i += MAX_BATCH) {
    const part = reversed.slice(i, i + MAX_BATCH);
    const results = await writeAll(store, part.map((o) => ({ op: 'delete', kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) })));
    let out = '';
    let err = '';
    results.forEach((r, n) => {
      const obj = part[n]!;
      if (r.status === 'failed') {
        failed += 1;
        err += `${serverError(r.error, describeError(r.error))}\n`;
      } else out += `${qualifiedKind(obj.kind)} "${obj.metadata.name}" deleted\n`;
    });
    if (out) io.out(out);
    if (err) io.err(err);
  }
  return failed;
}
