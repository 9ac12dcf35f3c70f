// Connection-wide event registration delivered to JS through a thread-safe function.
#pragma once
#include "handles.h"

namespace virtql {

// Starts libvirt's default event loop on its own thread, once per process.
void StartEventLoop();

// Drops every registration of the sink; runs on the pool, before the connection closes.
void DeregisterEvents(virConnectPtr conn, EventSink* sink);

void InitEvents(Napi::Env env, Exports exports);

}  // namespace virtql
