/**
 * @module cni/handoff/cniHandoffServer — the daemon side of the CNI hand-off (see podnet-shim.c): a unix socket on
 * which an already running Node process (podnetd, or `cmd/cni/handoffMain.ts`) serves CNI invocations, so a pod
 * pays a ~1 ms native exec instead of a Node start.
 *
 * The host side of an attachment must be the *caller's* network namespace (the runtime's), which need not be ours:
 * the shim sends its pid, and when /proc/<pid>/ns/net is not our own namespace the dataplane works there through
 * nsenter. Requests run concurrently; the IPAM lock is shared with every other process on the node, as usual.
 * The socket is created mode 0600: only root may hand work to the daemon.
 */
import { chmodSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { runPlugin, type CniPlugin } from '../skel.ts';
import { defaultDeps, podnetPlugin } from '../podnetPlugin.ts';
import { NetlinkDataplane } from '../netlinkDataplane.ts';

export const DEFAULT_HANDOFF_SOCKET = '/run/podnet/cni.sock';
const MAGIC = 'PODNET-CNI/1\n';

export interface HandoffRequest {
  env: Record<string, string>;
  pid: number;
  stdin: Buffer;
}

/** Parse one request as the shim writes it; null when it is not one. */
export function parseHandoffRequest(data: Buffer): HandoffRequest | null {
  const end = data.indexOf('\n\n');
  if (!data.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC)) || end < 0) return null;
  const env: Record<string, string> = {};
  let pid = 0;
  for (const line of data.subarray(MAGIC.length, end).toString('utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const [k, v] = [line.slice(0, eq), line.slice(eq + 1)];
    if (k === 'PID') pid = Number(v);
    else if (k.startsWith('CNI_')) env[k] = v;
  }
  return { env, pid, stdin: data.subarray(end + 2) };
}

/** The caller's namespace path, or undefined when it is ours (then the host side needs no nsenter). */
export function callerNetns(pid: number): string | undefined {
  const theirs = `/proc/${pid}/ns/net`;
  try {
    return statSync(theirs).ino === statSync('/proc/self/ns/net').ino ? undefined : theirs;
  } catch {
    return theirs;
  }
}

/** A plugin for one request, and what to release when the request is done. */
export interface HandoffPlugin {
  plugin: CniPlugin;
  release?: () => Promise<void>;
}

export interface HandoffServerOptions {
  socketPath?: string;
  /** The plugin for a caller's host namespace (undefined = ours). Default: podnet with the netlink dataplane. */
  pluginFor?: (hostNetns: string | undefined) => HandoffPlugin;
}

/** The warm server is where netlink pays off (no `ip` exec per step); its sockets are closed after each request. */
function defaultPluginFor(hostNetns: string | undefined): HandoffPlugin {
  const dataplane = new NetlinkDataplane(hostNetns ? { hostNetns } : {});
  return { plugin: podnetPlugin(defaultDeps({ dataplane })), release: () => dataplane.close() };
}

function serve(socket: Socket, pluginFor: (hostNetns: string | undefined) => HandoffPlugin): void {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => socket.destroy());
  socket.on('end', () => {
    const req = parseHandoffRequest(Buffer.concat(chunks));
    if (!req) {
      socket.end(`1\n${JSON.stringify({ cniVersion: '1.1.0', code: 101, msg: 'podnetd: malformed hand-off request' })}\n`);
      return;
    }
    let out = '';
    const { plugin, release } = pluginFor(req.pid > 0 ? callerNetns(req.pid) : undefined);
    runPlugin(plugin, { env: req.env, stdin: req.stdin, writeStdout: (text) => { out += text; } })
      .then((code) => socket.end(`${code}\n${out}`), (err: Error) => socket.end(`1\n${JSON.stringify({ cniVersion: '1.1.0', code: 101, msg: err.message })}\n`))
      .finally(() => release?.().catch(() => undefined));
  });
}

export async function startCniHandoffServer(opts: HandoffServerOptions = {}): Promise<{ path: string; server: Server; close(): Promise<void> }> {
  const path = opts.socketPath ?? DEFAULT_HANDOFF_SOCKET;
  const pluginFor = opts.pluginFor ?? defaultPluginFor;
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  try {
    unlinkSync(path); // a socket file left by a previous daemon that was killed
  } catch {
    /* none */
  }
  // allowHalfOpen: the shim shuts down its write side to mark the end of stdin and then waits for our answer.
  const server = createServer({ allowHalfOpen: true }, (s) => serve(s, pluginFor));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return {
    path, server,
    close: () => new Promise<void>((resolve) => server.close(() => { try { unlinkSync(path); } catch { /* gone */ } resolve(); })),
  };
}
