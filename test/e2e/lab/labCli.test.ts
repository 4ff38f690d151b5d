import test from 'ava';
import { createLab, destroyLab, openLab } from '../../../src/lab/lab.ts';
import { IprouteWiring } from '../../../src/lab/iprouteWiring.ts';
import { LabGuardError } from '../../../src/lab/labNames.ts';
import type { LabStatus } from '../../../src/lab/labStatus.ts';
import { deleteNetns, listNetns, makeNetns, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { labStateRoot, podnetctl, uniqueLabName } from '../../helpers/labFixture.ts';

test('lab up/exec/status/down through the CLI', async (t) => {
  const name = uniqueLabName();
  const env = { PODNET_LAB_DIR: labStateRoot(t) };
  t.teardown(() => destroyLab(name, { stateRoot: env.PODNET_LAB_DIR }).then(() => undefined));

  const up = podnetctl(['lab', 'up', '--name', name, '--nodes', '2', '--routing', 'vxlan'], env);
  t.is(up.code, 0, up.stderr);
  t.regex(up.stdout, /routing: vxlan — podnetd's routing part on every node/);
  t.regex(up.stdout, /lab kubelet on n1, n2/);
  t.regex(up.stdout, /12\/12 pings answered, IPv4 and IPv6/);

  // exec: the command's exit code and output come through; flags after TARGET belong to the command.
  const ok = podnetctl(['lab', 'exec', '--name', name, 'n1', '--', 'ip', '-br', '-4', 'address', 'show', 'dev', 'eth0'], env);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /198\.18\.0\.11\/24/);
  t.is(podnetctl(['lab', 'exec', '--name', name, 'client', '--', 'sh', '-c', 'exit 7'], env).code, 7);
  t.is(podnetctl(['lab', 'exec', '--name', name, `${name}-n2`, '--', 'true'], env).code, 0);
  const missing = podnetctl(['lab', 'exec', '--name', name, 'n9', '--', 'true'], env);
  t.is(missing.code, 1);
  t.regex(missing.stderr, new RegExp(`no namespace ${name}-n9`));

  const healthy = podnetctl(['lab', 'status', '--name', name, '--json'], env);
  t.is(healthy.code, 0);
  const running = JSON.parse(healthy.stdout) as LabStatus;
  t.true(running.healthy);
  t.deepEqual(running.processes.filter((p) => p.alive).map((p) => p.name).sort(),
    ['kubelet-n1', 'kubelet-n2', 'podnetd-n1', 'podnetd-n2']);

  deleteNetns(`${name}-n2`);
  const degraded = podnetctl(['lab', 'status', '--name', name, '--json'], env);
  t.is(degraded.code, 1);
  const s = JSON.parse(degraded.stdout) as LabStatus;
  t.false(s.healthy);
  t.deepEqual(s.namespaces.filter((n) => !n.present).map((n) => n.id), ['n2']);
  const text = podnetctl(['lab', 'status', '--name', name], env);
  t.regex(text.stdout, new RegExp(`n2 +${name}-n2 +198\\.18\\.0\\.12/24 fd00:198:18::12/64 +missing`));

  const down = podnetctl(['lab', 'down', '--name', name], env);
  t.is(down.code, 0);
  t.deepEqual(listNetns().filter((n) => n.startsWith(`${name}-`)), []);
});

test('lab up --no-podnet builds the underlay only', async (t) => {
  const name = uniqueLabName();
  const env = { PODNET_LAB_DIR: labStateRoot(t) };
  t.teardown(() => destroyLab(name, { stateRoot: env.PODNET_LAB_DIR }).then(() => undefined));
  const up = podnetctl(['lab', 'up', '--name', name, '--nodes', '1', '--no-podnet', '--ip-family', 'dual'], env);
  t.is(up.code, 0, up.stderr);
  t.regex(up.stdout, /podnetd not started \(--no-podnet\)/);
  t.regex(up.stdout, /n1 +\S+ +eth0 198\.18\.0\.11\/24 fd00:198:18::11\/64, via 198\.18\.0\.1 and fd00:198:18::1/);
  t.regex(up.stdout, /dual-stack cluster CIDR 10\.244\.0\.0\/16 \(\/24 per node\) \+ fd00:10:244::\/56 \(\/64 per node\), service CIDR 10\.96\.0\.0\/16 \+ fd00:10:96::\/112/);
  const bad = podnetctl(['lab', 'up', '--name', `${name}x`, '--ip-family', 'ipv6'], env);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--ip-family: must be one of ipv4, dual, got "ipv6"/);
  const s = JSON.parse(podnetctl(['lab', 'status', '--name', name, '--json'], env).stdout) as LabStatus;
  t.deepEqual(s.processes, []);
  t.is(podnetctl(['lab', 'down', '--name', name], env).code, 0);
});

test('the guard refuses namespaces outside the lab, and down leaves look-alikes alone', async (t) => {
  const name = uniqueLabName();
  const stateRoot = labStateRoot(t);
  const lab = await createLab({ name, nodes: 1, stateRoot });
  t.teardown(() => lab.destroy());
  const foreign = makeNetns(t, uniquePrefix('f'), 'keep');
  const lookalike = makeNetns(t, `${name}0`, 'n1'); // what lab "<name>0" would own
  const wiring = new IprouteWiring(name);
  await t.throwsAsync(wiring.deleteNamespaces([foreign]), { instanceOf: LabGuardError });
  await t.throwsAsync(wiring.deleteNamespaces(['']), { instanceOf: LabGuardError, message: /empty namespace/ });
  await t.throwsAsync(lab.exec(foreign, ['true']), { message: new RegExp(`no namespace ${name}-${foreign}`) });
  await lab.destroy();
  t.true(listNetns().includes(foreign));
  t.true(listNetns().includes(lookalike));
});

test('a second up of the same lab is refused and does not harm the first', async (t) => {
  const name = uniqueLabName();
  const stateRoot = labStateRoot(t);
  const lab = await createLab({ name, nodes: 1, stateRoot });
  t.teardown(() => lab.destroy());
  await t.throwsAsync(createLab({ name, nodes: 1, stateRoot }), { message: /already exists/ });
  t.deepEqual((await lab.checkReachability()).failures, []);
  t.true((await lab.status()).healthy);
  // Another process gets the same lab back from its state.
  const again = openLab(name, { stateRoot });
  t.is(again.storeDir, lab.storeDir);
  t.deepEqual(again.plan, lab.plan);
  t.is((await again.exec('n1', ['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim(), '1');
});
