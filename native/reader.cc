// Receiving: one uv_poll handle per reading socket on the environment's own loop. No threads: the kernel queues
// datagrams, libuv says "readable", and we drain at most kReadsPerWake of them before yielding to the loop so one
// busy socket (a netlink event storm) cannot starve timers and other I/O.
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "common.h"
#include "state.h"

namespace podnet {

namespace {

constexpr int kReadsPerWake = 32;
constexpr int64_t kDefaultBuffer = 65536;

}  // namespace

struct Reader {
  uv_poll_t poll;
  napi_env env;
  AddonState* state;
  int fd;
  int domain;
  Napi::FunctionReference cb;
  std::unique_ptr<Napi::AsyncContext> ctx;
  std::vector<uint8_t> buf;
  bool stopped = false;
  bool inCallback = false;

  // JS references go while the environment is alive; the struct itself is freed by uv_close's callback.
  void Release() {
    cb.Reset();
    ctx.reset();
  }
};

void MaybeFinishCleanup(AddonState& state) {
  if (state.cleanup && state.pendingCloses == 0) {
    // Removing the hook may end the environment and free `state`: nothing touches it afterwards.
    napi_async_cleanup_hook_handle hook = state.cleanup;
    state.cleanup = nullptr;
    napi_remove_async_cleanup_hook(hook);
  }
}

namespace {

void FreeReader(uv_handle_t* h) {
  auto* r = static_cast<Reader*>(h->data);
  AddonState& state = *r->state;
  delete r;
  state.pendingCloses--;
  MaybeFinishCleanup(state);
}

void CloseHandle(Reader* r) {
  r->state->pendingCloses++;
  uv_close(reinterpret_cast<uv_handle_t*>(&r->poll), FreeReader);
}

void StopReader(AddonState& state, Reader* r) {
  if (r->stopped) return;
  r->stopped = true;
  state.readers.erase(r->fd);
  uv_poll_stop(&r->poll);
  if (!r->inCallback) r->Release();
  CloseHandle(r);
}

// Calls the JS callback; an exception it throws becomes an uncaught exception of the process, as with Node's own
// event emitters, instead of being lost inside the poll loop.
void Deliver(Reader* r, napi_value err, napi_value data, napi_value info) {
  Napi::Env env(r->env);
  r->inCallback = true;
  try {
    r->cb.MakeCallback(env.Global(), {err, data, info}, *r->ctx);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(r->env, e.Value());
  }
  r->inCallback = false;
  if (r->stopped) r->Release();
}

Napi::Uint8Array CopyBytes(Napi::Env env, const void* p, size_t n) {
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, n);
  if (n) memcpy(ab.Data(), p, n);
  return Napi::Uint8Array::New(env, n, ab, 0);
}

Napi::Object InfoOf(Napi::Env env, const Reader* r, const sockaddr_storage& from, const msghdr& msg) {
  Napi::Object info = Napi::Object::New(env);
  if (r->domain == AF_NETLINK) {
    const auto* nl = reinterpret_cast<const sockaddr_nl*>(&from);
    info.Set("portId", Napi::Number::New(env, nl->nl_pid));
    info.Set("groups", Napi::Number::New(env, nl->nl_groups));
  } else if (r->domain == AF_PACKET) {
    const auto* ll = reinterpret_cast<const sockaddr_ll*>(&from);
    info.Set("ifindex", Napi::Number::New(env, ll->sll_ifindex));
    info.Set("portId", Napi::Number::New(env, ll->sll_ifindex));
    info.Set("protocol", Napi::Number::New(env, ntohs(ll->sll_protocol)));
    info.Set("pktType", Napi::Number::New(env, ll->sll_pkttype));
    info.Set("hwAddr", CopyBytes(env, ll->sll_addr, ll->sll_halen <= 8 ? ll->sll_halen : 8));
  } else if (r->domain == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&from);
    info.Set("address", CopyBytes(env, &in6->sin6_addr, 16));
    for (cmsghdr* c = CMSG_FIRSTHDR(const_cast<msghdr*>(&msg)); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
      if (c->cmsg_level != IPPROTO_IPV6) continue;
      if (c->cmsg_type == IPV6_HOPLIMIT) {
        int hops;
        memcpy(&hops, CMSG_DATA(c), sizeof hops);
        info.Set("hopLimit", Napi::Number::New(env, hops));
      } else if (c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        info.Set("ifindex", Napi::Number::New(env, pi.ipi6_ifindex));
      }
    }
  }
  return info;
}

// Reads one datagram; returns false when the socket is drained or the wake should end.
bool ReadOne(Reader* r) {
  Napi::Env env(r->env);
  sockaddr_storage from{};
  iovec iov{r->buf.data(), r->buf.size()};
  alignas(cmsghdr) char control[256];
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(r->fd, &msg, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EINTR) return true;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    // ENOBUFS on netlink means events were lost: the caller resyncs (dumps again) and keeps the socket.
    int err = errno;
    Deliver(r, MakeSystemError(env, err, "recvmsg", "receiving on fd " + std::to_string(r->fd)).Value(), env.Null(),
            env.Null());
    return err == ENOBUFS;
  }
  if (msg.msg_flags & MSG_TRUNC) {
    std::string what = "receiving on fd " + std::to_string(r->fd) + ": datagram larger than the " +
                       std::to_string(r->buf.size()) + "-byte buffer was truncated";
    Deliver(r, MakeSystemError(env, EMSGSIZE, "recvmsg", what).Value(), env.Null(), env.Null());
    return true;
  }
  Napi::Object info = InfoOf(env, r, from, msg);
  Deliver(r, env.Null(), CopyBytes(env, r->buf.data(), static_cast<size_t>(n)), info);
  return true;
}

void OnPoll(uv_poll_t* handle, int status, int events);

// libuv reports POLLERR as UV_EBADF and stops the handle. On a socket that is a pending socket error — a netlink
// overrun (ENOBUFS: events were lost, the owner must resync) or a packet socket's ENETDOWN — not a dead fd: take
// the error (SO_ERROR clears it), hand it to the callback, and keep reading.
bool RecoverFromSocketError(Reader* r) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) return false;
  if (uv_poll_start(&r->poll, UV_READABLE, OnPoll) != 0) return false;
  Napi::Env env(r->env);
  Deliver(r, MakeSystemError(env, err, "recvmsg", "receiving on fd " + std::to_string(r->fd)).Value(), env.Null(),
          env.Null());
  return true;
}

void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
  Reader* r = static_cast<Reader*>(handle->data);
  Napi::Env env(r->env);
  Napi::HandleScope scope(env);
  try {
    if (status < 0 && !RecoverFromSocketError(r)) {
      Deliver(r, MakeSystemError(env, -status, "uv_poll", "polling fd " + std::to_string(r->fd)).Value(), env.Null(),
              env.Null());
      StopReader(State(env), r);
      return;
    }
    for (int i = 0; i < kReadsPerWake && !r->stopped; i++) {
      if (!ReadOne(r)) break;
    }
  } catch (const Napi::Error& e) {
    // A failed N-API call (out of memory building a result): report it, never unwind into libuv.
    napi_fatal_exception(r->env, e.Value());
  }
}

void StartReading(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  if (!info[1].IsFunction()) ThrowType(env, "callback must be a function");
  int64_t size = info[2].IsUndefined() ? kDefaultBuffer : ToInt(env, info[2], "bufferSize", 1, 16 << 20);
  AddonState& state = State(env);
  if (state.readers.count(fd)) ThrowType(env, "fd " + std::to_string(fd) + " is already being read");
  int domain = DomainOf(env, fd);
  if (domain < 0) ThrowType(env, "fd " + std::to_string(fd) + " is not a socket");
  auto r = std::make_unique<Reader>();
  r->env = env;
  r->state = &state;
  r->fd = fd;
  r->domain = domain;
  r->buf.resize(static_cast<size_t>(size));
  int rc = uv_poll_init(state.loop, &r->poll, fd);
  if (rc != 0) ThrowSystem(env, -rc, "uv_poll_init", "starting to read fd " + std::to_string(fd));
  r->poll.data = r.get();
  r->cb = Napi::Persistent(info[1].As<Napi::Function>());
  r->ctx = std::make_unique<Napi::AsyncContext>(env, "podnet:native:recv");
  rc = uv_poll_start(&r->poll, UV_READABLE, OnPoll);
  if (rc != 0) {
    Reader* raw = r.release();
    raw->Release();
    CloseHandle(raw);
    ThrowSystem(env, -rc, "uv_poll_start", "starting to read fd " + std::to_string(fd));
  }
  auto pref = state.unref.find(fd);
  if (pref != state.unref.end() && pref->second) uv_unref(reinterpret_cast<uv_handle_t*>(&r->poll));
  state.readers[fd] = r.release();
}

void StopReading(const Napi::CallbackInfo& info) {
  AddonState& state = State(info.Env());
  auto it = state.readers.find(ArgFd(info, 0));
  if (it != state.readers.end()) StopReader(state, it->second);
}

void SetRef(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  bool ref = info[1].ToBoolean();
  AddonState& state = State(info.Env());
  state.unref[fd] = !ref;
  auto it = state.readers.find(fd);
  if (it == state.readers.end()) return;
  auto* h = reinterpret_cast<uv_handle_t*>(&it->second->poll);
  if (ref) {
    uv_ref(h);
  } else {
    uv_unref(h);
  }
}

void Close(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  AddonState& state = State(info.Env());
  auto it = state.readers.find(fd);
  if (it != state.readers.end()) StopReader(state, it->second);
  StopBatchReading(state, fd);
  state.unref.erase(fd);
  // Only fds this addon opened: a second close() of the same number is then a no-op instead of closing whatever
  // file reused that number in the meantime.
  if (state.domains.erase(fd)) close(fd);
}

}  // namespace

void BeginCleanup(napi_async_cleanup_hook_handle hook, void* arg) {
  AddonState& state = *static_cast<AddonState*>(arg);
  state.cleanup = hook;
  while (!state.readers.empty()) StopReader(state, state.readers.begin()->second);
  while (!state.batchReaders.empty()) StopBatchReading(state, state.batchReaders.begin()->first);
  for (auto& [fd, domain] : state.domains) close(fd);
  state.domains.clear();
  MaybeFinishCleanup(state);
}

void InitReader(Napi::Env env, Napi::Object exports) {
  exports.Set("startReading", Napi::Function::New(env, StartReading, "startReading"));
  exports.Set("stopReading", Napi::Function::New(env, StopReading, "stopReading"));
  exports.Set("setRef", Napi::Function::New(env, SetRef, "setRef"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
}

}  // namespace podnet
