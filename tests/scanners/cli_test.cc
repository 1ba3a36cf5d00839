// `testbed validate` and `testbed run` on copies of experiments/ci-smoke.yaml whose command
// would leave the lab (the cases of issue 14): both exit 2 with the same refusal, and run
// creates nothing: no image build, no lab state directory, no results directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;

struct BadCommand {
  std::string command;  ///< the YAML flow list
  std::string refusal;  ///< part of the message
};

const std::vector<BadCommand> kBad = {
    {R"([nmap, -T4, -A, -p, "80", 8.8.8.8, -oX, "{xml}", "{targets}"])",
     "command[5] '8.8.8.8': a target: '8.8.8.8' is outside the lab's target subnets"},
    {R"([nmap, -S10.9.9.9, -oX, "{xml}", "{targets}"])", "command[1] '-S10.9.9.9'"},
    {R"([nmap, -D8.8.8.8, -oX, "{xml}", "{targets}"])", "command[1] '-D8.8.8.8'"},
    {R"([nmap, -sI, 8.8.8.8, -oX, "{xml}", "{targets}"])", "command[2] '8.8.8.8': read by Nmap as --sI 8.8.8.8 (idle-scan zombie)"},
    {R"([nmap, --dns-servers, 8.8.8.8, -oX, "{xml}", "{targets}"])", "command[2] '8.8.8.8'"},
    {R"([nmap, --script, broadcast-dhcp-discover, --script-args, newtargets, -oX, "{xml}", "{targets}"])",
     "command[2] 'broadcast-dhcp-discover'"},
    {R"([bash, -c, "nmap 8.8.8.8", "{xml}", "{targets}"])", "command[0] 'bash'"},
    // masscan (issue 16): ranges, range options, target files, exclusions, spoofed sources,
    // adapter and router MAC, each in a spelling masscan accepts.
    {R"([masscan, --adapter, "{scan_interface}", --router-mac, "{router_mac}", -oL, "{output}", "{targets}", 172.24.1.1-172.24.9.9])", "command[8] '172.24.1.1-172.24.9.9': a target: range"},
    {R"([masscan, --adapter, "{scan_interface}", --router-mac, "{router_mac}", -oL, "{output}", "{targets}", --range=8.8.8.8])", "command[8] '--range=8.8.8.8': read by masscan as --range"},
    {R"([masscan, --adapter, "{scan_interface}", --router-mac, "{router_mac}", -oL, "{output}", "{targets}", -iL, /tmp/targets])", "command[8] '-iL': read by masscan as -iL /tmp/targets"},
    {R"([masscan, --adapter, "{scan_interface}", --router-mac, "{router_mac}", -oL, "{output}", "{targets}", --excludefile, /tmp/x])", "command[8] '--excludefile'"},
    {R"([masscan, --adapter, "{scan_interface}", --router-mac, "{router_mac}", -oL, "{output}", "{targets}", --exclude, 8.8.8.8])", "command[9] '8.8.8.8': read by masscan as --exclude"},
    {R"([masscan, --adapter, "{scan_interface}", --router-mac, "{router_mac}", -oL, "{output}", "{targets}", --adapter-ip, 10.9.9.9])", "command[9] '10.9.9.9'"},
    {R"([masscan, --adapter, "{scan_interface}", --router-mac, "{router_mac}", -oL, "{output}", "{targets}", --router-mac=00:11:22:33:44:55])", "command[8] '--router-mac=00:11:22:33:44:55'"},
    {R"([masscan, --adapter, "{scan_interface}", --router-mac, "{router_mac}", -oL, "{output}", "{targets}", -emgmt])", "command[8] '-emgmt'"},
    // ZMap: target files (whitelists), blocklists, spoofed sources, gateway MAC.
    {R"([zmap, -i, "{scan_interface}", -G, "{router_mac}", -o, "{output}", "{targets}", 8.8.8.0/24])", "command[8] '8.8.8.0/24': a target"},
    {R"([zmap, -i, "{scan_interface}", -G, "{router_mac}", -o, "{output}", "{targets}", -w, /tmp/ips])", "command[8] '-w': read by ZMap as -w /tmp/ips"},
    {R"([zmap, -i, "{scan_interface}", -G, "{router_mac}", -o, "{output}", "{targets}", --whitelist-file=/tmp/a])", "command[8] '--whitelist-file=/tmp/a'"},
    {R"([zmap, -i, "{scan_interface}", -G, "{router_mac}", -o, "{output}", "{targets}", -b, /etc/zmap/blacklist.conf])", "command[9] '/etc/zmap/blacklist.conf'"},
    {R"([zmap, -i, "{scan_interface}", -G, "{router_mac}", -o, "{output}", "{targets}", -S10.9.9.9])", "command[8] '-S10.9.9.9': read by ZMap as -S 10.9.9.9"},
    {R"([zmap, -i, "{scan_interface}", -G, "{router_mac}", -o, "{output}", "{targets}", --gateway-mac, "00:11:22:33:44:55"])", "command[9] '00:11:22:33:44:55'"},
    {R"([zmap, -i, "{scan_interface}", -G, "{router_mac}", -o, "{output}", "{targets}", -C, /etc/zmap/zmap.conf])", "command[8] '-C'"},
};

class GuardCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = util::TempDir::create("guard-cli");
    ASSERT_TRUE(d);
    dir_ = std::make_unique<util::TempDir>(std::move(*d));
    auto topo = util::read_file(std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet-small.yaml");
    ASSERT_TRUE(topo);
    ASSERT_TRUE(util::write_file_atomic(dir_->path() / "topo.yaml", *topo));
  }
  fs::path experiment(const std::string& command) {
    fs::path p = dir_->path() / "exp.yaml";
    std::string text =
        "name: guard-cli\n"
        "topology: topo.yaml\n"
        "scanners:\n"
        "  - {label: \"7.80\", image: scanner-nmap-7.80}\n"
        "command: " + command + "\n"
        "output: results\n";
    EXPECT_TRUE(util::write_file_atomic(p, text));
    return p;
  }
  util::ProcessResult testbed(std::vector<std::string> args) {
    args.insert(args.begin(), std::string(TESTBED_BINARY_DIR) + "/testbed");
    util::ProcessOptions o;
    o.cwd = dir_->path().string();
    o.extra_env = {"TESTBED_IMAGE_DIR=" + (dir_->path() / "images").string()};
    auto r = util::run_process(args, o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : util::ProcessResult{};
  }
  std::unique_ptr<util::TempDir> dir_;
};

TEST_F(GuardCli, ValidateAndRunRefuseTheSameWayAndRunCreatesNothing) {
  const std::string lab = "guardcli" + std::to_string(::getpid() % 100000);
  for (const auto& bad : kBad) {
    fs::path exp = experiment(bad.command);
    auto v = testbed({"validate", exp.string()});
    EXPECT_EQ(v.exit_code, 2) << bad.command << "\n" << v.out << v.err;
    EXPECT_NE(v.err.find(bad.refusal), std::string::npos) << bad.command << "\n" << v.err;
    EXPECT_NE(v.err.find(exp.string() + ":5:"), std::string::npos) << v.err;  // file:line:col

    auto r = testbed({"run", exp.string(), "--lab-name", lab});
    EXPECT_EQ(r.exit_code, 2) << bad.command << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(bad.refusal), std::string::npos) << bad.command << "\n" << r.err;
    EXPECT_NE(r.err.find("nothing was created"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_->path() / "results")) << bad.command;
    EXPECT_FALSE(fs::exists(dir_->path() / "images")) << bad.command;  // no image build
    EXPECT_FALSE(fs::exists(fs::path("/var/lib/testbed/labs") / lab)) << bad.command;
  }
  // The counterpart inside the lab passes validate (run would go on to build the lab).
  fs::path good = experiment(R"([nmap, -T4, -S172.24.0.10, -e, scan, --dns-servers, 172.24.0.1, -oX, "{xml}", "{targets}"])");
  auto v = testbed({"validate", good.string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  // And the shipped raw-frame commands (per-scanner `command:`) pass too.
  for (const char* f : {"ci-scanner-kinds.yaml", "scanners.yaml"}) {
    auto ok = testbed({"validate", std::string(TESTBED_SOURCE_DIR) + "/experiments/" + f});
    EXPECT_EQ(ok.exit_code, 0) << f << "\n" << ok.out << ok.err;
  }
}

}  // namespace
}  // namespace testbed
