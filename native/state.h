// Per-environment state (the main thread and every worker thread that loads the addon have their own loop).
#pragma once

#include <napi.h>
#include <uv.h>

#include <unordered_map>

namespace podnet {

struct Reader;
struct BatchReader;

struct AddonState {
  uv_loop_t* loop = nullptr;
  // fds this addon opened and has not closed yet → address family (send() and the reader branch on it).
  std::unordered_map<int, int> domains;
  std::unordered_map<int, Reader*> readers;
  // fds read in batches (udpBatch.cc: recvmmsg into buffers shared with JS).
  std::unordered_map<int, BatchReader*> batchReaders;
  // fds whose reader must not keep the event loop alive (setRef(fd, false)), remembered before startReading.
  std::unordered_map<int, bool> unref;
  // uv_close callbacks not yet run. They are code in this library, which Node unloads when a worker's environment
  // ends, so that teardown waits (an async cleanup hook) until this is zero.
  int pendingCloses = 0;
  napi_async_cleanup_hook_handle cleanup = nullptr;
};

AddonState& State(Napi::Env env);
// Address family of a socket fd: from the table when we opened it, else SO_DOMAIN; -1 when not a socket.
int DomainOf(Napi::Env env, int fd);

// Exports, grouped by file.
void InitSockets(Napi::Env env, Napi::Object exports);
void InitReader(Napi::Env env, Napi::Object exports);
void InitNetns(Napi::Env env, Napi::Object exports);
void InitUdpBatch(Napi::Env env, Napi::Object exports);
// Stop a batch reader (no-op when fd has none); its handle closes asynchronously (pendingCloses).
void StopBatchReading(AddonState& state, int fd);
// Once environment cleanup has begun and no uv_close callback is pending, let teardown go on.
void MaybeFinishCleanup(AddonState& state);
// Environment teardown: stop every reader, close every socket we opened, and let teardown go on once libuv has
// called back for the last handle.
void BeginCleanup(napi_async_cleanup_hook_handle hook, void* state);

}  // namespace podnet
