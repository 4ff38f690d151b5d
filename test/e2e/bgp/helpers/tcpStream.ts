/**
 * A long-running TCP stream between two lab pods, to see whether traffic keeps flowing while something restarts:
 * an echo server in one pod, a client in another that writes 1 KiB every 20 ms for at most `durationMs` and
 * reports every 100 ms how many bytes came back. Both are plain Node scripts run with `ip netns exec` (no tsx
 * start-up cost); both are bounded in time and killed by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { findTool } from '../../../../src/common/systemTools.ts';
import type { Lab } from '../../../../src/lab/lab.ts';
import { waitFor } from '../../../helpers/waitFor.ts';

const SERVER = `
const net = require('node:net');
const port = Number(process.argv[1]);
const srv = net.createServer((s) => { s.on('error', () => {}); s.pipe(s); });
srv.listen(port, () => console.log('listening'));
setTimeout(() => process.exit(0), Number(process.argv[2])).unref();
`;

const CLIENT = `
const net = require('node:net');
const [host, port, durationMs] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const start = Date.now();
let sent = 0, recv = 0, lastRecvAt = Date.now(), maxStallMs = 0;
const s = net.connect({ host, port }, () => console.log('connected'));
const chunk = Buffer.alloc(1024, 120);
const writer = setInterval(() => { s.write(chunk); sent += chunk.length; }, 20);
s.on('data', (b) => { const now = Date.now(); maxStallMs = Math.max(maxStallMs, now - lastRecvAt); lastRecvAt = now; recv += b.length; });
const report = setInterval(() => console.log(JSON.stringify({ t: Date.now() - start, sent, recv, maxStallMs })), 100);
const end = (why) => { clearInterval(writer); clearInterval(report); console.log(JSON.stringify({ t: Date.now() - start, sent, recv, maxStallMs, end: why })); process.exit(0); };
s.on('error', (e) => end('error ' + e.code));
s.on('close', () => end('closed'));
setTimeout(() => end('done'), durationMs);
`;

export interface StreamSample { t: number; sent: number; recv: number; maxStallMs: number; end?: string }

export interface TcpStream {
  /** Latest report of the client (bytes sent and echoed back, longest gap between two receptions). */
  latest(): StreamSample | undefined;
  /** Wait until `extra` more bytes came back than now. */
  waitForMore(extra: number, timeoutMs?: number): Promise<StreamSample>;
  stop(): void;
}

function inPod(ns: string, script: string, args: string[]): ChildProcess {
  return spawn(findTool('ip') ?? '/usr/sbin/ip', ['netns', 'exec', ns, process.execPath, '-e', script, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
}

function lines(child: ChildProcess, onLine: (l: string) => void): void {
  let buf = '';
  child.stdout!.on('data', (b: Buffer) => {
    buf += b.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const l of parts) onLine(l);
  });
}

export async function startTcpStream(lab: Lab, from: string, to: string, toIp: string, port = 9000, durationMs = 180_000): Promise<TcpStream> {
  const server = inPod(await lab.resolve(to), SERVER, [String(port), String(durationMs + 10_000)]);
  let listening = false;
  lines(server, (l) => { if (l === 'listening') listening = true; });
  const stop = () => { for (const c of [server, client]) if (c && c.exitCode === null) c.kill('SIGKILL'); };
  let client: ChildProcess | undefined;
  try {
    await waitFor('the stream server listening', () => listening, 30_000);
    client = inPod(await lab.resolve(from), CLIENT, [toIp, String(port), String(durationMs)]);
    let last: StreamSample | undefined;
    let connected = false;
    lines(client, (l) => {
      if (l === 'connected') connected = true;
      else if (l.startsWith('{')) last = JSON.parse(l) as StreamSample;
    });
    await waitFor(`the stream client connected to ${toIp}:${port}`, () => connected, 30_000);
    const stream: TcpStream = {
      latest: () => last,
      async waitForMore(extra, timeoutMs = 30_000) {
        const base = last?.recv ?? 0;
        return waitFor(`${extra} more bytes echoed over the stream (at ${base}, last report ${JSON.stringify(last)})`,
          () => (last && !last.end && last.recv >= base + extra ? last : undefined), timeoutMs, 50);
      },
      stop,
    };
    await stream.waitForMore(10 * 1024);
    return stream;
  } catch (err) {
    stop();
    throw err;
  }
}
