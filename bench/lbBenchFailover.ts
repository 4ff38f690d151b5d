/**
 * One round of the L2 failover measurement, shared by test/netns/lb/failover.test.ts and bench/lb: find the
 * node announcing `ip` (the MAC answering an arping from the client), kill -9 its podnetd lb, and time from the
 * kill to the first gratuitous ARP for `ip` from another MAC, as tcpdump in the client namespace stamps it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findTool } from '../src/common/systemTools.ts';
import { arpReplyMacs, startCapture } from '../test/netns/lb/lbTopology.ts';

const run = promisify(execFile);

export async function resolveMac(clientNs: string, ip: string): Promise<string | undefined> {
  const cap = await startCapture(clientNs, 'arp', 20);
  await run(findTool('ip')!, ['netns', 'exec', clientNs, findTool('timeout')!, '10', 'arping', '-c', '2', '-i', 'eth0', ip]).catch(() => undefined);
  const macs = arpReplyMacs(await cap.stop(), ip);
  if (macs.length > 1) throw new Error(`${macs.length} MACs answered for ${ip}: ${macs.join(', ')}`);
  return macs[0];
}

export interface FailoverRound {
  killed: string;
  oldMac: string;
  newMac: string;
  seconds: number;
}

/** `kill` must SIGKILL the process owning `oldMac` and return its node name. */
export async function measureFailover(clientNs: string, ip: string, oldMac: string, kill: () => string, limitS = 20): Promise<FailoverRound> {
  const cap = await startCapture(clientNs, 'arp', limitS + 5);
  const t0 = Date.now() / 1000;
  const killed = kill();
  const re = new RegExp(`^(\\d+\\.\\d+) ([0-9a-f:]{17}) > ff:ff:ff:ff:ff:ff.*who-has ${ip.replaceAll('.', '\\.')} tell ${ip.replaceAll('.', '\\.')}`);
  const end = Date.now() + limitS * 1000;
  let hit: RegExpExecArray | undefined;
  while (!hit && Date.now() < end) {
    hit = cap.lines().map((l) => re.exec(l)).find((m): m is RegExpExecArray => !!m && m[2] !== oldMac);
    if (!hit) await new Promise((r) => setTimeout(r, 50));
  }
  await cap.stop();
  if (!hit) throw new Error(`no gratuitous ARP for ${ip} from another node within ${limitS} s of killing ${killed}`);
  return { killed, oldMac, newMac: hit[2]!, seconds: Number(hit[1]) - t0 };
}
