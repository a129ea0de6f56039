#include "bench_support.h"

#include <sys/resource.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace financialapi::bench {

bool ParseInt(const std::string& text, int& out) {
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used != text.size() || value < 0) return false;
    out = value;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

Status EnsureNamespace(kube::Client& client, const std::string& ns) {
  auto created = client.Create(kube::resources::kNamespaces,
                               {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) return created.status();
  return Status::Ok();
}

Status ParallelFor(int count, int threads, const std::function<Status(int)>& work) {
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::mutex mutex;
  Status first_failure;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
        Status status = work(i);
        if (!status.ok()) {
          failures.fetch_add(1);
          std::lock_guard lock(mutex);
          if (first_failure.ok()) first_failure = status;
        }
      }
    });
  }
  for (auto& thread : pool) thread.join();
  if (!first_failure.ok()) {
    return first_failure.WithContext(std::to_string(failures.load()) + " of " + std::to_string(count) + " failed");
  }
  return Status::Ok();
}

}  // namespace financialapi::bench
