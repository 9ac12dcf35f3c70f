// Validates client XML against libvirt's own RelaxNG schemas (libvirt0 ships them in
// /usr/share/libvirt/schemas), as `virsh define --validate` does, on the libuv pool. A document
// the schema refuses (a second <devices>, an element libvirt does not know) never reaches the
// host-safety policy or libvirt.
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "call.h"

namespace virtql {
namespace {

// A parsed schema is read-only once built; validation contexts are per call, so one schema
// serves every pool thread. Schemas are parsed once per file and kept for the process.
std::mutex schemasLock;
std::map<std::string, xmlRelaxNGPtr>& Schemas() {
  static auto* schemas = new std::map<std::string, xmlRelaxNGPtr>();
  return *schemas;
}

// What libxml2 reported, in its order: the innermost problem first, then the elements around it
// (its interleave errors carry no line; the enclosing element's do).
struct Problem {
  bool set = false;
  long line = 0;
  int count = 0;
  std::string message;
};

void Collect(void* data, xmlErrorPtr err) {
  auto* problem = static_cast<Problem*>(data);
  if (err == nullptr || problem->count >= 3) return;
  auto* node = static_cast<xmlNodePtr>(err->node);
  long line = err->line != 0 ? err->line : (node != nullptr ? xmlGetLineNo(node) : 0);
  if (problem->line <= 0) problem->line = line;
  std::string message = err->message != nullptr ? err->message : "invalid";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (message.size() > 300) message.resize(300);
  if (problem->set) problem->message += "; ";
  problem->message += message;
  problem->set = true;
  problem->count += 1;
}

void Silent(void*, const char*, ...) {}

xmlRelaxNGPtr SchemaFor(const std::string& file, std::string& error) {
  std::lock_guard<std::mutex> guard(schemasLock);
  auto found = Schemas().find(file);
  if (found != Schemas().end()) return found->second;
  Problem problem;
  // libxml2 prints I/O problems through its generic handler (per thread): they come back in `error`.
  xmlSetGenericErrorFunc(nullptr, Silent);
  xmlRelaxNGParserCtxtPtr parser = xmlRelaxNGNewParserCtxt(file.c_str());
  if (parser == nullptr) {
    error = "cannot read schema " + file;
    return nullptr;
  }
  xmlRelaxNGSetParserStructuredErrors(parser, Collect, &problem);
  xmlRelaxNGPtr schema = xmlRelaxNGParse(parser);
  xmlRelaxNGFreeParserCtxt(parser);
  if (schema == nullptr) {
    error = "cannot parse schema " + file + (problem.set ? ": " + problem.message : "");
    return nullptr;
  }
  Schemas()[file] = schema;
  return schema;
}

struct Outcome {
  // "" when valid; otherwise why, with "line N: " first when the document had a line.
  std::string problem;
  bool schemaError = false;
};

Outcome ValidateOne(const std::string& file, const std::string& xml) {
  Outcome out;
  std::string schemaError;
  xmlRelaxNGPtr schema = SchemaFor(file, schemaError);
  if (schema == nullptr) {
    out.problem = schemaError;
    out.schemaError = true;
    return out;
  }
  Problem problem;
  xmlParserCtxtPtr parser = xmlNewParserCtxt();
  if (parser == nullptr) {
    out.problem = "out of memory";
    return out;
  }
  std::unique_ptr<xmlParserCtxt, decltype(&xmlFreeParserCtxt)> ownedParser(parser, xmlFreeParserCtxt);
  xmlDocPtr doc = xmlCtxtReadMemory(parser, xml.data(), static_cast<int>(xml.size()), nullptr, "UTF-8",
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) {
    xmlErrorPtr err = xmlCtxtGetLastError(parser);
    Collect(&problem, err);
    out.problem = "line " + std::to_string(problem.line) + ": " + (problem.set ? problem.message : "malformed XML");
    return out;
  }
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> ownedDoc(doc, xmlFreeDoc);
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    out.problem = "line 1: DOCTYPE and entity declarations are not accepted";
    return out;
  }
  xmlRelaxNGValidCtxtPtr valid = xmlRelaxNGNewValidCtxt(schema);
  if (valid == nullptr) {
    out.problem = "out of memory";
    return out;
  }
  xmlRelaxNGSetValidStructuredErrors(valid, Collect, &problem);
  int rc = xmlRelaxNGValidateDoc(valid, doc);
  xmlRelaxNGFreeValidCtxt(valid);
  if (rc != 0) {
    out.problem = "line " + std::to_string(problem.line) + ": " +
                  (problem.set ? problem.message : "does not match libvirt's schema");
  }
  return out;
}

// xmlValidateRelaxNG(schemaFile, documents) → Promise<Array<string | null>>: per document, null
// when libvirt's schema accepts it, else the first problem ("line N: message"). Rejects when the
// schema itself cannot be read. Not a libvirt call.
Napi::Value ValidateRelaxNG(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string file = StrArg(info, 0, "schemaFile");
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "documents must be an array");
  Napi::Array arr = info[1].As<Napi::Array>();
  auto documents = std::make_shared<std::vector<std::string>>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "documents must be strings");
    documents->push_back(v.As<Napi::String>().Utf8Value());
  }
  return Run(env, [file, documents]() -> Build {
    auto outcomes = std::make_shared<std::vector<Outcome>>();
    for (const std::string& xml : *documents) {
      outcomes->push_back(ValidateOne(file, xml));
      if (outcomes->back().schemaError) return Fail(VirError::Of(VIR_ERR_INTERNAL_ERROR, outcomes->back().problem));
    }
    return [outcomes](Napi::Env env) -> Napi::Value {
      Napi::Array out = Napi::Array::New(env, outcomes->size());
      for (size_t i = 0; i < outcomes->size(); i++) {
        const Outcome& o = (*outcomes)[i];
        out.Set(static_cast<uint32_t>(i), o.problem.empty() ? env.Null() : Napi::String::New(env, o.problem));
      }
      return out;
    };
  });
}

}  // namespace

void InitXmlSchema(Napi::Env env, Napi::Object exports) {
  exports.Set("xmlValidateRelaxNG", Napi::Function::New(env, ValidateRelaxNG, "xmlValidateRelaxNG"));
}

}  // namespace virtql
