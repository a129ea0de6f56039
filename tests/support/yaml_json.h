// YAML documents (examples/, crds/) as JSON for tests.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace financialapi::testing {

// Every document of a YAML file as JSON (plain scalars become numbers or booleans where they look
// like one, as a Kubernetes YAML decoder does). Throws on unreadable files: tests want to stop there.
std::vector<nlohmann::json> LoadYamlFile(const std::string& path);

// A path inside the source tree.
std::string SourcePath(const std::string& relative);

// Applies the `default`s of an OpenAPI v3 schema to `value` as the API server does for a CRD.
void ApplySchemaDefaults(const nlohmann::json& schema, nlohmann::json& value);

}  // namespace financialapi::testing
