import test from 'ava';
import { attachToSpeaker, BfdManager } from '../../../src/bgp/bfdManager.ts';

test('BFD Up → Down resets the BGP session, unless the peer said AdminDown (RFC 5882 3.2: a deliberate stop)', (t) => {
  const bfd = new BfdManager({ localAddress: '127.0.0.1' });
  const resets: string[] = [];
  attachToSpeaker(bfd, { peerUnreachable: (peer, reason) => resets.push(`${peer}: ${reason}`) });
  bfd.emit('state', '198.18.0.12', 'Up', 'Down', 1, 'Up'); // detection time expired
  bfd.emit('state', '198.18.0.13', 'Up', 'Down', 3, 'Down'); // the peer detected the failure and says so
  bfd.emit('state', '198.18.0.14', 'Up', 'Down', 3, 'AdminDown'); // podnetd on .14 stopped for a restart
  bfd.emit('state', '198.18.0.15', 'Init', 'Down', 1, 'Init');
  t.deepEqual(resets, ['198.18.0.12: BFD session down', '198.18.0.13: BFD session down']);
});
