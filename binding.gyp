{
  "targets": [
    {
      "target_name": "virtql_native",
      "sources": [
        "src/native/addon.cc",
        "src/native/call.cc",
        "src/native/handles.cc",
        "src/native/connect.cc",
        "src/native/domain.cc",
        "src/native/network.cc",
        "src/native/interface.cc",
        "src/native/storage.cc",
        "src/native/snapshot.cc",
        "src/native/block-job.cc",
        "src/native/backup.cc",
        "src/native/stream.cc",
        "src/native/volume-stream.cc",
        "src/native/node-device.cc",
        "src/native/secret.cc",
        "src/native/events.cc",
        "src/native/xml-tree.cc",
        "src/native/definition-cache.cc",
        "src/native/xml-schema.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags_cc": ["<!@(pkg-config --cflags libvirt libxml-2.0)", "-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libvirt libxml-2.0)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
    }
  ]
}
