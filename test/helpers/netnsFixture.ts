/**
 * Test fixtures for the real kernel: namespaces made per test with a unique prefix, removed in teardown (which ava
 * runs also when the test fails), and a check that the root namespace is left as it was found.
 *
 * Tests never change the root namespace: everything they create lives in namespaces made here.
 */
import type { ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { findTool } from '../../src/common/systemTools.ts';

const IP = findTool('ip') ?? '/usr/sbin/ip';

/** A short unique prefix for this run: names of links must fit in 15 characters. */
export function uniquePrefix(tag = 't'): string {
  return `${tag}${process.pid.toString(36).slice(-3)}${randomBytes(2).toString('hex')}`;
}

export function ip(args: string[], input?: string): string {
  return execFileSync(IP, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** `ip -j ...` parsed. */
export function ipJson<T = unknown>(args: string[]): T {
  const out = ip(['-j', ...args]).trim();
  return (out ? JSON.parse(out) : []) as T;
}

/** `ip -n NS -j ...` parsed. */
export function ipJsonIn<T = unknown>(ns: string, args: string[]): T {
  return ipJson<T>(['-n', ns, ...args]);
}

export function listNetns(): string[] {
  const out = ip(['netns', 'list']).trim();
  return out ? out.split('\n').map((l) => l.split(' ')[0]!) : [];
}

/** Create a namespace named `${prefix}-${name}` with lo up; removed at teardown even if the test fails. */
export function makeNetns(t: ExecutionContext, prefix: string, name: string): string {
  const ns = `${prefix}-${name}`;
  ip(['netns', 'add', ns]);
  t.teardown(() => deleteNetns(ns));
  ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  return ns;
}

export function deleteNetns(ns: string): void {
  try {
    execFileSync(IP, ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
}

/** Names of links in the root namespace. */
export function rootLinks(): string[] {
  return ipJson<Array<{ ifname: string }>>(['link', 'show']).map((l) => l.ifname).sort();
}

/**
 * Snapshot the root namespace now; `assertUnchanged` compares at the end. Use in `test.before`/`test.after.always`
 * of every netns test file so a leak is a failing test, not a dirty machine.
 */
export function rootSnapshot(prefix: string) {
  const links = rootLinks();
  return {
    /** Problems found: links added to the root namespace, or namespaces with our prefix still present. */
    leaks(): string[] {
      const problems: string[] = [];
      const now = rootLinks();
      const added = now.filter((l) => !links.includes(l));
      if (added.length) problems.push(`links added to the root namespace: ${added.join(', ')}`);
      const left = listNetns().filter((n) => n.startsWith(prefix));
      if (left.length) problems.push(`namespaces left behind: ${left.join(', ')}`);
      return problems;
    },
  };
}
