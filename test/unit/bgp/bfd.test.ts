import test from 'ava';
import { BfdDiag, BfdState, decodeBfd, encodeBfd } from '../../../src/bgp/bfdCodec.ts';
import { BfdSession } from '../../../src/bgp/bfdSession.ts';

const timers = { minTxMs: 100, minRxMs: 100, detectMult: 3 };

function deliver(from: BfdSession, to: BfdSession, now: number) {
  const d = decodeBfd(encodeBfd(from.packet()));
  if (!d.ok) throw new Error(d.reason);
  return to.receive(d.packet, now);
}

test('control packet round-trips and the RFC 5880 6.8.6 checks reject bad packets', (t) => {
  const s = new BfdSession(42, timers);
  const bytes = encodeBfd(s.packet());
  const d = decodeBfd(bytes);
  t.true(d.ok);
  if (d.ok) t.like(d.packet, { version: 1, state: BfdState.Down, myDiscriminator: 42, yourDiscriminator: 0, detectMult: 3, desiredMinTx: 1_000_000, requiredMinRx: 100_000 });
  const bad = (mutate: (b: Uint8Array) => void) => { const b = bytes.slice(); mutate(b); return decodeBfd(b).ok; };
  t.false(bad((b) => { b[0] = (2 << 5); }), 'version 2');
  t.false(bad((b) => { b[2] = 0; }), 'detect mult 0');
  t.false(bad((b) => { b[4] = b[5] = b[6] = b[7] = 0; }), 'my discriminator 0');
  t.false(bad((b) => { b[1] = (BfdState.Up << 6); }), 'Up with your discriminator 0');
  t.false(bad((b) => { b[3] = 40; }), 'length beyond the packet');
  t.false(decodeBfd(bytes.subarray(0, 20)).ok);
});

test('three-way handshake brings both sides Up; intervals speed up with a Poll/Final exchange', (t) => {
  const a = new BfdSession(1, timers);
  const b = new BfdSession(2, timers);
  t.deepEqual(deliver(a, b, 0).changed, [BfdState.Down, BfdState.Init]);
  t.deepEqual(deliver(b, a, 0).changed, [BfdState.Down, BfdState.Up]);
  t.deepEqual(deliver(a, b, 0).changed, [BfdState.Init, BfdState.Up]);
  t.true(a.polling, 'A polls because its interval changed on going Up');
  t.true(a.packet().poll);
  const answer = deliver(a, b, 0);
  t.true(answer.answerFinal);
  const final = decodeBfd(encodeBfd(b.packet(true)));
  if (final.ok) a.receive(final.packet, 0);
  t.false(a.polling, 'Final ends the poll');
  t.is(a.txIntervalMs(), 100);
  t.is(a.detectionTimeMs(), 300);
});

test('silence longer than the detection time takes the session Down with diag 1', (t) => {
  const a = new BfdSession(1, timers);
  const b = new BfdSession(2, timers);
  deliver(a, b, 0); deliver(b, a, 0); deliver(a, b, 0);
  deliver(b, a, 1000);
  deliver(b, a, 1000);
  t.is(a.state, BfdState.Up);
  t.is(a.checkDetection(1000 + a.detectionTimeMs() - 1), undefined);
  t.deepEqual(a.checkDetection(1000 + a.detectionTimeMs()), [BfdState.Up, BfdState.Down]);
  t.is(a.diag, BfdDiag.ControlDetectionTimeExpired);
  t.is(a.packet().yourDiscriminator, 0);
});

test('the neighbour signalling Down or AdminDown takes us Down with diag 3', (t) => {
  const a = new BfdSession(1, timers);
  const b = new BfdSession(2, timers);
  deliver(a, b, 0); deliver(b, a, 0); deliver(a, b, 0);
  b.state = BfdState.AdminDown;
  t.deepEqual(deliver(b, a, 5).changed, [BfdState.Up, BfdState.Down]);
  t.is(a.diag, BfdDiag.NeighborSignaledDown);
});

test('packets for another discriminator are ignored', (t) => {
  const a = new BfdSession(1, timers);
  const p = decodeBfd(encodeBfd({ ...new BfdSession(2, timers).packet(), yourDiscriminator: 99, state: BfdState.Init }));
  if (!p.ok) return t.fail();
  t.is(a.receive(p.packet, 0).changed, undefined);
  t.is(a.state, BfdState.Down);
});
