/**
 * @module lab/labCniShim — the CNI hand-off in the lab: each node gets podnet's native shim (podnet-shim.c)
 * compiled for that node's podnetd socket (`nodes/<id>/cni.sock`, served by the agent's `cni` part) in
 * `nodes/<id>/cni-bin/podnet`, ahead of the shared plugins in the node's CNI_PATH (labNodeFiles.cniPath). One
 * shared install cannot do this: the shim's socket path is compiled in, and the lab's nodes share one filesystem.
 * When podnetd is not serving, the shim execs the shared Node plugin (`cni/bin/podnet`), so pods never depend on
 * the daemon. No C compiler: no shim, and the kubelet finds the shared plugin (slower, same result).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool, runTool } from '../common/systemTools.ts';
import type { Lab } from './lab.ts';
import { cniBinDir, nodeFiles } from './labNodeFiles.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The shim's C source: in the source tree, or beside the bundle in bin/ (scripts/build.mjs copies it there). */
function shimSource(): string | undefined {
  const candidates = import.meta.url.endsWith('.ts') ? [resolve(HERE, '..', 'cni', 'handoff', 'podnet-shim.c')] : [join(HERE, 'podnet-shim.c')];
  return candidates.find((p) => existsSync(p));
}

/** Compile the shim for every node (in parallel); returns the nodes that got one, or why none did. */
export async function installNodeShims(lab: Lab): Promise<{ nodes: string[]; note?: string }> {
  const cc = findTool('cc');
  const src = shimSource();
  if (!cc || !src) return { nodes: [], note: !cc ? 'no C compiler' : 'podnet-shim.c not found' };
  const fallback = join(cniBinDir(lab.paths), 'podnet');
  await Promise.all(lab.nodes.map(async (host) => {
    const files = nodeFiles(lab.paths, host.id);
    mkdirSync(files.shimDir, { recursive: true });
    await runTool(cc, ['-O2', `-DSOCKET_PATH=${JSON.stringify(files.handoffSocket)}`, `-DFALLBACK=${JSON.stringify(fallback)}`,
      '-o', join(files.shimDir, 'podnet'), src], { timeoutMs: 120_000 });
  }));
  return { nodes: lab.nodes.map((h) => h.id) };
}
