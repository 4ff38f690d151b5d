// podnet's native addon: a thin syscall shim (see README.md). This file wires the per-environment state and the
// exports; sockets.cc opens and sends, reader.cc receives through uv_poll, netns.cc handles namespaces and files.
#include <napi.h>
#include <uv.h>

#include "state.h"

namespace podnet {

AddonState& State(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* state = new AddonState();
  if (napi_get_uv_event_loop(env, &state->loop) != napi_ok) {
    delete state;
    throw Napi::Error::New(env, "podnet native addon: no libuv loop for this environment");
  }
  env.SetInstanceData(state);
  // A worker thread that loaded the addon ends: stop its pollers and close the sockets it still holds.
  if (napi_add_async_cleanup_hook(env, BeginCleanup, state, nullptr) != napi_ok) {
    throw Napi::Error::New(env, "podnet native addon: cannot register its cleanup hook");
  }
  InitSockets(env, exports);
  InitReader(env, exports);
  InitNetns(env, exports);
  InitUdpBatch(env, exports);
  return exports;
}

}  // namespace podnet

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return podnet::Init(env, exports); }

NODE_API_MODULE(podnet_native, InitAddon)
