/**
 * What libcni does with a conflist, reduced to what the interop tests need: per plugin, insert cniVersion, name,
 * runtimeConfig (only the capabilities it declares) and prevResult; ADD in order, DEL and CHECK in reverse / in
 * order with the final ADD result as prevResult. Plugins are exec'd from the cluster's CNI_PATH in the node ns.
 */
import type { Cluster, CniOutcome } from './cniFixture.ts';

export interface Conflist {
  cniVersion: string;
  name: string;
  plugins: Array<Record<string, unknown>>;
}

function pluginConfig(list: Conflist, plugin: Record<string, unknown>, capabilityArgs: Record<string, unknown>,
  prevResult: unknown): Record<string, unknown> {
  const { capabilities, ...rest } = plugin as { capabilities?: Record<string, boolean> };
  const runtimeConfig = Object.fromEntries(Object.entries(capabilityArgs).filter(([k]) => capabilities?.[k]));
  return {
    ...rest, cniVersion: list.cniVersion, name: list.name,
    ...(Object.keys(runtimeConfig).length ? { runtimeConfig } : {}),
    ...(prevResult ? { prevResult } : {}),
  };
}

function binaryOf(type: string): string {
  return type.startsWith('podnet') ? type : `/usr/lib/cni/${type}`;
}

export interface Attachment { containerId: string; netns: string; ifname: string; args?: string }

export async function addList(c: Cluster, list: Conflist, att: Attachment, caps: Record<string, unknown> = {}): Promise<CniOutcome> {
  let prev: unknown;
  let last: CniOutcome | undefined;
  for (const p of list.plugins) {
    last = await c.exec({ command: 'ADD', ...att, config: pluginConfig(list, p, caps, prev) }, binaryOf(String(p.type)));
    if (last.code !== 0) return { ...last, stdout: `${String(p.type)}: ${last.stdout}` };
    prev = last.json;
  }
  return last!;
}

export async function checkList(c: Cluster, list: Conflist, att: Attachment, result: unknown, caps: Record<string, unknown> = {}): Promise<CniOutcome[]> {
  const out: CniOutcome[] = [];
  for (const p of list.plugins) out.push(await c.exec({ command: 'CHECK', ...att, config: pluginConfig(list, p, caps, result) }, binaryOf(String(p.type))));
  return out;
}

export async function delList(c: Cluster, list: Conflist, att: Attachment, result: unknown, caps: Record<string, unknown> = {}): Promise<CniOutcome[]> {
  const out: CniOutcome[] = [];
  for (const p of [...list.plugins].reverse()) out.push(await c.exec({ command: 'DEL', ...att, config: pluginConfig(list, p, caps, result) }, binaryOf(String(p.type))));
  return out;
}
