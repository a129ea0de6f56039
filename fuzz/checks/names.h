// The API server's naming rules (k8s.io/apimachinery/pkg/util/validation) for the children the
// operator builds, plus the limits that are not checked at create time but break the object later:
// a StatefulSet's pods carry controller-revision-hash=<name>-<10 characters> (a label value, at most
// 63), a CronJob's Jobs are <name>-<8+ digits> and carry job-name / batch.kubernetes.io/job-name
// labels (so at most 52), a Job's pods carry job-name=<name> (at most 63).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace financialapi::fuzz {

inline bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
inline bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63.
inline bool IsDns1123Label(std::string_view name) {
  if (name.empty() || name.size() > 63 || !IsLowerAlnum(name.front()) || !IsLowerAlnum(name.back())) return false;
  for (const char c : name) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

// DNS-1123 labels joined by '.', at most 253.
inline bool IsDns1123Subdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  while (true) {
    const std::size_t dot = name.find('.');
    if (!IsDns1123Label(name.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    name.remove_prefix(dot + 1);
  }
}

// Service names: a DNS-1123 label that starts with a letter.
inline bool IsDns1035Label(std::string_view name) {
  return IsDns1123Label(name) && name.front() >= 'a' && name.front() <= 'z';
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63; empty is allowed.
inline bool IsLabelValue(std::string_view value) {
  if (value.empty()) return true;
  if (value.size() > 63 || !IsAlnum(value.front()) || !IsAlnum(value.back())) return false;
  for (const char c : value) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// [prefix/]name: prefix a DNS-1123 subdomain, name a non-empty label value.
inline bool IsQualifiedName(std::string_view key) {
  const std::size_t slash = key.find('/');
  if (slash != std::string_view::npos) {
    if (!IsDns1123Subdomain(key.substr(0, slash))) return false;
    key.remove_prefix(slash + 1);
  }
  return !key.empty() && IsLabelValue(key);
}

// The empty string when `name` is a valid name for an object of `kind`, else why not.
inline std::string ChildNameProblem(std::string_view kind, std::string_view name) {
  if (kind == "Service") {
    return IsDns1035Label(name) ? "" : "a Service name is a DNS-1035 label (a-z first, at most 63)";
  }
  if (!IsDns1123Subdomain(name)) return "not a DNS-1123 subdomain";
  if (kind == "StatefulSet" && name.size() > 52) {
    return "a StatefulSet name over 52 characters makes its pods' controller-revision-hash label over 63";
  }
  if (kind == "CronJob" && name.size() > 52) return "a CronJob name is at most 52 characters";
  if (kind == "Job" && name.size() > 63) return "a Job name over 63 characters makes its pods' job-name label invalid";
  if ((kind == "Deployment" || kind == "StatefulSet" || kind == "Job") && !IsDns1123Label(name)) {
    return "a workload's name is a DNS-1123 label (its pods' names and hostnames derive from it)";
  }
  return "";
}

}  // namespace financialapi::fuzz
