/**
 * @module routing/nodeStateMtu — give the CNI plugin the pod MTU through the node state file
 * (`/run/podnet/node.json`, read by src/ipam/nodeState.ts). src/node owns the file's other fields (pod CIDRs,
 * cluster CIDRs); routing only merges `mtu` in, read-modify-write with an atomic rename, so either writer may run
 * first and neither drops the other's fields.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function writeNodeMtu(path: string, mtu: number): boolean {
  let current: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) current = parsed as Record<string, unknown>;
  } catch {
    /* absent or unreadable: start from an empty object (src/node rewrites its fields) */
  }
  if (current.mtu === mtu) return false;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...current, mtu }, null, 2)}\n`);
  renameSync(tmp, path);
  return true;
}
