/**
 * @module store/backends/etcdBatch — `writeBatch` on etcd: ops go out as multi-op transactions, each op guarded
 * by the same compare a single write makes (create_revision == 0 for a create, mod_revision == the version read
 * for an update or delete), so a batch is as safe as the writes it replaces and a transaction is whole or absent.
 *
 * Per chunk: one read transaction (a range per key), plan every op against what it read (storeBatch.planOp),
 * one write transaction. When another writer changed one of the keys meanwhile the compare fails; the failure
 * branch returns the keys' current values, so the chunk is re-planned without another read.
 * Limits: etcd rejects a transaction with more than --max-txn-ops operations (default 128), larger than
 * --max-request-bytes (default 1.5 MiB), or touching one key twice; chunks respect all three.
 */
import type { Etcd3 } from 'etcd3';
import type { AnyKube } from '../store.ts';
import { opTarget, planOp, type BatchOp, type BatchResult } from '../storeBatch.ts';
import { ConflictError, StoreUnavailableError } from '../storeErrors.ts';
import { decodeValue, encodeValue, keyOf } from './etcdKeys.ts';

export const MAX_TXN_OPS = 128;
const MAX_TXN_BYTES = 1024 * 1024;
const ATTEMPTS = 5;

interface RangeKv { key: Buffer; value: Buffer; mod_revision: string }

/** Split op indices into runs of at most MAX_TXN_OPS with no key twice in one run (op order kept). */
export function chunkByKey(keys: readonly string[], max = MAX_TXN_OPS): number[][] {
  const chunks: number[][] = [];
  let cur: number[] = [];
  let seen = new Set<string>();
  keys.forEach((k, i) => {
    if (cur.length >= max || seen.has(k)) {
      chunks.push(cur);
      cur = [];
      seen = new Set();
    }
    cur.push(i);
    seen.add(k);
  });
  if (cur.length) chunks.push(cur);
  return chunks;
}

export async function etcdWriteBatch(client: Etcd3, ops: readonly BatchOp[]): Promise<BatchResult[]> {
  const keys = ops.map((op) => { const t = opTarget(op); return keyOf(t.kind, t.name, t.namespace); });
  const results: BatchResult[] = new Array(ops.length);
  for (const chunk of chunkByKey(keys)) await writeChunk(client, chunk.map((i) => ({ i, key: keys[i]!, op: ops[i]! })), results);
  return results;
}

interface Item { i: number; key: string; op: BatchOp }
interface Write { item: Item; cur: AnyKube | undefined; value?: string; status: 'created' | 'updated' | 'deleted'; object?: AnyKube }

async function writeChunk(client: Etcd3, items: Item[], results: BatchResult[]): Promise<void> {
  let current = await readKeys(client, items.map((it) => it.key));
  for (let attempt = 0; ; attempt++) {
    const writes: Write[] = [];
    items.forEach((item, n) => {
      const cur = current[n];
      if (cur instanceof Error) { results[item.i] = { status: 'failed', error: cur }; return; }
      const plan = planOp(item.op, cur);
      if (plan.action === 'none') results[item.i] = plan.result;
      else if (plan.action === 'delete') writes.push({ item, cur, status: 'deleted' });
      else writes.push({ item, cur, status: plan.status, object: plan.object, value: encodeValue(plan.object) });
    });
    if (writes.length === 0) return;
    const failedAt = await commitWrites(client, writes, results);
    if (failedAt.length === 0) return;
    if (attempt + 1 >= ATTEMPTS) {
      for (const w of failedAt) results[w.item.i] = { status: 'failed', error: new ConflictError(w.item.op.op === 'delete' ? w.item.op.kind : w.item.op.object.kind, opTarget(w.item.op).name) };
      return;
    }
    items = failedAt.map((w) => w.item);
    current = await readKeys(client, items.map((it) => it.key));
  }
}

/** Commit writes in transactions that fit etcd's size limit; returns the writes whose transaction lost a race. */
async function commitWrites(client: Etcd3, writes: Write[], results: BatchResult[]): Promise<Write[]> {
  const lost: Write[] = [];
  let start = 0;
  while (start < writes.length) {
    let end = start;
    let bytes = 0;
    while (end < writes.length && (end === start || bytes + size(writes[end]!) <= MAX_TXN_BYTES)) bytes += size(writes[end++]!);
    const group = writes.slice(start, end);
    const res = await call('writing a batch', () => client.kv.txn({
      compare: group.map((w) => (w.cur
        ? { key: Buffer.from(w.item.key), target: 'Mod' as const, result: 'Equal' as const, mod_revision: w.cur.metadata.resourceVersion! }
        : { key: Buffer.from(w.item.key), target: 'Create' as const, result: 'Equal' as const, create_revision: '0' })),
      success: group.map((w) => (w.status === 'deleted'
        ? { request_delete_range: { key: Buffer.from(w.item.key) } }
        : { request_put: { key: Buffer.from(w.item.key), value: Buffer.from(w.value!) } })),
    }));
    if (res.succeeded) {
      for (const w of group) {
        if (w.status === 'deleted') results[w.item.i] = { status: 'deleted' };
        else {
          w.object!.metadata.resourceVersion = res.header.revision;
          results[w.item.i] = { status: w.status, object: w.object! };
        }
      }
    } else lost.push(...group);
    start = end;
  }
  return lost;
}

const size = (w: Write) => w.item.key.length + (w.value?.length ?? 0) + 64;

/** The objects at `keys` now (undefined when absent, an Error when the stored value is not a valid object). */
async function readKeys(client: Etcd3, keys: string[]): Promise<Array<AnyKube | undefined | Error>> {
  const res = await call('reading a batch', () => client.kv.txn({ success: keys.map((k) => ({ request_range: { key: Buffer.from(k) } })) }));
  return res.responses.map((r, n) => {
    const kv = (r.response_range.kvs as RangeKv[])[0];
    if (!kv) return undefined;
    const { object, problems } = decodeValue(kv.value, kv.mod_revision);
    return object ?? new StoreUnavailableError(`etcd key ${keys[n]} holds an invalid object: ${problems.join('; ')}`);
  });
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StoreUnavailableError(`etcd: ${what}: ${(err as Error).message}`, { cause: err });
  }
}
