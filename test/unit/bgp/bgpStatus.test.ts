import test from 'ava';
import { formatStatusTable, formatUptime, type BgpStatusDocument } from '../../../src/bgp/bgpStatus.ts';

test('podnetctl bgp status table: one aligned line per peer with AS, state, uptime, received / accepted / advertised, BFD', (t) => {
  const doc: BgpStatusDocument = {
    node: 'n1', routerId: '198.18.0.11', localAs: 64512, converged: false, restarting: true, localRoutes: ['10.244.1.0/24'],
    peers: [
      { peer: '198.18.0.12', peerAs: 64512, state: 'Established', uptimeSeconds: 3725, received: 1, accepted: 1, advertised: 2, bfd: 'Up', routeReflectorClient: true },
      { peer: '198.18.0.254', peerAs: 64999, state: 'Active', uptimeSeconds: 0, received: 0, accepted: 0, advertised: 0 },
    ],
  };
  t.is(formatStatusTable(doc), [
    'node n1  router-id 198.18.0.11  AS 64512  converging (restarted)',
    'PEER                     AS     STATE        UPTIME  RECEIVED  ACCEPTED  ADVERTISED  BFD',
    '198.18.0.12 (rr-client)  64512  Established  1h2m    1         1         2           Up',
    '198.18.0.254             64999  Active       -       0         0         0           -',
    '',
  ].join('\n'));
  t.deepEqual([formatUptime(59), formatUptime(61), formatUptime(90000)], ['59s', '1m1s', '1d1h']);
});
