import test from 'ava';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callerNetns, parseHandoffRequest } from '../../../src/cni/handoff/cniHandoffServer.ts';
import { listLeases, renderLeaseTable } from '../../../src/ipam/ipamCommand.ts';

test('hand-off requests: CNI_* variables, the caller pid, and stdin byte for byte', (t) => {
  const body = Buffer.from('{"cniVersion":"1.1.0"}\n\n{"x":1}');
  const req = parseHandoffRequest(Buffer.concat([
    Buffer.from('PODNET-CNI/1\nCNI_COMMAND=ADD\nCNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=a=b\nHOME=/root\nPID=4242\n\n'), body]));
  t.deepEqual(req?.env, { CNI_COMMAND: 'ADD', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=a=b' }, 'only CNI_* variables pass');
  t.is(req?.pid, 4242);
  t.true(req?.stdin.equals(body));
  t.is(parseHandoffRequest(Buffer.from('GET / HTTP/1.0\r\n\r\n')), null);
  t.is(callerNetns(process.pid), undefined, 'our own namespace needs no nsenter');
});

test('ipam ls lists every network\'s leases, legacy ones too, and skips temp and cursor files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-ls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'b-net'));
  mkdirSync(join(dir, 'a-net'));
  mkdirSync(join(dir, '.podnet-tmp'));
  writeFileSync(join(dir, 'a-net', '10.0.0.2'), 'ctr-1\r\neth0');
  writeFileSync(join(dir, 'a-net', 'last_reserved_ip.0'), '10.0.0.2');
  writeFileSync(join(dir, 'b-net', 'fd00::3'), 'ctr-old\n');
  const rows = await listLeases(dir);
  t.deepEqual(rows, [
    { network: 'a-net', ip: '10.0.0.2', containerId: 'ctr-1', ifname: 'eth0' },
    { network: 'b-net', ip: 'fd00::3', containerId: 'ctr-old', ifname: '' },
  ]);
  t.is(renderLeaseTable(rows), 'NETWORK  IP        CONTAINER  IFNAME\na-net    10.0.0.2  ctr-1      eth0\nb-net    fd00::3   ctr-old    -\n');
  t.deepEqual(await listLeases(join(dir, 'missing')), []);
});
