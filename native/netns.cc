// Files seen from inside a namespace, and named namespaces made the way iproute2 makes them, so `ip netns`,
// `ip -n` and podnet agree on what exists.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "common.h"
#include "state.h"

namespace podnet {

namespace {

constexpr const char* kRunDir = "/var/run/netns";

Napi::Value OpenInNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 1, "path");
  int flags = static_cast<int>(ToInt(env, info[2], "flags", 0, INT32_MAX));
  int mode = info[3].IsUndefined() ? 0666 : static_cast<int>(ToInt(env, info[3], "mode", 0, 07777));
  std::string what = "opening " + path;
  Netns ns;
  ResolveNetns(env, info[0], what, ns);
  // /proc/sys/net/... resolves against the opening thread's namespace, and the open file keeps that view.
  SysResult r = RunInNetns(ns, [&]() {
    int fd = open(path.c_str(), flags | O_CLOEXEC, mode);
    return fd < 0 ? SysResult::Fail(errno, "open") : SysResult::Ok(fd);
  });
  if (r.err) ThrowSystem(env, r.err, r.syscall, what + ns.label);
  return Napi::Number::New(env, r.value);
}

std::string NetnsPath(const Napi::CallbackInfo& info) {
  std::string name = ArgString(info, 0, "name");
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos || name.size() > 255) {
    ThrowType(info.Env(), "netns name must be a non-empty file name without '/', got '" + name + "'");
  }
  return std::string(kRunDir) + "/" + name;
}

// As iproute2 does: /var/run/netns is a mount point with shared propagation, so that a later umount of a namespace
// file propagates to every mount namespace and the namespace can be freed.
SysResult PrepareRunDir() {
  if (mkdir(kRunDir, 0755) != 0 && errno != EEXIST) return SysResult::Fail(errno, "mkdir");
  bool madeMount = false;
  while (mount("", kRunDir, "none", MS_SHARED | MS_REC, nullptr) != 0) {
    if (errno != EINVAL || madeMount) return SysResult::Fail(errno, "mount");
    if (mount(kRunDir, kRunDir, "none", MS_BIND | MS_REC, nullptr) != 0) return SysResult::Fail(errno, "mount");
    madeMount = true;
  }
  return SysResult::Ok(0);
}

// On a thread of its own: unshare() gives that thread (only) a fresh namespace, which the bind mount then pins.
SysResult CreateAndPin(const std::string& path) {
  SysResult result;
  try {
    std::thread worker([&]() {
      if (unshare(CLONE_NEWNET) != 0) {
        result = SysResult::Fail(errno, "unshare");
        return;
      }
      std::string self = "/proc/self/task/" + std::to_string(syscall(SYS_gettid)) + "/ns/net";
      if (mount(self.c_str(), path.c_str(), "none", MS_BIND, nullptr) != 0) {
        result = SysResult::Fail(errno, "mount");
        return;
      }
      result = SysResult::Ok(0);
    });
    worker.join();
  } catch (const std::system_error& e) {
    return SysResult::Fail(e.code().value(), "pthread_create");
  }
  return result;
}

void NetnsAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = NetnsPath(info);
  std::string what = "creating netns " + path;
  SysResult r = PrepareRunDir();
  if (r.err) ThrowSystem(env, r.err, r.syscall, what);
  int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) ThrowSystem(env, errno, "open", what);
  close(fd);
  r = CreateAndPin(path);
  if (r.err) {
    unlink(path.c_str());
    ThrowSystem(env, r.err, r.syscall, what);
  }
}

void NetnsDelete(const Napi::CallbackInfo& info) {
  std::string path = NetnsPath(info);
  // Like `ip netns del`: a file that is not (or no longer) a mount point is still removed.
  umount2(path.c_str(), MNT_DETACH);
  if (unlink(path.c_str()) != 0) ThrowSystem(info.Env(), errno, "unlink", "deleting netns " + path);
}

}  // namespace

void InitNetns(Napi::Env env, Napi::Object exports) {
  exports.Set("openInNetns", Napi::Function::New(env, OpenInNetns, "openInNetns"));
  exports.Set("netnsAdd", Napi::Function::New(env, NetnsAdd, "netnsAdd"));
  exports.Set("netnsDelete", Napi::Function::New(env, NetnsDelete, "netnsDelete"));
}

}  // namespace podnet
