import test from 'ava';
import { primaryAddress } from '../../../src/lab/addressPlan.ts';
import { podnetctlCommand, type Lab } from '../../../src/lab/lab.ts';
import { isRunning } from '../../../src/lab/labProcesses.ts';
import { startLab } from '../../helpers/labFixture.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait (bounded: 15 s) until the server answers /healthz on loopback inside `target`. */
async function waitReady(lab: Lab, target: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const r = await lab.exec(target, ['curl', '-sf', '--max-time', '1', 'http://127.0.0.1:8080/healthz'], { allowFailure: true });
    if (r.code === 0 && r.stdout === 'ok') return;
    await sleep(100);
  }
  throw new Error(`lab serve did not come up in ${target}`);
}

test('serve answers /hostname, /clientip, UDP and TCP — on loopback and from the client', async (t) => {
  const lab = await startLab(t, { nodes: 1 });
  const cmd = podnetctlCommand();
  const rec = await lab.spawn('n1', 'serve', [...cmd.argv, 'lab', 'serve', '--name', 'web-1'], { cwd: cmd.cwd });
  await waitReady(lab, 'n1');
  const node = primaryAddress(lab.nodes[0]!);

  t.is((await lab.exec('n1', ['curl', '-s', 'http://127.0.0.1:8080/hostname'])).stdout, 'web-1');
  t.is((await lab.exec('client', ['curl', '-s', `http://${node}:8080/hostname`])).stdout, 'web-1');
  t.regex((await lab.exec('client', ['curl', '-s', `http://${node}:8080/clientip`])).stdout, /^198\.18\.0\.2:\d+$/);
  const udp = await lab.exec('client', ['socat', '-T2', '-', `UDP:${node}:8081`], { input: 'hello\n' });
  t.is(udp.stdout.trim(), 'web-1');
  const udpIp = await lab.exec('client', ['socat', '-T2', '-', `UDP:${node}:8081`], { input: 'clientip' });
  t.regex(udpIp.stdout.trim(), /^198\.18\.0\.2:\d+$/);
  const tcp = await lab.exec('client', ['socat', '-t2', '-', `TCP:${node}:8082`], { input: 'hello\nclientip\n' });
  const [first, second] = tcp.stdout.trim().split('\n');
  t.is(first, 'web-1');
  t.regex(second ?? '', /^198\.18\.0\.2:\d+$/);

  const status = await lab.status();
  t.deepEqual(status.processes.map((p) => [p.name, p.alive]), [['serve', true]]);
  await lab.destroy();
  t.false(isRunning(rec), 'down stops the processes the lab started');
});

test('a stopped process is reported and removed from the state', async (t) => {
  const lab = await startLab(t, { nodes: 1 });
  const rec = await lab.spawn('client', 'sleeper', ['sleep', '60']);
  t.true(isRunning(rec));
  await lab.stop('sleeper');
  t.false(isRunning(rec));
  t.deepEqual(lab.processes(), []);
});
