// libxml2's parse of a document libvirt produced, as the JSON of the ordered tree the TypeScript
// read models walk (see xml-tree.cc).
#pragma once
#include <cstddef>
#include <string>

namespace virtql {

// The JSON of the root element (`ok`), or why the document is malformed.
struct ParsedTree {
  bool ok = false;
  std::string text;
};

// Pure CPU work, safe on any thread.
ParsedTree ParseXmlTree(const char* data, size_t size);

}  // namespace virtql
