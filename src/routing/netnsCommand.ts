/**
 * @module routing/netnsCommand — run a system tool in the namespace routing manages: the daemon's own (no
 * prefix) or, in tests and the lab, a named one through `ip netns exec`. Always via runTool (absolute paths).
 */
import { findTool, runTool, type RunOptions, type RunResult } from '../common/systemTools.ts';

export function runInNetns(netns: string | undefined, tool: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (netns === undefined) return runTool(tool, args, opts);
  const path = findTool(tool);
  if (!path) return Promise.reject(new Error(`${tool} is not installed`));
  return runTool('ip', ['netns', 'exec', netns, path, ...args], opts);
}
