// Shared helpers of the podnet addon: argument checking (bad input is a TypeError, never a crash), system errors
// shaped like Node's own (code/errno/syscall + what was being done), and running a syscall inside a namespace.
#pragma once

#include <napi.h>

#include <functional>
#include <string>

namespace podnet {

// Outcome of one syscall step; err == 0 means success and value holds the result (usually an fd).
struct SysResult {
  int value = -1;
  int err = 0;
  const char* syscall = "";
  static SysResult Ok(int v) { return SysResult{v, 0, ""}; }
  static SysResult Fail(int e, const char* sc) { return SysResult{-1, e, sc}; }
};

Napi::Error MakeSystemError(Napi::Env env, int err, const char* syscall, const std::string& what);
[[noreturn]] void ThrowSystem(Napi::Env env, int err, const char* syscall, const std::string& what);
[[noreturn]] void ThrowType(Napi::Env env, const std::string& message);

// Argument readers: each throws a TypeError naming the argument when it is missing or of the wrong shape.
int ArgFd(const Napi::CallbackInfo& info, size_t index);
int64_t ToInt(Napi::Env env, Napi::Value v, const char* name, int64_t min, int64_t max);
Napi::Object ArgObject(const Napi::CallbackInfo& info, size_t index, const char* name);
Napi::Uint8Array ArgBytes(const Napi::CallbackInfo& info, size_t index, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* name);
// Optional integer property of an options object; `fallback` when absent or undefined.
int64_t OptInt(Napi::Object o, const char* key, int64_t min, int64_t max, int64_t fallback);

// A namespace to run in: an fd of /proc/.../ns/net or /var/run/netns/NAME. fd < 0 means "the caller's own".
struct Netns {
  int fd = -1;
  bool owned = false;  // opened here from a path, closed by the destructor
  std::string label;   // " in /var/run/netns/x", for messages
  Netns() = default;
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  ~Netns();
};

// Reads the `netns` option (path, fd or undefined) and opens a path; `doing` prefixes a failure's message.
void ResolveNetns(Napi::Env env, Napi::Value v, const std::string& doing, Netns& out);
// Runs `step` with the calling thread's view of the network namespace set to `ns`. For a foreign namespace that is
// a short-lived thread doing setns() first, so the Node thread itself never changes namespace.
SysResult RunInNetns(const Netns& ns, const std::function<SysResult()>& step);

}  // namespace podnet
