#include "support/yaml_json.h"

#include <cstdlib>

#include <yaml-cpp/yaml.h>

namespace financialapi::testing {
namespace {

nlohmann::json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& entry : node) out[entry.first.as<std::string>()] = ToJson(entry.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string text = node.Scalar();
      if (node.Tag() == "!") return text;  // quoted: always a string
      if (text == "true" || text == "false") return text == "true";
      if (text == "null" || text == "~") return nullptr;
      char* end = nullptr;
      const long long integer = std::strtoll(text.c_str(), &end, 10);
      if (!text.empty() && *end == '\0') return integer;
      const double number = std::strtod(text.c_str(), &end);
      if (!text.empty() && *end == '\0' && text.find_first_of("0123456789") == 0) return number;
      return text;
    }
    default:
      return nullptr;
  }
}

}  // namespace

std::vector<nlohmann::json> LoadYamlFile(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const auto& document : YAML::LoadAllFromFile(path)) {
    if (document.IsNull()) continue;
    out.push_back(ToJson(document));
  }
  return out;
}

std::string SourcePath(const std::string& relative) { return std::string(FINANCIALAPI_SOURCE_DIR) + "/" + relative; }

void ApplySchemaDefaults(const nlohmann::json& schema, nlohmann::json& value) {
  if (!value.is_object() || !schema.contains("properties")) return;
  for (const auto& [key, property] : schema["properties"].items()) {
    if (!value.contains(key) && property.contains("default")) value[key] = property["default"];
    if (value.contains(key)) ApplySchemaDefaults(property, value[key]);
  }
}

}  // namespace financialapi::testing
