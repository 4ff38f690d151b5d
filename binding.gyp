{
  "targets": [
    {
      "target_name": "podnet_native",
      "sources": [
        "native/podnet_native.cc",
        "native/common.cc",
        "native/sockets.cc",
        "native/reader.cc",
        "native/netns.cc",
        "native/udpBatch.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
