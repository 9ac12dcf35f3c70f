// Batched reads of libvirt documents through the connection's DefinitionCache (definition-cache.h).
#pragma once
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "handles.h"
#include "xml-tree.h"

namespace virtql {

// Argument 0: handles of one connection; argument 1: per handle, the generation the caller holds
// parsed (0 for none). Each handle's document is fetched (`fetch`: a libvirt call returning a
// malloc'd string), compared with the connection's last one for `keyOf(p) + flavour`, and parsed
// only when it changed or the caller's generation is not the current one — all in one job on the
// connection's lane. Each slot of the result: the generation (a number) when the caller's parse is
// current; [generation, treeJson] after a parse; [0, null, why] for a malformed document; or
// libvirt's error as an Error value.
template <typename P>
Napi::Value DefinitionsMany(const Napi::CallbackInfo& info, const std::string& flavour, std::function<char*(P)> fetch,
                            std::function<bool(P, std::string&)> keyOf) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "handles must be an array");
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "known generations must be an array");
  Napi::Array handles = info[0].As<Napi::Array>();
  Napi::Array known = info[1].As<Napi::Array>();
  if (known.Length() != handles.Length()) throw Napi::TypeError::New(env, "one known generation per handle");
  struct Item {
    P ptr;
    uint64_t known;
  };
  std::vector<Item> items;
  items.reserve(handles.Length());
  ConnRef conn;
  for (uint32_t i = 0; i < handles.Length(); i++) {
    Handle<P>* h = Unwrap<P>(handles.Get(i));
    if (i == 0) conn = h->conn;
    if (h->conn != conn) throw Napi::TypeError::New(env, "handles must belong to one connection");
    Napi::Value k = known.Get(i);
    if (!k.IsNumber()) throw Napi::TypeError::New(env, "known generations must be numbers");
    double g = k.As<Napi::Number>().DoubleValue();
    items.push_back({h->ptr, g >= 1 ? static_cast<uint64_t>(g) : 0});
  }
  if (items.empty()) {
    Napi::Promise::Deferred none = Napi::Promise::Deferred::New(env);
    none.Resolve(Napi::Array::New(env));
    return none.Promise();
  }
  if (conn->closed) return Rejected(env, ClosedError());
  for (const Item& it : items) Traits<P>::Ref(it.ptr);
  struct Slot {
    enum Kind { kCurrent, kParsed, kMalformed, kFailed } kind;
    uint64_t generation = 0;
    std::string text;
    VirError error;
  };
  return Run(
      env,
      [items, conn, flavour, fetch, keyOf]() -> Build {
        auto slots = std::make_shared<std::vector<Slot>>();
        slots->reserve(items.size());
        std::string key;
        for (const Item& it : items) {
          char* xml = fetch(it.ptr);
          if (xml == nullptr) {
            slots->push_back({Slot::kFailed, 0, {}, VirError::Capture()});
            continue;
          }
          if (!keyOf(it.ptr, key)) {
            std::free(xml);
            slots->push_back({Slot::kFailed, 0, {}, VirError::Capture()});
            continue;
          }
          key += flavour;
          const size_t size = std::strlen(xml);
          DefinitionCache::Seen seen = conn->definitions.Record(key, xml, size, it.known);
          if (seen.unchanged) {
            std::free(xml);
            slots->push_back({Slot::kCurrent, seen.generation, {}, {}});
            continue;
          }
          ParsedTree tree = ParseXmlTree(xml, size);
          std::free(xml);
          slots->push_back(
              {tree.ok ? Slot::kParsed : Slot::kMalformed, tree.ok ? seen.generation : 0, std::move(tree.text), {}});
        }
        return [slots](Napi::Env env) {
          Napi::Array out = Napi::Array::New(env, slots->size());
          for (size_t i = 0; i < slots->size(); i++) {
            const Slot& s = (*slots)[i];
            Napi::Value v;
            if (s.kind == Slot::kCurrent) {
              v = Napi::Number::New(env, static_cast<double>(s.generation));
            } else if (s.kind == Slot::kFailed) {
              v = ToJs(env, s.error);
            } else {
              Napi::Array pair = Napi::Array::New(env, s.kind == Slot::kParsed ? 2 : 3);
              pair.Set(0u, Napi::Number::New(env, static_cast<double>(s.generation)));
              if (s.kind == Slot::kParsed) {
                pair.Set(1u, Napi::String::New(env, s.text));
              } else {
                pair.Set(1u, env.Null());
                pair.Set(2u, Napi::String::New(env, s.text));
              }
              v = pair;
            }
            out.Set(static_cast<uint32_t>(i), v);
          }
          return out;
        };
      },
      [items] {
        for (const Item& it : items) Traits<P>::Free(it.ptr);
      },
      conn->lane);
}

}  // namespace virtql
