// The watcher's state machine against a scripted source: list, watch, bookmark, stream end, 410.
#include "financialapi/runtime/watcher.h"

#include <algorithm>
#include <deque>

#include <gtest/gtest.h>

#include "financialapi/common/logging.h"

namespace financialapi::runtime {
namespace {

using namespace std::chrono_literals;
using kube::WatchEvent;

Json ConfigMap(const std::string& name, const std::string& version, const std::string& ns = "ns") {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"resourceVersion", version},
                        {"managedFields", Json::array({{{"manager", "x"}}})}}}};
}

// Each List/Watch call takes the next scripted answer; the test then checks what the watcher asked.
class ScriptedSource final : public ListWatchSource {
 public:
  struct WatchScript {
    std::vector<WatchEvent> events;
    Status end;
  };

  std::deque<StatusOr<Json>> lists;
  std::deque<WatchScript> watches;
  std::vector<std::string> watched_from;  // resource versions the watcher asked for
  std::mutex mutex;
  std::condition_variable idle;
  bool exhausted = false;

  StatusOr<Json> List() override {
    std::lock_guard lock(mutex);
    if (lists.empty()) return Unavailable("no more scripted lists");
    auto next = std::move(lists.front());
    lists.pop_front();
    return next;
  }

  Status Watch(const std::string& version, const std::function<void(WatchEvent&&)>& on_event,
               kube::Cancellation* cancel) override {
    WatchScript script;
    bool out_of_script = false;
    {
      std::lock_guard lock(mutex);
      watched_from.push_back(version);
      if (watches.empty()) {
        exhausted = true;
        out_of_script = true;
        idle.notify_all();
      } else {
        script = std::move(watches.front());
        watches.pop_front();
      }
    }
    if (out_of_script) {
      // Out of script: behave like a quiet stream until the watcher is stopped.
      std::mutex quiet_mutex;
      std::condition_variable quiet;
      const int id = cancel->OnCancel([&] {
        std::lock_guard lock(quiet_mutex);
        quiet.notify_all();
      });
      {
        std::unique_lock lock(quiet_mutex);
        quiet.wait(lock, [&] { return cancel->IsCancelled(); });
      }
      cancel->Unregister(id);
      return {StatusCode::kCancelled, "cancelled"};
    }
    for (auto& event : script.events) on_event(std::move(event));
    return script.end;
  }

  void WaitUntilExhausted() {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(idle.wait_for(lock, 5s, [&] { return exhausted; })) << "the watcher did not reach the end of the script";
  }
};

struct Recorded {
  std::mutex mutex;
  std::vector<std::string> events;
  void Push(std::string e) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(e));
  }
};

WatcherHandlers Record(Recorded& recorded) {
  return {.on_add = [&](const ObjectPtr& o) { recorded.Push("add " + ObjectKey(*o)); },
          .on_update = [&](const ObjectPtr&, const ObjectPtr& o) { recorded.Push("update " + ObjectKey(*o)); },
          .on_delete = [&](const ObjectPtr& o) { recorded.Push("delete " + ObjectKey(*o)); }};
}

Json ListOf(std::vector<Json> items, const std::string& version) {
  return {{"kind", "ConfigMapList"}, {"metadata", {{"resourceVersion", version}}}, {"items", items}};
}

WatcherOptions FastOptions() {
  WatcherOptions options;
  options.initial_backoff = 1ms;
  options.max_backoff = 2ms;
  return options;
}

TEST(WatcherTest, ListsThenWatchesFromTheListVersionAndFollowsBookmarks) {
  auto source = std::make_unique<ScriptedSource>();
  auto* script = source.get();
  script->lists.push_back(ListOf({ConfigMap("a", "10")}, "10"));
  script->watches.push_back({{{WatchEvent::Type::kAdded, ConfigMap("b", "11")},
                              {WatchEvent::Type::kModified, ConfigMap("a", "12")},
                              {WatchEvent::Type::kBookmark, {{"metadata", {{"resourceVersion", "15"}}}}}},
                             Status::Ok()});  // the server closed the stream
  script->watches.push_back({{{WatchEvent::Type::kDeleted, ConfigMap("b", "16")}}, Status::Ok()});
  Recorded recorded;
  Watcher watcher(std::move(source), FastOptions(), Record(recorded));
  watcher.Start();
  ASSERT_TRUE(watcher.WaitForSync(5s));
  script->WaitUntilExhausted();
  watcher.Stop();

  EXPECT_EQ(recorded.events, (std::vector<std::string>{"add ns/a", "add ns/b", "update ns/a", "delete ns/b"}));
  EXPECT_EQ(script->watched_from, (std::vector<std::string>{"10", "15", "16"}))
      << "re-watch from the bookmark, then from the last event";
  EXPECT_EQ(watcher.store().Size(), 1U);
  ASSERT_NE(watcher.store().Get("ns/a"), nullptr);
  EXPECT_EQ((*watcher.store().Get("ns/a"))["metadata"]["resourceVersion"], "12");
  EXPECT_FALSE((*watcher.store().Get("ns/a"))["metadata"].contains("managedFields")) << "transform strips managedFields";
  const auto stats = watcher.stats();
  EXPECT_EQ(stats.lists, 1U);
  EXPECT_EQ(stats.bookmarks, 1U);
  EXPECT_EQ(stats.events, 3U);
}

TEST(WatcherTest, GoneRelistsAndReportsWhatChangedMeanwhile) {
  auto source = std::make_unique<ScriptedSource>();
  auto* script = source.get();
  script->lists.push_back(ListOf({ConfigMap("a", "10"), ConfigMap("b", "10")}, "10"));
  script->watches.push_back({{}, Status(StatusCode::kGone, "too old resource version")});
  // While the watch was lost: a changed, b deleted, c created.
  script->lists.push_back(ListOf({ConfigMap("a", "20"), ConfigMap("c", "19")}, "20"));
  Recorded recorded;
  Watcher watcher(std::move(source), FastOptions(), Record(recorded));
  watcher.Start();
  script->WaitUntilExhausted();
  watcher.Stop();

  std::vector<std::string> after_relist(recorded.events.begin() + 2, recorded.events.end());
  std::sort(after_relist.begin(), after_relist.end());
  EXPECT_EQ(after_relist, (std::vector<std::string>{"add ns/c", "delete ns/b", "update ns/a"}));
  EXPECT_EQ(watcher.store().Size(), 2U);
  EXPECT_EQ(watcher.stats().relists_after_gone, 1U);
  EXPECT_EQ(script->watched_from.back(), "20");
}

TEST(WatcherTest, FailuresBackOffAndResumeFromTheLastVersionWithoutRelisting) {
  auto source = std::make_unique<ScriptedSource>();
  auto* script = source.get();
  script->lists.push_back(Unavailable("connection refused"));  // first list fails: retried
  script->lists.push_back(ListOf({}, "5"));
  script->watches.push_back({{{WatchEvent::Type::kAdded, ConfigMap("a", "6")}}, Unavailable("connection reset")});
  script->watches.push_back({{}, Timeout("silent for 150s")});
  Recorded recorded;
  Watcher watcher(std::move(source), FastOptions(), Record(recorded));
  watcher.Start();
  script->WaitUntilExhausted();
  watcher.Stop();

  EXPECT_EQ(script->watched_from, (std::vector<std::string>{"5", "6", "6"}));
  const auto stats = watcher.stats();
  EXPECT_EQ(stats.lists, 1U);
  EXPECT_EQ(stats.errors, 3U);
  EXPECT_EQ(stats.relists_after_gone, 0U);
}

TEST(WatcherTest, StopAndStartResumeWithTheStoreKept) {
  auto source = std::make_unique<ScriptedSource>();
  auto* script = source.get();
  script->lists.push_back(ListOf({ConfigMap("a", "10")}, "10"));
  Recorded recorded;
  Watcher watcher(std::move(source), FastOptions(), Record(recorded));
  watcher.Start();
  script->WaitUntilExhausted();
  watcher.Stop();
  EXPECT_EQ(watcher.store().Size(), 1U);
  {
    std::lock_guard lock(script->mutex);
    script->exhausted = false;
  }
  watcher.Start();
  script->WaitUntilExhausted();
  watcher.Stop();
  EXPECT_EQ(script->watched_from, (std::vector<std::string>{"10", "10"}));
  EXPECT_EQ(watcher.stats().lists, 1U);
}

TEST(StoreTest, ReplaceSwapsWholeContent) {
  Store store;
  store.Upsert(std::make_shared<const Json>(ConfigMap("a", "1")));
  std::unordered_map<std::string, ObjectPtr> fresh;
  fresh.emplace("ns/b", std::make_shared<const Json>(ConfigMap("b", "2")));
  auto previous = store.Replace(std::move(fresh));
  EXPECT_EQ(previous.size(), 1U);
  EXPECT_EQ(store.Get("ns/a"), nullptr);
  EXPECT_NE(store.Get("ns/b"), nullptr);
  EXPECT_EQ(store.Size(), 1U);
  EXPECT_EQ(store.List().size(), 1U);
  EXPECT_NE(store.Remove("ns/b"), nullptr);
  EXPECT_EQ(store.Size(), 0U);
}

TEST(WatcherTest, WatchersOfTwoNamespacesShareOneStoreAndARelistReplacesOnlyItsOwn) {
  auto store = std::make_shared<Store>();
  auto source_a = std::make_unique<ScriptedSource>();
  auto source_b = std::make_unique<ScriptedSource>();
  ScriptedSource* script_a = source_a.get();
  ScriptedSource* script_b = source_b.get();
  script_a->lists.push_back(ListOf({ConfigMap("a1", "10", "a"), ConfigMap("a2", "10", "a")}, "10"));
  // The stream of namespace a expires; its relist no longer has a2 and brings a3.
  script_a->watches.push_back({{}, Status(StatusCode::kGone, "too old")});
  script_a->lists.push_back(ListOf({ConfigMap("a1", "10", "a"), ConfigMap("a3", "20", "a")}, "20"));
  script_b->lists.push_back(ListOf({ConfigMap("b1", "11", "b")}, "11"));
  Recorded recorded_a;
  Recorded recorded_b;
  WatcherOptions options_a = FastOptions();
  options_a.store_namespace = "a";
  WatcherOptions options_b = FastOptions();
  options_b.store_namespace = "b";
  Watcher watcher_b(std::move(source_b), options_b, Record(recorded_b), store);
  watcher_b.Start();
  script_b->WaitUntilExhausted();
  Watcher watcher_a(std::move(source_a), options_a, Record(recorded_a), store);
  watcher_a.Start();
  script_a->WaitUntilExhausted();
  watcher_a.Stop();
  watcher_b.Stop();

  EXPECT_EQ(&watcher_a.store(), store.get());
  EXPECT_EQ(store->Size(), 3U);
  EXPECT_NE(store->Get("b/b1"), nullptr) << "namespace a's relist removed namespace b's object";
  EXPECT_NE(store->Get("a/a3"), nullptr);
  EXPECT_EQ(store->Get("a/a2"), nullptr);
  std::sort(recorded_a.events.begin(), recorded_a.events.end());  // a list's adds come in hash order
  EXPECT_EQ(recorded_a.events, (std::vector<std::string>{"add a/a1", "add a/a2", "add a/a3", "delete a/a2"}));
  EXPECT_EQ(recorded_b.events, (std::vector<std::string>{"add b/b1"}));
}

TEST(StoreTest, ReplaceWithinANamespaceLeavesTheOthers) {
  Store store;
  store.Upsert(std::make_shared<const Json>(ConfigMap("x", "1", "a")));
  store.Upsert(std::make_shared<const Json>(ConfigMap("y", "1", "ab")));  // a prefix of the name is another namespace
  store.Upsert(std::make_shared<const Json>(ConfigMap("z", "1", "b")));
  std::unordered_map<std::string, ObjectPtr> fresh;
  fresh.emplace("a/w", std::make_shared<const Json>(ConfigMap("w", "2", "a")));
  const auto previous = store.Replace(std::move(fresh), "a");
  ASSERT_EQ(previous.size(), 1U);
  EXPECT_TRUE(previous.contains("a/x"));
  EXPECT_EQ(store.Size(), 3U);
  EXPECT_NE(store.Get("a/w"), nullptr);
  EXPECT_NE(store.Get("ab/y"), nullptr);
  EXPECT_NE(store.Get("b/z"), nullptr);
}

ObjectPtr OwnedConfigMap(const std::string& name, const Json& owner_references) {
  Json object = ConfigMap(name, "1");
  object["metadata"]["ownerReferences"] = owner_references;
  return std::make_shared<const Json>(std::move(object));
}

Json OwnerRef(const std::string& uid, bool controller) {
  return {{"apiVersion", "example.com/v1"}, {"kind", "Owner"}, {"name", uid}, {"uid", uid}, {"controller", controller}};
}

std::vector<std::string> NamesControlledBy(const Store& store, const std::string& uid) {
  std::vector<std::string> names;
  for (const ObjectPtr& object : store.ListControlledBy(uid)) names.push_back((*object)["metadata"]["name"]);
  std::sort(names.begin(), names.end());
  return names;
}

TEST(StoreTest, ControllerIndexFollowsUpsertsRemovesAndReplace) {
  Store store;
  store.Upsert(OwnedConfigMap("a", Json::array({OwnerRef("u1", true)})));
  store.Upsert(OwnedConfigMap("b", Json::array({OwnerRef("u2", false), OwnerRef("u1", true)})));
  store.Upsert(OwnedConfigMap("c", Json::array({OwnerRef("u1", false)})));  // owned, not controlled
  store.Upsert(std::make_shared<const Json>(ConfigMap("d", "1")));
  EXPECT_EQ(NamesControlledBy(store, "u1"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(NamesControlledBy(store, "u2").empty());

  // A changed controller moves the object between owners.
  store.Upsert(OwnedConfigMap("a", Json::array({OwnerRef("u2", true)})));
  EXPECT_EQ(NamesControlledBy(store, "u1"), (std::vector<std::string>{"b"}));
  EXPECT_EQ(NamesControlledBy(store, "u2"), (std::vector<std::string>{"a"}));

  store.Remove("ns/b");
  EXPECT_TRUE(NamesControlledBy(store, "u1").empty());

  std::unordered_map<std::string, ObjectPtr> fresh;
  fresh.emplace("ns/e", OwnedConfigMap("e", Json::array({OwnerRef("u1", true)})));
  store.Replace(std::move(fresh));
  EXPECT_EQ(NamesControlledBy(store, "u1"), (std::vector<std::string>{"e"}));
  EXPECT_TRUE(NamesControlledBy(store, "u2").empty()) << "the replaced content left the index";
}

TEST(StoreTest, ControllerUidIgnoresMalformedOwnerReferences) {
  EXPECT_EQ(ControllerUid(Json::object()), "");
  EXPECT_EQ(ControllerUid(Json{{"metadata", {{"ownerReferences", "x"}}}}), "");
  EXPECT_EQ(ControllerUid(Json{{"metadata", {{"ownerReferences", {1, OwnerRef("u", true)}}}}}), "u");
}

TEST(LoggerTest, TextAndJsonCarryTheFields) {
  const Logger log = Logger().With("controller", "mirror").With("namespace", "a b");
  EXPECT_EQ(log.Format("reconciled", {{"name", "x"}}, LogFormat::kText),
            "reconciled controller=mirror namespace=\"a b\" name=x");
  const Json parsed = Json::parse("{" + log.Format("say \"hi\"", {{"name", "x"}}, LogFormat::kJson) + "}");
  EXPECT_EQ(parsed["msg"], "say \"hi\"");
  EXPECT_EQ(parsed["controller"], "mirror");
  EXPECT_EQ(parsed["namespace"], "a b");
  EXPECT_EQ(parsed["name"], "x");
}

}  // namespace
}  // namespace financialapi::runtime
