// Opening sockets inside a namespace, socket options and send. Creation is the only namespace-dependent step:
// once made, a socket stays bound to its namespace, so bind/setsockopt/send run on the Node thread.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "state.h"

namespace podnet {

namespace {

// An fd that is closed on scope exit unless released: a failed bind must not leak the socket.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) close(fd);
  }
  int Release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

struct Opened {
  int fd;
  std::string label;
};

Opened OpenIn(Napi::Env env, Napi::Value netnsOpt, const std::string& what, int domain, int type, int protocol) {
  Netns ns;
  ResolveNetns(env, netnsOpt, what, ns);
  SysResult r = RunInNetns(ns, [&]() {
    int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    return fd < 0 ? SysResult::Fail(errno, "socket") : SysResult::Ok(fd);
  });
  if (r.err) ThrowSystem(env, r.err, r.syscall, what + ns.label);
  return Opened{r.value, ns.label};
}

void SetInt(Napi::Env env, int fd, int level, int name, int value, const std::string& what) {
  if (setsockopt(fd, level, name, &value, sizeof value) != 0) ThrowSystem(env, errno, "setsockopt", what);
}

Napi::Value Track(Napi::Env env, FdGuard& guard, int domain) {
  State(env).domains[guard.fd] = domain;
  return Napi::Number::New(env, guard.Release());
}

Napi::Value OpenNetlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObject(info, 0, "options");
  int protocol = static_cast<int>(ToInt(env, o.Get("protocol"), "protocol", 0, MAX_LINKS - 1));
  uint32_t groups = static_cast<uint32_t>(OptInt(o, "groups", 0, UINT32_MAX, 0));
  int rcvbuf = static_cast<int>(OptInt(o, "rcvbuf", 0, INT32_MAX, 0));
  bool strict = o.Get("strictCheck").ToBoolean();
  Opened s = OpenIn(env, o.Get("netns"), "opening netlink socket", AF_NETLINK, SOCK_RAW, protocol);
  FdGuard guard{s.fd};
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = groups;
  if (bind(s.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ThrowSystem(env, errno, "bind", "binding netlink socket" + s.label);
  }
  int one = 1;
  // Extended ACKs carry the kernel's own explanation ("VXLAN: ...") back with an error; older kernels lack it.
  if (setsockopt(s.fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one) != 0 && errno != ENOPROTOOPT) {
    ThrowSystem(env, errno, "setsockopt", "enabling NETLINK_EXT_ACK" + s.label);
  }
  if (strict) SetInt(env, s.fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1, "enabling NETLINK_GET_STRICT_CHK" + s.label);
  if (rcvbuf > 0 && setsockopt(s.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    // Without CAP_NET_ADMIN only the sysctl-capped SO_RCVBUF is allowed.
    SetInt(env, s.fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, "setting SO_RCVBUF" + s.label);
  }
  return Track(env, guard, AF_NETLINK);
}

Napi::Value NetlinkPortId(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  sockaddr_nl sa{};
  socklen_t len = sizeof sa;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    ThrowSystem(info.Env(), errno, "getsockname", "reading netlink port id of fd " + std::to_string(fd));
  }
  if (sa.nl_family != AF_NETLINK) ThrowType(info.Env(), "fd " + std::to_string(fd) + " is not a netlink socket");
  return Napi::Number::New(info.Env(), sa.nl_pid);
}

void Membership(const Napi::CallbackInfo& info, int opt, const char* verb) {
  int fd = ArgFd(info, 0);
  int group = static_cast<int>(ToInt(info.Env(), info[1], "group", 1, INT32_MAX));
  SetInt(info.Env(), fd, SOL_NETLINK, opt, group,
         std::string(verb) + " netlink group " + std::to_string(group) + " on fd " + std::to_string(fd));
}
void AddMembership(const Napi::CallbackInfo& info) { Membership(info, NETLINK_ADD_MEMBERSHIP, "joining"); }
void DropMembership(const Napi::CallbackInfo& info) { Membership(info, NETLINK_DROP_MEMBERSHIP, "leaving"); }

Napi::Value OpenPacket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObject(info, 0, "options");
  int ifindex = static_cast<int>(ToInt(env, o.Get("ifindex"), "ifindex", 1, INT32_MAX));
  int protocol = static_cast<int>(ToInt(env, o.Get("protocol"), "protocol", 0, 0xffff));
  // Protocol 0 at creation: the socket receives nothing until bind() names the interface, so no frame from another
  // interface slips in between.
  Opened s = OpenIn(env, o.Get("netns"), "opening packet socket", AF_PACKET, SOCK_RAW, 0);
  FdGuard guard{s.fd};
  sockaddr_ll sa{};
  sa.sll_family = AF_PACKET;
  sa.sll_protocol = htons(static_cast<uint16_t>(protocol));
  sa.sll_ifindex = ifindex;
  if (bind(s.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ThrowSystem(env, errno, "bind", "binding packet socket to ifindex " + std::to_string(ifindex) + s.label);
  }
  if (o.Get("ignoreOutgoing").ToBoolean()) {
    SetInt(env, s.fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, "setting PACKET_IGNORE_OUTGOING" + s.label);
  }
  return Track(env, guard, AF_PACKET);
}

void SetIcmp6Filter(Napi::Env env, int fd, Napi::Value types, const std::string& label) {
  if (!types.IsArray()) ThrowType(env, "icmpTypes must be an array of ICMPv6 type numbers");
  Napi::Array list = types.As<Napi::Array>();
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  for (uint32_t i = 0; i < list.Length(); i++) {
    ICMP6_FILTER_SETPASS(static_cast<int>(ToInt(env, list.Get(i), "icmpTypes[]", 0, 255)), &filter);
  }
  if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0) {
    ThrowSystem(env, errno, "setsockopt", "setting ICMP6_FILTER" + label);
  }
}

Napi::Value OpenIcmp6(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObject(info, 0, "options");
  Napi::Value device = o.Get("device");
  if (!device.IsUndefined() && (!device.IsString() || device.As<Napi::String>().Utf8Value().size() >= IFNAMSIZ)) {
    ThrowType(env, "device must be an interface name shorter than 16 bytes");
  }
  Opened s = OpenIn(env, o.Get("netns"), "opening ICMPv6 socket", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  FdGuard guard{s.fd};
  if (device.IsString()) {
    std::string name = device.As<Napi::String>().Utf8Value();
    if (setsockopt(s.fd, SOL_SOCKET, SO_BINDTODEVICE, name.c_str(), name.size()) != 0) {
      ThrowSystem(env, errno, "setsockopt", "binding ICMPv6 socket to device " + name + s.label);
    }
  }
  SetInt(env, s.fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "enabling IPV6_RECVHOPLIMIT" + s.label);
  SetInt(env, s.fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "enabling IPV6_RECVPKTINFO" + s.label);
  if (!o.Get("icmpTypes").IsUndefined()) SetIcmp6Filter(env, s.fd, o.Get("icmpTypes"), s.label);
  return Track(env, guard, AF_INET6);
}

Napi::Value OpenSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObject(info, 0, "options");
  int domain = static_cast<int>(ToInt(env, o.Get("domain"), "domain", 0, AF_MAX - 1));
  int type = static_cast<int>(ToInt(env, o.Get("type"), "type", 1, 10));
  int protocol = static_cast<int>(OptInt(o, "protocol", 0, INT32_MAX, 0));
  Opened s = OpenIn(env, o.Get("netns"), "opening socket", domain, type, protocol);
  FdGuard guard{s.fd};
  return Track(env, guard, domain);
}

void SetsockoptInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  int level = static_cast<int>(ToInt(env, info[1], "level", 0, INT32_MAX));
  int name = static_cast<int>(ToInt(env, info[2], "name", 0, INT32_MAX));
  int value = static_cast<int>(ToInt(env, info[3], "value", INT32_MIN, INT32_MAX));
  SetInt(env, fd, level, name, value,
         "setting socket option " + std::to_string(level) + "/" + std::to_string(name) + " on fd " +
             std::to_string(fd));
}

Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  Napi::Uint8Array data = ArgBytes(info, 1, "data");
  int domain = DomainOf(env, fd);
  ssize_t n;
  if (domain == AF_NETLINK) {
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_pid = info[2].IsUndefined() ? 0 : static_cast<uint32_t>(ToInt(env, info[2], "dest", 0, UINT32_MAX));
    n = sendto(fd, data.Data(), data.ByteLength(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } else if (domain == AF_INET6 && !info[2].IsUndefined()) {
    Napi::Uint8Array addr = ArgBytes(info, 2, "dest");
    if (addr.ByteLength() != 16) ThrowType(env, "dest must be a 16-byte IPv6 address");
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    memcpy(&sa.sin6_addr, addr.Data(), 16);
    sa.sin6_scope_id = info[3].IsUndefined() ? 0 : static_cast<uint32_t>(ToInt(env, info[3], "ifindex", 0, INT32_MAX));
    n = sendto(fd, data.Data(), data.ByteLength(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } else {
    // Packet sockets send on the interface they are bound to; other sockets must be connected.
    n = send(fd, data.Data(), data.ByteLength(), MSG_NOSIGNAL);
  }
  if (n < 0) ThrowSystem(env, errno, "sendmsg", "sending " + std::to_string(data.ByteLength()) + " bytes on fd " + std::to_string(fd));
  return Napi::Number::New(env, static_cast<double>(n));
}

void SetTcpMd5(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  Napi::Uint8Array peer = ArgBytes(info, 1, "peer");
  Napi::Uint8Array key = ArgBytes(info, 2, "key");
  if (peer.ByteLength() != 4 && peer.ByteLength() != 16) ThrowType(env, "peer must be a 4- or 16-byte address");
  if (key.ByteLength() > TCP_MD5SIG_MAXKEYLEN) ThrowType(env, "key must be at most 80 bytes");
  tcp_md5sig sig{};
  if (peer.ByteLength() == 4 && DomainOf(env, fd) != AF_INET6) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&sig.tcpm_addr);
    sin->sin_family = AF_INET;
    memcpy(&sin->sin_addr, peer.Data(), 4);
  } else {
    // An IPv6 socket talks to IPv4 peers through v4-mapped addresses; the kernel keys them as IPv4.
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&sig.tcpm_addr);
    sin6->sin6_family = AF_INET6;
    if (peer.ByteLength() == 4) {
      sin6->sin6_addr.s6_addr[10] = 0xff;
      sin6->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&sin6->sin6_addr.s6_addr[12], peer.Data(), 4);
    } else {
      memcpy(&sin6->sin6_addr, peer.Data(), 16);
    }
  }
  sig.tcpm_keylen = static_cast<uint16_t>(key.ByteLength());
  memcpy(sig.tcpm_key, key.Data(), key.ByteLength());
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) != 0) {
    ThrowSystem(env, errno, "setsockopt", "setting TCP_MD5SIG on fd " + std::to_string(fd));
  }
}

}  // namespace

int DomainOf(Napi::Env env, int fd) {
  auto& domains = State(env).domains;
  auto it = domains.find(fd);
  if (it != domains.end()) return it->second;
  int domain = -1;
  socklen_t len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return -1;
  return domain;
}

void InitSockets(Napi::Env env, Napi::Object exports) {
  exports.Set("openNetlink", Napi::Function::New(env, OpenNetlink, "openNetlink"));
  exports.Set("netlinkPortId", Napi::Function::New(env, NetlinkPortId, "netlinkPortId"));
  exports.Set("addMembership", Napi::Function::New(env, AddMembership, "addMembership"));
  exports.Set("dropMembership", Napi::Function::New(env, DropMembership, "dropMembership"));
  exports.Set("openPacket", Napi::Function::New(env, OpenPacket, "openPacket"));
  exports.Set("openIcmp6", Napi::Function::New(env, OpenIcmp6, "openIcmp6"));
  exports.Set("openSocket", Napi::Function::New(env, OpenSocket, "openSocket"));
  exports.Set("setsockoptInt", Napi::Function::New(env, SetsockoptInt, "setsockoptInt"));
  exports.Set("send", Napi::Function::New(env, Send, "send"));
  exports.Set("setTcpMd5", Napi::Function::New(env, SetTcpMd5, "setTcpMd5"));
}

}  // namespace podnet
