// Errors, argument checks and the run-in-namespace primitive shared by every export.
#include "common.h"

#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <cmath>
#include <system_error>
#include <thread>

namespace podnet {

static std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "E" + std::to_string(err);
}

Napi::Error MakeSystemError(Napi::Env env, int err, const char* syscall, const std::string& what) {
  std::string code = ErrnoName(err);
  Napi::Error e = Napi::Error::New(env, what + ": " + code + " (" + strerrordesc_np(err) + ")");
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

void ThrowSystem(Napi::Env env, int err, const char* syscall, const std::string& what) {
  throw MakeSystemError(env, err, syscall, what);
}

void ThrowType(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }

int64_t ToInt(Napi::Env env, Napi::Value v, const char* name, int64_t min, int64_t max) {
  if (!v.IsNumber()) ThrowType(env, std::string(name) + " must be an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) || d > static_cast<double>(max)) {
    ThrowType(env, std::string(name) + " must be an integer in [" + std::to_string(min) + ", " +
                       std::to_string(max) + "], got " + v.ToString().Utf8Value());
  }
  return static_cast<int64_t>(d);
}

int ArgFd(const Napi::CallbackInfo& info, size_t index) {
  return static_cast<int>(ToInt(info.Env(), info[index], "fd", 0, INT32_MAX));
}

Napi::Object ArgObject(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsObject()) ThrowType(info.Env(), std::string(name) + " must be an object");
  return info[index].As<Napi::Object>();
}

Napi::Uint8Array ArgBytes(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsTypedArray() || info[index].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(info.Env(), std::string(name) + " must be a Uint8Array");
  }
  return info[index].As<Napi::Uint8Array>();
}

std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsString()) ThrowType(info.Env(), std::string(name) + " must be a string");
  std::string s = info[index].As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) ThrowType(info.Env(), std::string(name) + " must not contain NUL");
  return s;
}

int64_t OptInt(Napi::Object o, const char* key, int64_t min, int64_t max, int64_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  return ToInt(o.Env(), v, key, min, max);
}

Netns::~Netns() {
  if (owned && fd >= 0) close(fd);
}

void ResolveNetns(Napi::Env env, Napi::Value v, const std::string& doing, Netns& out) {
  if (v.IsUndefined() || v.IsNull()) {
    out.label = "";
    return;
  }
  if (v.IsNumber()) {
    out.fd = static_cast<int>(ToInt(env, v, "netns", 0, INT32_MAX));
    out.label = " in netns fd " + std::to_string(out.fd);
    return;
  }
  if (!v.IsString()) ThrowType(env, "netns must be a path string or an fd number");
  std::string path = v.As<Napi::String>().Utf8Value();
  if (path.empty() || path.find('\0') != std::string::npos) ThrowType(env, "netns path must be a non-empty string");
  out.label = " in " + path;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowSystem(env, errno, "open", doing + out.label);
  out.fd = fd;
  out.owned = true;
}

SysResult RunInNetns(const Netns& ns, const std::function<SysResult()>& step) {
  if (ns.fd < 0) return step();
  SysResult result;
  // A thread of its own: network namespace membership is per thread, and this one ends right after, so no
  // thread that runs JavaScript (or libuv's pool) ever sees a foreign namespace.
  try {
    std::thread worker([&]() {
      if (setns(ns.fd, CLONE_NEWNET) != 0) {
        result = SysResult::Fail(errno, "setns");
        return;
      }
      result = step();
    });
    worker.join();
  } catch (const std::system_error& e) {
    return SysResult::Fail(e.code().value(), "pthread_create");
  }
  return result;
}

}  // namespace podnet
