/**
 * Re-records the `forward` / `backward` batches of nft-netlink-captures.json: in a fresh namespace holding the
 * full sync of the starting state, `strace -e trace=sendmsg -e write=3 nft -f` of the incremental script, and the
 * batch datagram nft sent, as hex. Run as root: node --import=tsx test/unit/services/testdata/captureNftNetlink.ts
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { renderFull, renderIncremental } from '../../../../src/services/nftables/nftTransaction.ts';
import type { NftDesired } from '../../../../src/services/nftables/nftPlanner.ts';
import { before, after } from '../_netlinkCaptureStates.ts';

const IP = '/usr/sbin/ip';
const NFT = '/usr/sbin/nft';
const file = new URL('nft-netlink-captures.json', import.meta.url);

/** The hex of the largest datagram nft sendmsg'd on fd 3 (the batch; cache requests are small). */
function batchHex(trace: string): string {
  const dumps: string[] = [];
  let cur: string[] | null = null;
  for (const line of trace.split('\n')) {
    const m = /^ \| [0-9a-f]{5}  ((?:[0-9a-f]{2} {1,2})+)/.exec(line);
    if (m) {
      (cur ??= []).push(m[1]!.replace(/\s+/g, ''));
      continue;
    }
    if (cur) dumps.push(cur.join(''));
    cur = null;
  }
  if (cur) dumps.push(cur.join(''));
  return dumps.sort((a, b) => b.length - a.length)[0] ?? '';
}

function capture(from: NftDesired, to: NftDesired): { script: string; batch: string } {
  const ns = `nftcap${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'nftcap-'));
  execFileSync(IP, ['netns', 'add', ns]);
  try {
    writeFileSync(join(dir, 'full.nft'), renderFull(from, { tableExists: false, chains: new Set(), sets: new Set() }).text);
    execFileSync(IP, ['netns', 'exec', ns, NFT, '-f', join(dir, 'full.nft')]);
    const script = renderIncremental(from, to).text;
    writeFileSync(join(dir, 'inc.nft'), script);
    execFileSync(IP, ['netns', 'exec', ns, 'strace', '-o', join(dir, 'trace'), '-e', 'trace=sendmsg', '-e', 'write=3', NFT, '-f', join(dir, 'inc.nft')]);
    return { script, batch: batchHex(readFileSync(join(dir, 'trace'), 'utf8')) };
  } finally {
    execFileSync(IP, ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
data.forward = capture(before, after);
data.backward = capture(after, before);
writeFileSync(file, `${JSON.stringify(data, null, 1)}\n`);
console.log('forward', (data.forward as { batch: string }).batch.length / 2, 'bytes; backward', (data.backward as { batch: string }).batch.length / 2, 'bytes');
