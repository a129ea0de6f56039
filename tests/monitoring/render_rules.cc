// financialapi-render-rules: the Prometheus rules the operator puts into a FinancialApi's PrometheusRule,
// as a plain rules file (the PrometheusRule's .spec) that promtool and Prometheus read without a cluster.
// The groups come from platform::BuildChildren, the function the reconciler applies, so what promtool
// checks is what the operator creates.
//
//   financialapi-render-rules examples/financialapi.yaml [NAMESPACE] > prod-rules.yaml
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include <yaml-cpp/yaml.h>

#include "financialapi/platform/builders.h"
#include "financialapi/platform/spec.h"
#include "support/yaml_json.h"

namespace {

using financialapi::platform::Json;

void Emit(YAML::Emitter& out, const Json& value) {
  if (value.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [key, item] : value.items()) {
      out << YAML::Key << key << YAML::Value;
      Emit(out, item);
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& item : value) Emit(out, item);
    out << YAML::EndSeq;
  } else if (value.is_string()) {
    // Quoted: a rule's "for: 2m" or a label value "true" must stay a string.
    out << YAML::DoubleQuoted << value.get<std::string>();
  } else if (value.is_null()) {
    out << YAML::Null;
  } else {
    out << value.dump();  // numbers and booleans as JSON writes them
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr, "Usage: financialapi-render-rules FINANCIALAPI.yaml [NAMESPACE] > rules.yaml\n"
                         "Prints the rule groups of the PrometheusRule the operator renders for the FinancialApi\n"
                         "(namespace: the object's own, else NAMESPACE, else \"finance\").\n");
    return 2;
  }
  try {
    Json object = financialapi::testing::LoadYamlFile(argv[1]).at(0);
    if (argc == 3) object["metadata"]["namespace"] = argv[2];
    if (!object["metadata"].contains("namespace")) object["metadata"]["namespace"] = "finance";
    if (!object["metadata"].contains("uid")) object["metadata"]["uid"] = "00000000-0000-0000-0000-000000000000";
    auto api = financialapi::platform::ParseFinancialApi(object);
    if (!api.ok()) {
      std::fprintf(stderr, "error: %s\n", api.status().ToString().c_str());
      return 1;
    }
    // Passwords do not reach the rules; the monitoring CRDs count as installed.
    const financialapi::platform::Inputs inputs{.postgres_password = "unused", .postgres_user = "unused",
                                                .redis_password = "unused", .service_monitor_crd = true,
                                                .prometheus_rule_crd = true};
    for (const auto& child : financialapi::platform::BuildChildren(*api, inputs)) {
      if (child.object.value("kind", "") != "PrometheusRule") continue;
      YAML::Emitter out;
      Emit(out, child.object.at("spec"));
      std::cout << "# Rendered by financialapi-render-rules from " << argv[1] << ": the spec of PrometheusRule "
                << child.object["metadata"]["namespace"].get<std::string>() << "/"
                << child.object["metadata"]["name"].get<std::string>() << ". Do not edit.\n"
                << out.c_str() << "\n";
      return 0;
    }
    std::fprintf(stderr, "error: %s renders no PrometheusRule (spec.monitoring.prometheusRule is false)\n", argv[1]);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
