// The typed manifest: every field written and read back; manifests of the format before
// schema_version (fixtures/, written by `testbed run` of that time) still read; a newer
// schema refused with a clear message; plan.json and failure.json.
#include "orchestrator/results/manifest.h"

#include <gtest/gtest.h>

#include "orchestrator/results/layout.h"
#include "orchestrator/util/files.h"

namespace testbed::results {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

fs::path fixture(const char* name) {
  return fs::path(TESTBED_SOURCE_DIR) / "tests/results/fixtures" / name;
}

Manifest full_manifest() {
  Manifest m;
  m.status = "complete";
  m.run = {"7.80", "scanner-nmap-7.80", 2};
  m.experiment = {"nmap7", "experiments/nmap7.yaml", "d7326505"};
  m.testbed = {"0.1.0", "cafef00d"};
  m.host_kernel = "6.1.0-test";
  m.command_line = "./build/testbed run experiments/nmap7.yaml";
  m.lab.name = "nmap7";
  m.lab.backend = "vm";
  m.lab.accel = "tcg";
  m.lab.scanner_address = "172.24.0.10";
  m.lab.host = "qemu+ssh://lab2/system";
  m.lab.details = {{"libvirt_version", "9.0.0"}, {"image.router", "router@420e"}};
  m.images = {{"scanner", {{"name", "scanner-nmap-7.80"}, {"key", "6cf9"}, {"role", "scanner"}}}};
  m.scanner_kind = "nmap";
  m.scanner_version = "Nmap version 7.80 ( https://nmap.org )\n";
  m.scanner_command = {"nmap", "-T4", "-A", "-v", "-oX", "/root/x.xml", "172.24.1.0/24"};
  m.scan_line_latency_s = 0.0002;
  m.scan = ScanRecord{1700000000.5, 1700000035.25, 0, 440, {1700000030.5, 1700000032.75}};
  CaptureRecord c;
  c.interface = "tbd3a6-router1";
  c.on_host = "local";
  c.snaplen = 262144;
  c.buffer_bytes = 67108864;
  c.packets = 10148;
  c.bytes = 660481;
  c.kernel_dropped = 3;
  c.interface_dropped = 4;
  m.capture = c;
  m.wall_seconds = 42.5;
  m.ids = {{"suricata_version", "7.0.10"}, {"alerts", 3}, {"kernel_drops", 0}};
  m.extra = {{"future_tool", {{"alerts", 2}}}};
  m.resets = {{"target1", {{"method", "snapshot"}, {"image", "target-lamp-ftp"},
                           {"state_sha256", "ab12"}, {"reseeded", true}}}};
  return m;
}

void expect_same(const Manifest& a, const Manifest& b) {
  EXPECT_EQ(a.schema_version, b.schema_version);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.run.label, b.run.label);
  EXPECT_EQ(a.run.image, b.run.image);
  EXPECT_EQ(a.run.repetition, b.run.repetition);
  EXPECT_EQ(a.experiment.name, b.experiment.name);
  EXPECT_EQ(a.experiment.file, b.experiment.file);
  EXPECT_EQ(a.experiment.sha256, b.experiment.sha256);
  EXPECT_EQ(a.testbed.version, b.testbed.version);
  EXPECT_EQ(a.testbed.git_revision, b.testbed.git_revision);
  EXPECT_EQ(a.host_kernel, b.host_kernel);
  EXPECT_EQ(a.command_line, b.command_line);
  EXPECT_EQ(a.lab.name, b.lab.name);
  EXPECT_EQ(a.lab.backend, b.lab.backend);
  EXPECT_EQ(a.lab.accel, b.lab.accel);
  EXPECT_EQ(a.lab.scanner_address, b.lab.scanner_address);
  EXPECT_EQ(a.lab.host, b.lab.host);
  EXPECT_EQ(a.lab.details, b.lab.details);
  EXPECT_EQ(a.images, b.images);
  EXPECT_EQ(a.scanner_kind, b.scanner_kind);
  EXPECT_EQ(a.scanner_version, b.scanner_version);
  EXPECT_EQ(a.scanner_command, b.scanner_command);
  EXPECT_EQ(a.scan_line_latency_s, b.scan_line_latency_s);
  ASSERT_EQ(a.scan.has_value(), b.scan.has_value());
  if (a.scan) {
    EXPECT_EQ(a.scan->started, b.scan->started);
    EXPECT_EQ(a.scan->finished, b.scan->finished);
    EXPECT_EQ(a.scan->exit_status, b.scan->exit_status);
    EXPECT_EQ(a.scan->output_lines, b.scan->output_lines);
    EXPECT_EQ(a.scan->wake_frames, b.scan->wake_frames);
  }
  ASSERT_EQ(a.capture.has_value(), b.capture.has_value());
  if (a.capture) EXPECT_EQ(to_json(*a.capture), to_json(*b.capture));
  EXPECT_EQ(a.wall_seconds, b.wall_seconds);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.resets, b.resets);
  EXPECT_EQ(a.extra, b.extra);
}

TEST(Manifest, EveryFieldRoundTripsThroughTheFile) {
  auto t = util::TempDir::create("manifest-test");
  ASSERT_TRUE(t.ok());
  Manifest m = full_manifest();
  ASSERT_TRUE(write_manifest(t->path(), m).ok());
  ASSERT_TRUE(RunDir{t->path()}.complete());
  auto back = read_manifest(RunDir{t->path()}.manifest());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->schema_version, kManifestSchema);
  expect_same(m, *back);
  // The file is the documented JSON (docs/results.md): spot-check the spelling.
  auto j = json::parse(*util::read_file(t->path() / files::kManifest));
  EXPECT_EQ(j["schema_version"], kManifestSchema);
  EXPECT_EQ(j["capture"]["kernel_dropped"], 3);
  EXPECT_EQ(j["lab"]["libvirt_version"], "9.0.0");
  EXPECT_EQ(j["lab"]["accel"], "tcg");
  EXPECT_EQ(j["future_tool"]["alerts"], 2);  // unknown keys are kept
  EXPECT_EQ(j["ids"]["alerts"], 3);
  EXPECT_EQ(j["run"]["repetition"], 2);
  EXPECT_EQ(j["resets"]["target1"]["method"], "snapshot");
}

TEST(Manifest, UnmeasuredLatencyIsNull) {
  Manifest m = full_manifest();
  m.scan_line_latency_s.reset();
  json j = to_json(m);
  ASSERT_TRUE(j.contains("scan_line_latency_s"));
  EXPECT_TRUE(j["scan_line_latency_s"].is_null());
  auto back = manifest_from_json(j, "m");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_FALSE(back->scan_line_latency_s.has_value());
}

// Manifests written by `testbed run` before schema_version existed (LXC, and VM under TCG).
TEST(Manifest, PreviousFormatIsRead) {
  auto lxc = read_manifest(fixture("manifest-v0-lxc.json"));
  ASSERT_TRUE(lxc.ok()) << lxc.error().message;
  EXPECT_EQ(lxc->schema_version, 0);
  EXPECT_EQ(lxc->status, "complete");
  EXPECT_EQ(lxc->run.label, "7.80");
  EXPECT_EQ(lxc->run.image, "scanner-nmap-7.80");
  EXPECT_EQ(lxc->run.repetition, 1);
  EXPECT_EQ(lxc->experiment.name, "nmap7");
  EXPECT_EQ(lxc->experiment.sha256.size(), 64u);
  EXPECT_EQ(lxc->testbed.version, "0.1.0");
  EXPECT_FALSE(lxc->host_kernel.empty());
  EXPECT_EQ(lxc->lab.backend, "lxc");
  EXPECT_EQ(lxc->lab.scanner_address, "172.24.0.10");
  EXPECT_TRUE(lxc->lab.details.contains("image.scanner"));
  EXPECT_EQ(lxc->images["scanner"]["role"], "scanner");
  EXPECT_EQ(lxc->scanner_command.front(), "nmap");
  EXPECT_NE(lxc->scanner_version.find("Nmap version 7.80"), std::string::npos);
  ASSERT_TRUE(lxc->scan && lxc->capture && lxc->wall_seconds && lxc->scan_line_latency_s);
  EXPECT_EQ(lxc->capture->packets, 10148u);
  EXPECT_EQ(lxc->capture->bytes, 660481u);
  EXPECT_EQ(lxc->dropped(), 0u);
  EXPECT_EQ(*lxc->capture->on_host, "local");
  EXPECT_EQ(lxc->scan->output_lines, 440u);
  EXPECT_NEAR(lxc->scan->seconds(), 34.97, 0.01);
  EXPECT_TRUE(lxc->extra.empty()) << lxc->extra.dump();

  auto vm = read_manifest(fixture("manifest-v0-vm.json"));
  ASSERT_TRUE(vm.ok()) << vm.error().message;
  EXPECT_EQ(vm->lab.backend, "vm");
  EXPECT_EQ(vm->lab.accel, "tcg");
  EXPECT_EQ(vm->capture->packets, 4769u);

  // Written back, the old manifest is the same JSON plus schema_version.
  json orig = json::parse(*util::read_file(fixture("manifest-v0-lxc.json")));
  json again = to_json(*lxc);
  EXPECT_EQ(again["schema_version"], 0);
  again.erase("schema_version");
  EXPECT_EQ(again, orig);
}

TEST(Manifest, NewerSchemaIsRefusedWithBothVersions) {
  json j = to_json(full_manifest());
  j["schema_version"] = kManifestSchema + 1;
  auto r = manifest_from_json(j, "x/manifest.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("x/manifest.json"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("schema_version " + std::to_string(kManifestSchema + 1)),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("newer"), std::string::npos);
}

TEST(Manifest, WrongTypesAreNamedByPath) {
  json j = to_json(full_manifest());
  j["capture"]["packets"] = "many";
  auto r = manifest_from_json(j, "m.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("m.json: capture.packets: expected an unsigned integer"),
            std::string::npos)
      << r.error().message;
  j = to_json(full_manifest());
  j["scanner_command"] = {"nmap", 3};
  EXPECT_FALSE(manifest_from_json(j, "m.json").ok());
  EXPECT_FALSE(manifest_from_json(json::array(), "m.json").ok());
}

TEST(Records, PlanAndFailureRoundTrip) {
  auto t = util::TempDir::create("manifest-test");
  ASSERT_TRUE(t.ok());
  Plan p{"nmap7", 3, {{"7.80", "scanner-nmap-7.80", ""}, {"7.93", "scanner-nmap-7.93", "nmap"}}};
  ASSERT_TRUE(write_plan(t->path(), p).ok());
  auto back = read_plan(ResultsPaths{t->path()}.plan());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->experiment, "nmap7");
  EXPECT_EQ(back->repetitions, 3);
  ASSERT_EQ(back->scanners.size(), 2u);
  EXPECT_EQ(back->scanners[1].label, "7.93");
  EXPECT_EQ(back->scanners[1].image, "scanner-nmap-7.93");
  EXPECT_EQ(back->scanners[0].kind, "");  // a plan from before scanner kinds
  EXPECT_EQ(back->scanners[1].kind, "nmap");

  RunDir run = ResultsPaths{t->path()}.run("7.80", 1);
  EXPECT_EQ(run.state(), RunState::kMissing);
  fs::create_directories(run.dir);
  EXPECT_EQ(run.state(), RunState::kIncomplete);
  ASSERT_TRUE(write_failure(run.dir, {"interrupted", "scan", "SIGINT"}).ok());
  EXPECT_EQ(run.state(), RunState::kInterrupted);
  auto f = read_failure(run.failure());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->stage, "scan");
  EXPECT_EQ(f->error, "SIGINT");
  ASSERT_TRUE(write_failure(run.dir, {"failed", "fetch-xml", "x"}).ok());
  EXPECT_EQ(run.state(), RunState::kFailed);
  ASSERT_TRUE(write_manifest(run.dir, full_manifest()).ok());
  EXPECT_EQ(run.state(), RunState::kComplete);
  EXPECT_STREQ(state_name(run.state()), "complete");
}

TEST(Records, CaptureInputTakesWhatIsPresent) {
  auto t = util::TempDir::create("manifest-test");
  ASSERT_TRUE(t.ok());
  RunDir run{t->path()};
  const analysis::ScannerModel& nmap = scanners::find_kind("nmap")->model();
  util::write_file_atomic(run.console_log(nmap), "1 x\n").ok();
  std::vector<std::string> used;
  auto in = run.capture_input("7.80/1", nmap, &used);
  EXPECT_EQ(in.label, "7.80/1");
  EXPECT_EQ(in.pcap, run.capture());
  EXPECT_EQ(in.kind, &nmap);
  EXPECT_FALSE(in.phases_json);
  ASSERT_TRUE(in.console_log);
  EXPECT_EQ(used, std::vector<std::string>{"nmap.log"});
  util::write_file_atomic(run.phases(), "{}").ok();
  util::write_file_atomic(run.result_file(nmap), "<x/>").ok();
  used.clear();
  in = run.capture_input("a", nmap, &used);
  EXPECT_TRUE(in.phases_json);
  EXPECT_TRUE(in.result_file);
  EXPECT_FALSE(in.console_log);  // phases.json is the timeline
  EXPECT_EQ(used, (std::vector<std::string>{files::kPhases, "nmap.xml"}));
  // Another kind reads its own files only: nmap.xml is not masscan's.
  const analysis::ScannerModel& masscan = scanners::find_kind("masscan")->model();
  used.clear();
  in = run.capture_input("m", masscan, &used);
  EXPECT_FALSE(in.result_file);
  EXPECT_EQ(used, std::vector<std::string>{files::kPhases});
}

TEST(Records, KindOfARunFromItsManifestElseThePlanElseNmap) {
  auto t = util::TempDir::create("manifest-test");
  ASSERT_TRUE(t.ok());
  ResultsPaths results{t->path()};
  RunDir done = results.run("scan", 1), failed = results.run("zm", 1), old = results.run("7.80", 1);
  for (const RunDir* r : {&done, &failed, &old}) fs::create_directories(r->dir);
  Manifest m = full_manifest();
  m.scanner_kind = "masscan";
  ASSERT_TRUE(write_manifest(done.dir, m).ok());
  ASSERT_TRUE(write_plan(t->path(), {"x", 1, {{"scan", "i", "nmap"}, {"zm", "j", "zmap"}}}).ok());
  auto k = done.kind();
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ((*k)->program, "masscan");  // the manifest wins over the plan's "nmap"
  k = failed.kind();  // no manifest: the plan's entry for its label
  ASSERT_TRUE(k.ok());
  EXPECT_EQ((*k)->program, "zmap");
  k = old.kind();  // recorded nowhere: a run from before scanner kinds
  ASSERT_TRUE(k.ok());
  EXPECT_EQ((*k)->program, "nmap");
  m.scanner_kind = "nosuchscanner";
  ASSERT_TRUE(write_manifest(done.dir, m).ok());
  k = done.kind();
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().message.find("unknown scanner kind 'nosuchscanner'"), std::string::npos)
      << k.error().message;
}

}  // namespace
}  // namespace testbed::results
