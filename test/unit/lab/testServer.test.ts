import test from 'ava';
import { createSocket } from 'node:dgram';
import { connect, type AddressInfo } from 'node:net';
import { request } from 'node:http';
import { formatPeer, startTestServer } from '../../../src/lab/testServer.ts';

/** GET over loopback, returning status, body and the local port the request left from. */
function get(port: number, path: string): Promise<{ status: number; body: string; localPort: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, localPort }));
    });
    let localPort = 0;
    req.on('socket', (s) => s.on('connect', () => { localPort = (s.address() as AddressInfo).port; }));
    req.on('error', reject);
    req.end();
  });
}

function udpAsk(port: number, msg: string): Promise<{ reply: string; localPort: number }> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => { s.close(); reject(new Error('no UDP reply in 2 s')); }, 2000);
    s.on('message', (m) => { clearTimeout(timer); const localPort = s.address().port; s.close(); resolve({ reply: m.toString(), localPort }); });
    s.send(msg, port, '127.0.0.1');
  });
}

function tcpAsk(port: number, lines: string[]): Promise<{ replies: string[]; localPort: number }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.write(lines.map((l) => `${l}\n`).join('')));
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      const replies = buf.split('\n').filter(Boolean);
      if (replies.length >= lines.length) { const localPort = s.localPort!; s.end(); resolve({ replies, localPort }); }
    });
    s.on('error', reject);
  });
}

test('serve answers /hostname, /clientip, /healthz, UDP and TCP on loopback', async (t) => {
  const srv = await startTestServer({ name: 'web-1', http: 0, udp: 0, tcp: 0, host: '127.0.0.1' });
  t.teardown(() => srv.close());
  t.is((await get(srv.ports.http, '/hostname')).body, 'web-1');
  const ci = await get(srv.ports.http, '/clientip');
  t.is(ci.body, `127.0.0.1:${ci.localPort}`);
  t.deepEqual(await get(srv.ports.http, '/healthz').then((r) => [r.status, r.body]), [200, 'ok']);
  t.is((await get(srv.ports.http, '/echo?msg=hi')).body, 'hi');
  t.is((await get(srv.ports.http, '/nope')).status, 404);
  t.is((await udpAsk(srv.ports.udp, 'anything')).reply, 'web-1');
  const u = await udpAsk(srv.ports.udp, 'clientip');
  t.is(u.reply, `127.0.0.1:${u.localPort}`);
  const tcp = await tcpAsk(srv.ports.tcp, ['hello', 'clientip', 'again']);
  t.deepEqual(tcp.replies, ['web-1', `127.0.0.1:${tcp.localPort}`, 'web-1']);
});

test('the dual-stack default reports IPv4 peers without the ::ffff: mapping', async (t) => {
  const srv = await startTestServer({ name: 'dual', http: 0, udp: 0, tcp: 0 });
  t.teardown(() => srv.close());
  const ci = await get(srv.ports.http, '/clientip');
  t.is(ci.body, `127.0.0.1:${ci.localPort}`);
  t.is((await udpAsk(srv.ports.udp, 'x')).reply, 'dual');
});

test('close() ends open TCP connections instead of waiting for them', async (t) => {
  const srv = await startTestServer({ name: 'c', http: 0, udp: 0, tcp: 0, host: '127.0.0.1' });
  const s = connect({ host: '127.0.0.1', port: srv.ports.tcp });
  await new Promise((r) => s.once('connect', r));
  const closed = new Promise((r) => s.once('close', r));
  await srv.close();
  await closed;
  t.pass();
});

test('formatPeer', (t) => {
  t.is(formatPeer('::ffff:10.0.0.1', 80), '10.0.0.1:80');
  t.is(formatPeer('fd00::1', 53), '[fd00::1]:53');
  t.is(formatPeer('198.18.0.2', 40000), '198.18.0.2:40000');
});
