/**
 * @module store/storeBatch — many writes in one call (`Store.writeBatch`), for cluster-sized applies (issue 14):
 * the file store takes its lock once per batch, etcd commits multi-op transactions, the memory store loops, and
 * the kube store falls back to one request per object (`writeBatchOneByOne`).
 *
 * Every op has its own result: a bad object or a conflict fails that op only. Ops are planned against the object
 * as the backend holds it at write time (`planOp`, pure), with the same checks and compare-and-swap a single
 * create/update/delete makes, so a batch is never weaker than the writes it replaces.
 */
import type { KindName } from './types.ts';
import type { AnyKube, Store } from './store.ts';
import { AlreadyExistsError, ConflictError, NotFoundError } from './storeErrors.ts';
import { carryOver, checkedCopy, stampNew } from './writeChecks.ts';
import { contentVersion } from './contentVersion.ts';
import { namespaceFor } from './objectKeys.ts';

export type BatchOp =
  | { op: 'create'; object: AnyKube }
  /** Compare-and-swap on object.metadata.resourceVersion when it is set. */
  | { op: 'update'; object: AnyKube }
  /**
   * Create, or update whatever is there now: `merge(current)` gives the object to store (default: `object`), and
   * an object equal in content to the current one is not written (`unchanged`). `merge` must be a pure function
   * of its input (it runs again when a concurrent writer wins) and must not mutate it.
   */
  | { op: 'apply'; object: AnyKube; merge?: (current: AnyKube) => AnyKube }
  | { op: 'delete'; kind: KindName; name: string; namespace?: string; resourceVersion?: string };

export type BatchResult =
  | { status: 'created' | 'updated' | 'unchanged'; object: AnyKube }
  | { status: 'deleted' }
  | { status: 'failed'; error: Error };

/** What a backend does for one op, decided from the current object alone. */
export type OpPlan =
  | { action: 'put'; status: 'created' | 'updated'; object: AnyKube }
  | { action: 'delete' }
  | { action: 'none'; result: BatchResult };

/** The object an op is about: kind, namespace (defaulted), name. */
export function opTarget(op: BatchOp): { kind: KindName; namespace: string; name: string } {
  if (op.op === 'delete') return { kind: op.kind, namespace: namespaceFor(op.kind, op.namespace), name: op.name };
  const { kind, metadata } = op.object;
  return { kind, namespace: namespaceFor(kind, metadata.namespace), name: metadata.name };
}

/**
 * Plan one op against `current` (undefined when absent). A `put` object is validated, defaulted and stamped,
 * and carries no resourceVersion: the backend sets it when it stores the object.
 */
export function planOp(op: BatchOp, current: AnyKube | undefined): OpPlan {
  try {
    const t = opTarget(op);
    if (op.op === 'delete') {
      if (!current) throw new NotFoundError(t.kind, t.name);
      if (op.resourceVersion && op.resourceVersion !== current.metadata.resourceVersion) throw new ConflictError(t.kind, t.name);
      return { action: 'delete' };
    }
    if (op.op === 'create' || (op.op === 'apply' && !current)) {
      if (current) throw new AlreadyExistsError(t.kind, t.name);
      const next = checkedCopy(op.object);
      stampNew(next);
      delete next.metadata.resourceVersion;
      return { action: 'put', status: 'created', object: next };
    }
    if (!current) throw new NotFoundError(t.kind, t.name);
    const want = op.op === 'update' ? op.object.metadata.resourceVersion : undefined;
    if (want && want !== current.metadata.resourceVersion) throw new ConflictError(t.kind, t.name);
    const next = checkedCopy(op.op === 'apply' && op.merge ? op.merge(current) : op.object);
    carryOver(next, current);
    delete next.metadata.resourceVersion;
    if (op.op === 'apply' && contentVersion(next) === contentVersion(current)) return { action: 'none', result: { status: 'unchanged', object: current } };
    return { action: 'put', status: 'updated', object: next };
  } catch (err) {
    return { action: 'none', result: { status: 'failed', error: err as Error } };
  }
}

/** For a backend without batch writes: each op as its own request (a few at a time), results in op order. */
export async function writeBatchOneByOne(store: Store, ops: readonly BatchOp[], parallel = 8): Promise<BatchResult[]> {
  const results: BatchResult[] = new Array(ops.length);
  let next = 0;
  const worker = async () => {
    while (next < ops.length) {
      const i = next++;
      results[i] = await oneOp(store, ops[i]!).catch((error: Error) => ({ status: 'failed', error }) as const);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, ops.length) }, worker));
  return results;
}

async function oneOp(store: Store, op: BatchOp): Promise<BatchResult> {
  const t = opTarget(op);
  for (let attempt = 0; ; attempt++) {
    const current = op.op === 'create' ? undefined : await store.get(t.kind, t.name, t.namespace);
    const plan = planOp(op, current);
    try {
      if (plan.action === 'none') return plan.result;
      if (plan.action === 'delete') {
        await store.delete(t.kind, t.name, t.namespace, { resourceVersion: current!.metadata.resourceVersion! });
        return { status: 'deleted' };
      }
      if (plan.status === 'created') return { status: 'created', object: await store.create(plan.object) };
      plan.object.metadata.resourceVersion = current!.metadata.resourceVersion!;
      return { status: 'updated', object: await store.update(plan.object) };
    } catch (err) {
      // Someone else wrote it between our read and our write: plan again, unless the op itself named a version.
      const raced = err instanceof ConflictError || err instanceof NotFoundError || err instanceof AlreadyExistsError;
      const pinned = op.op === 'create' || (op.op === 'update' && op.object.metadata.resourceVersion) || (op.op === 'delete' && op.resourceVersion);
      if (!raced || pinned || attempt >= 7) throw err;
    }
  }
}
