/**
 * A speaker (+ optional BFD) in its own process, for tests that need a peer to die or freeze for real:
 * `node --import tsx speakerProcess.ts '<json>'`. Prints "established" once its session is up, `learned N` when
 * its learned routes change and `bfd STATE` on BFD changes.
 */
import { Speaker, type SpeakerConfig, type LocalRoute } from '../../../../src/bgp/speaker.ts';
import { BfdManager, attachToSpeaker } from '../../../../src/bgp/bfdManager.ts';

interface Input {
  speaker: SpeakerConfig;
  routes: LocalRoute[];
  bfd?: { port: number; peer: string; minTxMs: number };
}

const input = JSON.parse(process.argv[2]!) as Input;
const s = new Speaker(input.speaker);
s.setLocalRoutes(input.routes);
s.on('peerState', (_peer, state) => { if (state === 'Established') process.stdout.write('established\n'); });
s.on('kernel', () => { process.stdout.write(`learned ${s.rib.kernelRoutes().length}\n`); });
await s.start();
if (input.bfd) {
  const bfd = new BfdManager({ localAddress: input.speaker.listen!.address, port: input.bfd.port });
  await bfd.start();
  attachToSpeaker(bfd, s);
  bfd.on('state', (_p, _from, to) => process.stdout.write(`bfd ${to}\n`));
  await bfd.addPeer(input.bfd.peer, { minTxMs: input.bfd.minTxMs, minRxMs: input.bfd.minTxMs, detectMult: 3 }, input.bfd.port);
}
