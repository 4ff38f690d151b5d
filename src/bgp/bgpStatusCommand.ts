/**
 * `podnetctl bgp status [--address 127.0.0.1:9179] [-o json]` — the node's BGP sessions, read from the agent's
 * loopback status API (GET /bgp/status): one line per peer with AS, state, uptime, prefixes received / accepted /
 * advertised and BFD state. In the lab, run it inside the node: `podnetctl lab exec --name L n1 -- podnetctl bgp
 * status` (the address is the node namespace's loopback).
 */
import { get } from 'node:http';
import { parseArgs } from 'node:util';
import { UsageError } from '../common/cli.ts';
import { PodnetError } from '../common/errors.ts';
import { parseListenAddress } from '../common/opsServer.ts';
import { DEFAULT_STATUS_ADDRESS } from './bgpAgentConfig.ts';
import { formatStatusTable, type BgpStatusDocument } from './bgpStatus.ts';

const USAGE = `usage: podnetctl bgp status [--address ADDR:PORT] [-o json]   (default address ${DEFAULT_STATUS_ADDRESS}, the agent's bgp.statusAddress)`;

export class BgpStatusUnavailableError extends PodnetError {
  constructor(address: string, why: string) {
    super('PODNET_BGP_STATUS_UNAVAILABLE', `no BGP status at http://${address}/bgp/status: ${why} (is podnetd running with backend: bgp in this network namespace, and is bgp.statusAddress this address?)`);
  }
}

export function fetchBgpStatus(addr: { host: string; port: number }, timeoutMs = 5000): Promise<BgpStatusDocument> {
  const text = addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
  return new Promise((resolve, reject) => {
    const req = get({ host: addr.host, port: addr.port, path: '/bgp/status', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => {
        if (res.statusCode !== 200) { reject(new BgpStatusUnavailableError(text, `HTTP ${res.statusCode}`)); return; }
        try { resolve(JSON.parse(body) as BgpStatusDocument); } catch { reject(new BgpStatusUnavailableError(text, 'the answer is not JSON')); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new BgpStatusUnavailableError(text, err.code ?? err.message)));
  });
}

export async function bgpCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'status') throw new UsageError(sub ? `unknown bgp command "${sub}"\n${USAGE}` : USAGE);
  let values;
  try {
    ({ values } = parseArgs({ args: rest, options: { address: { type: 'string' }, output: { type: 'string', short: 'o' } }, strict: true }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.output !== undefined && values.output !== 'json') throw new UsageError(`-o: only json is supported, got "${values.output}"\n${USAGE}`);
  let addr;
  try { addr = parseListenAddress(values.address ?? DEFAULT_STATUS_ADDRESS, '--address'); } catch (err) { throw new UsageError((err as Error).message); }
  const doc = await fetchBgpStatus(addr);
  process.stdout.write(values.output === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : formatStatusTable(doc));
  return 0;
}
