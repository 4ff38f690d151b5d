#!/usr/bin/env bash
# Print what the tests must never change in the root network namespace, one item a line, sorted, so two snapshots
# can be compared: links, addresses, routes, nftables tables, iptables chains, namespaces, forwarding sysctls.
set -u
{
  ip -o link show 2>/dev/null | awk -F': ' '{print "link " $2}' | sed 's/@.*//'
  ip -o addr show 2>/dev/null | awk '{print "addr " $2 " " $4}'
  ip route show table all 2>/dev/null | grep -v '^local\|^broadcast\|^multicast' | sed 's/^/route /'
  nft list tables 2>/dev/null | sed 's/^/nft /'
  iptables-save 2>/dev/null | grep '^:' | cut -d' ' -f1 | sed 's/^/iptables /'
  ip netns list 2>/dev/null | awk '{print "netns " $1}'
  echo "sysctl ip_forward $(cat /proc/sys/net/ipv4/ip_forward)"
} | sort
