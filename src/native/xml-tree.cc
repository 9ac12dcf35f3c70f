// Parses XML documents with libxml2 (which libvirt links already) on the libuv pool, so that
// reading 1,000 domain definitions neither blocks Node's loop nor runs a JS parser over them.
// Each document comes back as the JSON text of the ordered tree the TypeScript read models walk
// (src/libvirt/xml/xml-codec.ts: `{ tag: [children], ":@": { "@_name": value } }` and
// `{ "#text": text }`); V8's JSON.parse builds that far faster than any JS tokenizer.
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "call.h"
#include "xml-tree.h"

namespace virtql {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendJsonString(std::string& out, const xmlChar* text) {
  out += '"';
  for (const xmlChar* p = text; p != nullptr && *p != 0; p++) {
    unsigned char c = *p;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void AppendQualifiedName(std::string& out, xmlNsPtr ns, const xmlChar* name) {
  if (ns != nullptr && ns->prefix != nullptr) {
    std::string qualified = reinterpret_cast<const char*>(ns->prefix);
    qualified += ':';
    qualified += reinterpret_cast<const char*>(name);
    AppendJsonString(out, reinterpret_cast<const xmlChar*>(qualified.c_str()));
  } else {
    AppendJsonString(out, name);
  }
}

bool IsBlank(const xmlChar* text) {
  for (const xmlChar* p = text; p != nullptr && *p != 0; p++) {
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') return false;
  }
  return true;
}

bool IsText(xmlNodePtr node) { return node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE; }

void AppendAttributes(std::string& out, xmlNodePtr element) {
  if (element->properties == nullptr && element->nsDef == nullptr) return;
  out += ",\":@\":{";
  bool first = true;
  auto key = [&](const std::string& name) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, reinterpret_cast<const xmlChar*>(("@_" + name).c_str()));
    out += ':';
  };
  for (xmlNsPtr ns = element->nsDef; ns != nullptr; ns = ns->next) {
    key(ns->prefix == nullptr ? "xmlns" : "xmlns:" + std::string(reinterpret_cast<const char*>(ns->prefix)));
    AppendJsonString(out, ns->href);
  }
  for (xmlAttrPtr attr = element->properties; attr != nullptr; attr = attr->next) {
    std::string name = reinterpret_cast<const char*>(attr->name);
    if (attr->ns != nullptr && attr->ns->prefix != nullptr) {
      name = std::string(reinterpret_cast<const char*>(attr->ns->prefix)) + ":" + name;
    }
    key(name);
    xmlChar* value = xmlNodeListGetString(element->doc, attr->children, 1);
    AppendJsonString(out, value != nullptr ? value : reinterpret_cast<const xmlChar*>(""));
    if (value != nullptr) xmlFree(value);
  }
  out += '}';
}

// Whitespace between child elements is indentation, dropped; text of a leaf element is kept
// as it is. Comments and processing instructions carry nothing a read model uses.
void AppendElement(std::string& out, xmlNodePtr element, int depth) {
  if (depth > 128) throw std::runtime_error("the document nests deeper than 128 elements");
  out += '{';
  AppendQualifiedName(out, element->ns, element->name);
  out += ":[";
  bool hasElements = false;
  for (xmlNodePtr child = element->children; child != nullptr; child = child->next) {
    if (child->type == XML_ELEMENT_NODE) hasElements = true;
  }
  bool first = true;
  for (xmlNodePtr child = element->children; child != nullptr; child = child->next) {
    if (child->type == XML_ELEMENT_NODE) {
      if (!first) out += ',';
      first = false;
      AppendElement(out, child, depth + 1);
    } else if (IsText(child) && !(hasElements && IsBlank(child->content))) {
      if (!first) out += ',';
      first = false;
      out += "{\"#text\":";
      AppendJsonString(out, child->content);
      out += '}';
    }
  }
  out += ']';
  AppendAttributes(out, element);
  out += '}';
}

std::string LastXmlError() {
  const xmlError* err = xmlGetLastError();
  if (err == nullptr || err->message == nullptr) return "malformed XML";
  std::string message = err->message;
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return "malformed XML at line " + std::to_string(err->line) + ", column " + std::to_string(err->int2) + ": " +
         message;
}

}  // namespace

ParsedTree ParseXmlTree(const char* data, size_t size) {
  ParsedTree result;
  xmlResetLastError();
  // No network, no entity substitution, no DTD loading: libvirt's documents carry no DTD, and one
  // that does is refused below before anything reads it.
  if (size > static_cast<size_t>(INT32_MAX)) {
    result.text = "malformed XML: the document is larger than 2 GiB";
    return result;
  }
  xmlDocPtr doc = xmlReadMemory(data, static_cast<int>(size), nullptr, "UTF-8",
                                XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) {
    result.text = LastXmlError();
    return result;
  }
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> owned(doc, xmlFreeDoc);
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    result.text = "malformed XML: DOCTYPE and entity declarations are not accepted";
    return result;
  }
  xmlNodePtr root = xmlDocGetRootElement(doc);
  if (root == nullptr) {
    result.text = "malformed XML: no root element";
    return result;
  }
  result.text.reserve(size);
  try {
    AppendElement(result.text, root, 0);
  } catch (const std::runtime_error& e) {
    result.text = std::string("malformed XML: ") + e.what();
    return result;
  }
  result.ok = true;
  return result;
}

namespace {

// xmlParseTrees(documents: string[]) → Promise<Array<string | Error>>: per document, the JSON of
// its root element, or an Error naming the syntax problem. Not a libvirt call.
Napi::Value ParseTrees(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "documents must be an array");
  Napi::Array arr = info[0].As<Napi::Array>();
  auto documents = std::make_shared<std::vector<std::string>>();
  documents->reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "documents must be strings");
    documents->push_back(v.As<Napi::String>().Utf8Value());
  }
  return Run(env, [documents]() -> Build {
    auto parsed = std::make_shared<std::vector<ParsedTree>>();
    parsed->reserve(documents->size());
    for (const std::string& xml : *documents) parsed->push_back(ParseXmlTree(xml.data(), xml.size()));
    documents->clear();
    return [parsed](Napi::Env env) -> Napi::Value {
      Napi::Array out = Napi::Array::New(env, parsed->size());
      for (size_t i = 0; i < parsed->size(); i++) {
        const ParsedTree& p = (*parsed)[i];
        out.Set(static_cast<uint32_t>(i), p.ok ? Napi::String::New(env, p.text)
                                                : Napi::Error::New(env, p.text).Value());
      }
      return out;
    };
  });
}

}  // namespace

void InitXmlTree(Napi::Env env, Napi::Object exports) {
  xmlInitParser();
  exports.Set("xmlParseTrees", Napi::Function::New(env, ParseTrees, "xmlParseTrees"));
}

}  // namespace virtql
