import test from 'ava';
import { renderLbStatus } from '../../../src/lb/lbStatus.ts';
import type { Service } from '../../../src/store/types.ts';

const pending: Service = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'big', namespace: 'default' }, spec: { type: 'LoadBalancer' },
  status: { conditions: [{ type: 'podnet.io/LoadBalancerAllocated', status: 'False', reason: 'poolExhausted', message: 'no free IPv4 address in pool "lab"' }] },
};

test('status shows owner and interfaces, a conflict, an IP nobody announces, pending services and problems', (t) => {
  const text = renderLbStatus({
    plan: [
      { ip: '198.18.0.200', services: ['default/web'], pool: 'lab', node: 'n2', reason: '', interfaces: undefined },
      { ip: '198.18.0.201', services: ['default/a', 'default/b'], pool: 'lab', node: 'n1', reason: '', interfaces: undefined },
      { ip: '198.18.0.202', services: ['default/loc'], pool: 'lab', node: undefined, reason: 'noLocalEndpoint', interfaces: undefined },
    ],
    reports: [
      { node: 'n2', announcements: [{ ip: '198.18.0.200', services: ['default/web'], interfaces: ['eth0'] }, { ip: '198.18.0.201', services: ['default/a'], interfaces: ['eth0'] }] },
      { node: 'n1', announcements: [{ ip: '198.18.0.201', services: ['default/a'], interfaces: ['eth0'] }] },
    ],
    services: [pending], alive: ['n1', 'n2'], allocatorLeader: 'n1',
    problems: [{ object: 'IPAddressPool metallb-system/x', field: 'spec.addresses[0]', message: '"nope" is neither a CIDR nor a range "first-last"' }],
  });
  const lines = text.split('\n');
  t.regex(lines[0]!, /^IP\s+SERVICES\s+POOL\s+NODE\s+INTERFACES\s+STATE$/);
  t.regex(lines[1]!, /^198\.18\.0\.200\s+default\/web\s+lab\s+n2\s+eth0\s+ok$/);
  t.regex(lines[2]!, /^198\.18\.0\.201\s+default\/a,default\/b\s+lab\s+n1,n2\s+eth0\s+CONFLICT: 2 nodes answer$/);
  t.regex(lines[3]!, /^198\.18\.0\.202\s+default\/loc\s+lab\s+-\s+-\s+not announced: noLocalEndpoint$/);
  t.regex(text, /default\/big\s+poolExhausted\s+no free IPv4 address in pool "lab"/);
  t.regex(text, /speakers alive: n1, n2; allocator leader: n1/);
  t.regex(text, /config problem: IPAddressPool metallb-system\/x: spec\.addresses\[0\]/);
});
