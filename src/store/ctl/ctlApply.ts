/**
 * @module store/ctl/ctlApply — `podnetctl apply -f FILE|DIR|-` and `delete -f`: read manifests, report each bad
 * document (file, document, field) and apply the rest, namespaces first. Applying over an existing object keeps
 * what the cluster filled in and the manifest does not say (allocated clusterIP and nodePorts, status written by
 * the lab kubelet or the LB), as kubectl apply's merge would, so re-applying a file never reshuffles addresses.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../store.ts';
import { retryUpdate } from '../store.ts';
import type { Service } from '../types.ts';
import { formatProblem, parseJsonManifest, parseManifests, type AnyObject } from '../validate.ts';
import { APPLY_ORDER } from '../objectKeys.ts';
import { contentVersion } from '../contentVersion.ts';
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

export async function applyObjects(store: Store, objects: AnyObject[], io: CtlIO): Promise<number> {
  let failed = 0;
  for (const obj of objects) {
    const label = `${qualifiedKind(obj.kind)}/${obj.metadata.name}`;
    let verb = 'unchanged';
    try {
      await retryUpdate(store, obj.kind, obj.metadata.name, obj.metadata.namespace, (cur) => {
        if (!cur) { verb = 'created'; return obj; }
        const merged = mergeForApply(cur, obj);
        if (contentVersion({ ...merged, metadata: { ...merged.metadata, resourceVersion: '' } }) === contentVersion({ ...cur, metadata: { ...cur.metadata, resourceVersion: '' } })) {
          verb = 'unchanged';
          return undefined;
        }
        verb = 'configured';
        return merged;
      });
      io.out(`${label} ${verb}\n`);
    } catch (err) {
      failed += 1;
      io.err(`${serverError(err, `applying ${label}`)}\n`);
    }
  }
  return failed;
}

export async function deleteObjects(store: Store, objects: AnyObject[], io: CtlIO): Promise<number> {
  let failed = 0;
  for (const obj of [...objects].reverse()) {
    try {
      await store.delete(obj.kind, obj.metadata.name, obj.metadata.namespace);
      io.out(`${qualifiedKind(obj.kind)} "${obj.metadata.name}" deleted\n`);
    } catch (err) {
      failed += 1;
      io.err(`${serverError(err, describeError(err))}\n`);
    }
  }
  return failed;
}
