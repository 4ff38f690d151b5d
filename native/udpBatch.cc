// Batched UDP for the DNS server's hot path: recvmmsg into one buffer shared with JS, sendmmsg out of another.
// Node's dgram costs a JS callback, a rinfo object, a Buffer and a send request per datagram; here one uv_poll wake
// hands JS up to `slots` datagrams at once (lengths and sender sockaddrs in shared typed arrays) and JS answers
// them all with one sendBatch call. Only bytes move here: decoding and answering stay in TypeScript.
//
// The shared buffers are ArrayBuffers whose backing stores V8 never moves; a reference keeps them alive while the
// reader runs. Callbacks run on the loop thread, like the per-datagram reader in reader.cc.
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

// Batches per wake before yielding to the loop (timers, TCP, the store feed must not starve under a flood).
constexpr int kBatchesPerWake = 4;
// Bytes reserved per sender address in the peers array: a sockaddr_in6 (a sockaddr_in fits too).
constexpr size_t kPeerSize = sizeof(sockaddr_in6);
constexpr int64_t kMaxSlots = 1024;

}  // namespace

struct BatchReader {
  uv_poll_t poll;
  napi_env env;
  AddonState* state;
  int fd;
  Napi::FunctionReference cb;
  std::unique_ptr<Napi::AsyncContext> ctx;
  // data, lengths, peers: their backing stores must outlive the reader (held by the arrays themselves, so that
  // replacing a property of the object passed in cannot free them).
  Napi::ObjectReference keep[3];
  uint8_t* data = nullptr;
  int32_t* lengths = nullptr;
  uint8_t* peers = nullptr;
  size_t slots = 0;
  size_t slotSize = 0;
  std::vector<mmsghdr> msgs;
  std::vector<iovec> iovs;
  bool stopped = false;
  bool inCallback = false;

  void Release() {
    cb.Reset();
    ctx.reset();
    for (auto& k : keep) k.Reset();
  }
};

namespace {

void FreeBatchReader(uv_handle_t* h) {
  auto* r = static_cast<BatchReader*>(h->data);
  AddonState& state = *r->state;
  delete r;
  state.pendingCloses--;
  MaybeFinishCleanup(state);
}

void Deliver(BatchReader* r, napi_value err, int count) {
  Napi::Env env(r->env);
  r->inCallback = true;
  try {
    r->cb.MakeCallback(env.Global(), {err, Napi::Number::New(env, count)}, *r->ctx);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(r->env, e.Value());
  }
  r->inCallback = false;
  if (r->stopped) r->Release();
}

// One recvmmsg into the shared slots; returns the number of datagrams, 0 when drained, -1 after an error.
int ReadBatch(BatchReader* r) {
  for (size_t i = 0; i < r->slots; i++) {
    r->msgs[i].msg_hdr.msg_namelen = kPeerSize;
    r->msgs[i].msg_hdr.msg_flags = 0;
  }
  int n;
  do {
    n = recvmmsg(r->fd, r->msgs.data(), static_cast<unsigned>(r->slots), MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    Napi::Env env(r->env);
    Deliver(r, MakeSystemError(env, errno, "recvmmsg", "receiving on fd " + std::to_string(r->fd)).Value(), 0);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    // A datagram longer than its slot is reported as -1: JS drops it (it cannot be a query we could answer whole).
    bool cut = (r->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    r->lengths[i] = cut ? -1 : static_cast<int32_t>(r->msgs[i].msg_len);
  }
  if (n > 0) Deliver(r, Napi::Env(r->env).Null(), n);
  return n;
}

void OnBatchPoll(uv_poll_t* handle, int status, int /*events*/) {
  auto* r = static_cast<BatchReader*>(handle->data);
  Napi::Env env(r->env);
  Napi::HandleScope scope(env);
  try {
    if (status < 0) {
      int err = 0;
      socklen_t len = sizeof err;
      // A pending socket error (e.g. from an ICMP message) is taken and reported; the reader keeps going.
      if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) err = -status;
      if (uv_poll_start(&r->poll, UV_READABLE, OnBatchPoll) != 0) {
        Deliver(r, MakeSystemError(env, err, "uv_poll", "polling fd " + std::to_string(r->fd)).Value(), 0);
        StopBatchReading(*r->state, r->fd);
        return;
      }
      Deliver(r, MakeSystemError(env, err, "recvmmsg", "receiving on fd " + std::to_string(r->fd)).Value(), 0);
      return;
    }
    for (int i = 0; i < kBatchesPerWake && !r->stopped; i++) {
      if (ReadBatch(r) < static_cast<int>(r->slots)) break;
    }
  } catch (const Napi::Error& e) {
    napi_fatal_exception(r->env, e.Value());
  }
}

template <typename T>
T* TypedData(Napi::Env env, Napi::Value v, napi_typedarray_type type, const char* name, size_t* count) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    ThrowType(env, std::string(name) + (type == napi_uint8_array ? " must be a Uint8Array" : " must be an Int32Array"));
  }
  auto ta = v.As<Napi::TypedArray>();
  *count = ta.ElementLength();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset());
}

// startBatchReading(fd, { data, lengths, peers }, slotSize, cb)
void StartBatchReading(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  Napi::Object bufs = ArgObject(info, 1, "buffers");
  auto slotSize = static_cast<size_t>(ToInt(env, info[2], "slotSize", 512, 65536));
  if (!info[3].IsFunction()) ThrowType(env, "callback must be a function");
  AddonState& state = State(env);
  if (state.batchReaders.count(fd) || state.readers.count(fd)) {
    ThrowType(env, "fd " + std::to_string(fd) + " is already being read");
  }
  if (DomainOf(env, fd) < 0) ThrowType(env, "fd " + std::to_string(fd) + " is not a socket");
  auto r = std::make_unique<BatchReader>();
  size_t dataLen, peersLen;
  r->data = TypedData<uint8_t>(env, bufs.Get("data"), napi_uint8_array, "data", &dataLen);
  r->lengths = TypedData<int32_t>(env, bufs.Get("lengths"), napi_int32_array, "lengths", &r->slots);
  r->peers = TypedData<uint8_t>(env, bufs.Get("peers"), napi_uint8_array, "peers", &peersLen);
  if (r->slots < 1 || static_cast<int64_t>(r->slots) > kMaxSlots) ThrowType(env, "lengths must have 1 to 1024 slots");
  if (dataLen < r->slots * slotSize) ThrowType(env, "data must hold lengths.length * slotSize bytes");
  if (peersLen < r->slots * kPeerSize) ThrowType(env, "peers must hold lengths.length * 28 bytes");
  r->slotSize = slotSize;
  r->msgs.resize(r->slots);
  r->iovs.resize(r->slots);
  for (size_t i = 0; i < r->slots; i++) {
    r->iovs[i] = iovec{r->data + i * slotSize, slotSize};
    msghdr& h = r->msgs[i].msg_hdr;
    h = msghdr{};
    h.msg_name = r->peers + i * kPeerSize;
    h.msg_iov = &r->iovs[i];
    h.msg_iovlen = 1;
  }
  r->env = env;
  r->state = &state;
  r->fd = fd;
  int rc = uv_poll_init(state.loop, &r->poll, fd);
  if (rc != 0) ThrowSystem(env, -rc, "uv_poll_init", "starting to read fd " + std::to_string(fd));
  r->poll.data = r.get();
  r->keep[0] = Napi::Persistent(bufs.Get("data").As<Napi::Object>());
  r->keep[1] = Napi::Persistent(bufs.Get("lengths").As<Napi::Object>());
  r->keep[2] = Napi::Persistent(bufs.Get("peers").As<Napi::Object>());
  r->cb = Napi::Persistent(info[3].As<Napi::Function>());
  r->ctx = std::make_unique<Napi::AsyncContext>(env, "podnet:native:recvmmsg");
  rc = uv_poll_start(&r->poll, UV_READABLE, OnBatchPoll);
  BatchReader* raw = r.release();
  if (rc != 0) {
    raw->Release();
    state.pendingCloses++;
    uv_close(reinterpret_cast<uv_handle_t*>(&raw->poll), FreeBatchReader);
    ThrowSystem(env, -rc, "uv_poll_start", "starting to read fd " + std::to_string(fd));
  }
  state.batchReaders[fd] = raw;
}

void StopBatchReadingJs(const Napi::CallbackInfo& info) { StopBatchReading(State(info.Env()), ArgFd(info, 0)); }

// sendBatch(fd, data, desc, count, peers): desc holds [offset, length, peerOffset] per datagram; returns how many
// were sent. A full socket buffer ends the batch (UDP: the rest are dropped, as the kernel would); a datagram the
// kernel refuses (e.g. an unreachable destination) is skipped.
Napi::Value SendBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  size_t dataLen, descLen, peersLen;
  uint8_t* data = TypedData<uint8_t>(env, info[1], napi_uint8_array, "data", &dataLen);
  int32_t* desc = TypedData<int32_t>(env, info[2], napi_int32_array, "desc", &descLen);
  auto count = static_cast<size_t>(ToInt(env, info[3], "count", 0, static_cast<int64_t>(descLen / 3)));
  uint8_t* peers = TypedData<uint8_t>(env, info[4], napi_uint8_array, "peers", &peersLen);
  constexpr size_t kChunk = 64;
  mmsghdr msgs[kChunk];
  iovec iovs[kChunk];
  size_t sent = 0;
  for (size_t base = 0; base < count;) {
    size_t n = 0;
    for (; n < kChunk && base + n < count; n++) {
      const int32_t* d = desc + 3 * (base + n);
      if (d[0] < 0 || d[1] < 0 || d[2] < 0 || static_cast<size_t>(d[0]) + d[1] > dataLen ||
          static_cast<size_t>(d[2]) + kPeerSize > peersLen) {
        ThrowType(env, "desc entry " + std::to_string(base + n) + " is outside data or peers");
      }
      const uint8_t* peer = peers + d[2];
      sa_family_t family;
      memcpy(&family, peer, sizeof family);
      iovs[n] = iovec{data + d[0], static_cast<size_t>(d[1])};
      msgs[n].msg_hdr = msghdr{};
      msgs[n].msg_hdr.msg_name = const_cast<uint8_t*>(peer);
      msgs[n].msg_hdr.msg_namelen = family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
      msgs[n].msg_hdr.msg_iov = &iovs[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
    }
    int rc = sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
    if (rc > 0) {
      sent += static_cast<size_t>(rc);
      base += static_cast<size_t>(rc);
    } else if (rc < 0 && errno == EINTR) {
      continue;
    } else if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      break;
    } else if (rc < 0 && (errno == EBADF || errno == ENOTSOCK)) {
      ThrowSystem(env, errno, "sendmmsg", "sending on fd " + std::to_string(fd));
    } else {
      base++;  // this datagram was refused; the next ones may still go
    }
  }
  return Napi::Number::New(env, static_cast<double>(sent));
}

// bindInet(fd, address (4 or 16 bytes), port): binds an AF_INET/AF_INET6 socket; returns the bound port.
Napi::Value BindInet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  Napi::Uint8Array addr = ArgBytes(info, 1, "address");
  auto port = static_cast<uint16_t>(ToInt(env, info[2], "port", 0, 65535));
  sockaddr_storage ss{};
  socklen_t len;
  if (addr.ElementLength() == 4) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    memcpy(&in->sin_addr, addr.Data(), 4);
    len = sizeof(sockaddr_in);
  } else if (addr.ElementLength() == 16) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    memcpy(&in6->sin6_addr, addr.Data(), 16);
    len = sizeof(sockaddr_in6);
  } else {
    ThrowType(env, "address must be 4 or 16 bytes");
  }
  std::string what = "binding fd " + std::to_string(fd) + " to port " + std::to_string(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) ThrowSystem(env, errno, "bind", what);
  len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) ThrowSystem(env, errno, "getsockname", what);
  uint16_t bound = ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&ss)->sin_port;
  return Napi::Number::New(env, ntohs(bound));
}

}  // namespace

void StopBatchReading(AddonState& state, int fd) {
  auto it = state.batchReaders.find(fd);
  if (it == state.batchReaders.end()) return;
  BatchReader* r = it->second;
  state.batchReaders.erase(it);
  r->stopped = true;
  uv_poll_stop(&r->poll);
  if (!r->inCallback) r->Release();
  state.pendingCloses++;
  uv_close(reinterpret_cast<uv_handle_t*>(&r->poll), FreeBatchReader);
}

void InitUdpBatch(Napi::Env env, Napi::Object exports) {
  exports.Set("bindInet", Napi::Function::New(env, BindInet, "bindInet"));
  exports.Set("startBatchReading", Napi::Function::New(env, StartBatchReading, "startBatchReading"));
  exports.Set("stopBatchReading", Napi::Function::New(env, StopBatchReadingJs, "stopBatchReading"));
  exports.Set("sendBatch", Napi::Function::New(env, SendBatch, "sendBatch"));
}

}  // namespace podnet
