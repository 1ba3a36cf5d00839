// The KVM backend wired into the lab, up to the hypervisor call: make_backend picks KVM
// for qemu URIs (without connecting), and a whole Lab — the study's two-subnet topology
// with the KVM images of experiments/nmap7-ubuntu-kvm.yaml — goes up, resets a node and
// comes down on test:///default with KVM domain XML, qcow2 overlays and per-node
// cloud-init seeds made from the lab's boot configuration.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "orchestrator/config/experiment.h"
#include "orchestrator/config/recipe.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/backends/vm/cloud_builder.h"
#include "orchestrator/backends/vm/cloud_init.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/backends/registry.h"
#include "orchestrator/backends/vm/backend.h"
#include "orchestrator/backends/vm/storage.h"
#include "orchestrator/backends/lxc/storage.h"
#include "orchestrator/lab/lab.h"
#include "orchestrator/virt/naming.h"
#include "orchestrator/virt/xml.h"

namespace testbed::virt {
using backends::backend_kind_for_uri;
using backends::lxc::OverlayStorage;
using backends::check_remote_lab_host;
using backends::is_remote_uri;
using backends::lab_host_ssh;
using backends::make_backend;
using backends::vm::VmStorage;
using backends::vm::kvm_usable;
using lab::Lab;
using lab::LabOptions;
namespace {

namespace fs = std::filesystem;
const fs::path kSource = TESTBED_SOURCE_DIR;

TEST(KvmBackends, UriPicksTheBackendBeforeConnecting) {
  using config::BackendKind;
  EXPECT_EQ(backend_kind_for_uri("qemu:///system"), BackendKind::kVm);
  EXPECT_EQ(backend_kind_for_uri("qemu+ssh://lab1/system"), BackendKind::kVm);
  EXPECT_EQ(backend_kind_for_uri("lxc:///system"), BackendKind::kLxc);
  EXPECT_EQ(backend_kind_for_uri("lxc+ssh://lab1/"), BackendKind::kLxc);
  EXPECT_EQ(backend_kind_for_uri("test:///default"), BackendKind::kLxc);
  EXPECT_EQ(backend_kind_for_uri("qemuish:///x"), std::nullopt);
  EXPECT_EQ(backend_kind_for_uri("vbox:///session"), std::nullopt);

  // The local QEMU URI takes the KVM path: here (no /dev/kvm) it stops at the KVM check,
  // before any connection; on a KVM host it connects and gets KVM storage.
  // The local QEMU URI takes the VM path, KVM or TCG (resolve_accel); asking for KVM
  // where no guest can run stops before any connection, saying what to do.
  auto q = make_backend("qemu:///system", std::nullopt, "tcg");
  if (q) EXPECT_NE(dynamic_cast<VmStorage*>(q->storage.get()), nullptr);
  if (!kvm_usable()) {
    auto k = make_backend("qemu:///system", BackendKind::kVm, "kvm");
    ASSERT_FALSE(k);
    EXPECT_NE(k.error().message.find("accel: tcg"), std::string::npos) << k.error().message;
  }
  // A kind that does not fit the URI, and unknown schemes, fail without connecting.
  auto mismatch = make_backend("lxc:///system", BackendKind::kVm);
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("qemu:///system"), std::string::npos);
  auto mismatch2 = make_backend("qemu+ssh://lab1/system", BackendKind::kLxc);
  ASSERT_FALSE(mismatch2);
  EXPECT_NE(mismatch2.error().message.find("cannot run on"), std::string::npos);
  auto unknown = make_backend("vbox:///session");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("qemu+ssh://HOST/system"), std::string::npos);

  // The mock driver takes either kind (the KVM parts: make_kvm_backend, kvm_xml_test).
  auto kvm = make_backend("test:///default", BackendKind::kVm);
  ASSERT_TRUE(kvm) << kvm.error().message;
  EXPECT_NE(dynamic_cast<VmStorage*>(kvm->storage.get()), nullptr);
  auto lxc = make_backend("test:///default");
  ASSERT_TRUE(lxc) << lxc.error().message;
  EXPECT_NE(dynamic_cast<OverlayStorage*>(lxc->storage.get()), nullptr);
}

// A built image in the cache as CloudImageBuilder (or LxcBuilder) leaves it: manifest,
// current -> key; KVM ones with a small base disk and the recipe's cloud-config.
void fake_image(const fs::path& root, const std::string& name, const std::string& backend) {
  fs::path dir = root / name / "k1";
  fs::create_directories(dir);
  nlohmann::json m = {{"schema", 1}, {"complete", true}, {"name", name}, {"backend", backend}};
  ASSERT_TRUE(util::write_file_atomic(dir / "manifest.json", m.dump()));
  std::error_code ec;
  fs::create_directory_symlink(
      "k1", root / name / images::current_link(*config::parse_backend_kind(backend)), ec);
  if (backend != "kvm" && backend != "vm") {
    fs::create_directories(dir / "rootfs");
    return;
  }
  ASSERT_TRUE(util::run_checked(
      {"qemu-img", "create", "-q", "-f", "qcow2", (dir / backends::vm::kKvmBaseDisk).string(), "64M"}));
  auto recipe = config::load_recipe_named(kSource / "images", name);
  ASSERT_TRUE(recipe) << recipe.error().message;
  auto part = backends::vm::recipe_cloud_config(*recipe);
  ASSERT_TRUE(part) << part.error().message;
  ASSERT_TRUE(
      util::write_file_atomic(dir / backends::vm::kKvmRecipeCloudConfig, backends::vm::emit_yaml(*part)));
}

std::vector<std::string> objects_of(Lab& lab, const std::string& name) {
  std::vector<std::string> out;
  auto objs = lab.backend().list_objects();
  EXPECT_TRUE(objs) << objs.error().message;
  if (!objs) return out;
  for (const auto& o : *objs)
    if (o.meta.lab == name) out.push_back(o.name);
  return out;
}

TEST(KvmLab, StudyLabUpResetDownOnTheTestDriver) {
  auto exp = config::load_experiment((kSource / "experiments" / "nmap7-ubuntu-kvm.yaml").string());
  ASSERT_TRUE(exp) << exp.error().message;
  auto topo = config::load_topology(exp->topology.string());
  ASSERT_TRUE(topo) << topo.error().message;
  auto state = util::TempDir::create("kvm-lab-state");
  auto cache = util::TempDir::create("kvm-lab-images");
  ASSERT_TRUE(state && cache);
  for (const char* lxc : {"router", "target-lamp-ftp", "scanner-nmap-7.80"})
    fake_image(cache->path(), lxc, "lxc");
  for (const char* kvm : {"kvm-router", "ubuntu-target-lamp-ftp", "ubuntu-scanner-nmap-7.80",
                          "ubuntu-scanner-nmap-7.60"})
    fake_image(cache->path(), kvm, "kvm");

  std::vector<std::string> lines;
  LabOptions o;
  o.name = "kvmstudy";
  o.uri = "test:///default";
  o.backend = exp->backend;
  o.state_root = state->path();
  o.image_root = cache->path();
  o.check_host = false;        // nothing is created on the host's network stack here
  o.wait_until_ready = false;  // no guest ever answers SSH on the mock driver
  o.progress = [&](const std::string& l) { lines.push_back(l); };

  // The topology's own (LXC) images on KVM: refused before anything exists.
  auto wrong = Lab::up(*topo, o);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("node 'router': image 'router' is built for lxc only"),
            std::string::npos)
      << wrong.error().message;
  EXPECT_NE(wrong.error().message.find("node_images"), std::string::npos);
  EXPECT_FALSE(fs::exists(state->path() / "kvmstudy"));

  // The experiment's node_images (+ the first scanner version), as the runner passes them.
  o.images = exp->node_images;
  o.images["scanner"] = exp->scanners[0].image;
  fake_image(cache->path(), exp->scanners[0].image, "kvm");
  auto lab = Lab::up(*topo, o);
  ASSERT_TRUE(lab) << lab.error().message;
  Lab& l = **lab;

  // Every node is a domain of the lab, with an overlay on its image and its own seed.
  auto objs = objects_of(l, "kvmstudy");
  EXPECT_EQ(objs.size(), topo->networks.size() + topo->nodes.size());
  for (const auto& n : topo->nodes) {
    fs::path nd = l.state_dir() / "nodes" / n.name;
    auto backing = backends::vm::backing_file(nd / "disk.qcow2");
    ASSERT_TRUE(backing) << n.name << ": " << backing.error().message;
    std::string image =
        n.role == config::NodeRole::kScanner ? exp->scanners[0].image : exp->node_images.at(n.name);
    EXPECT_EQ(*backing, fs::absolute(cache->path() / image / "k1" / backends::vm::kKvmBaseDisk).string());
    EXPECT_TRUE(fs::exists(nd / "seed.iso")) << n.name;
    EXPECT_EQ(l.node(n.name).image, image);
  }
  // The router's seed carries its three addresses, matched by the domain's MACs.
  fs::path out = state->path() / "router-seed";
  ASSERT_TRUE(util::run_checked({"xorriso", "-osirrox", "on", "-indev",
                                 (l.state_dir() / "nodes/router/seed.iso").string(), "-extract",
                                 "/", out.string()}));
  YAML::Node nc = YAML::LoadFile((out / "network-config").string());
  EXPECT_EQ(nc["ethernets"]["scan"]["addresses"][0].as<std::string>(), "172.24.0.1/24");
  EXPECT_EQ(nc["ethernets"]["targets"]["addresses"][0].as<std::string>(), "172.24.1.1/24");
  EXPECT_EQ(nc["ethernets"]["scan"]["match"]["macaddress"].as<std::string>(),
            make_mac("kvmstudy/router/scan"));
  auto ud = util::read_file(out / "user-data");
  ASSERT_TRUE(ud);
  auto lab_pub = util::read_file(l.state_dir() / "id_ed25519.pub");
  ASSERT_TRUE(lab_pub);
  EXPECT_NE(ud->find(lab_pub->substr(0, 60)), std::string::npos) << "the lab's key is authorised";
  auto state_json = util::read_file(l.state_dir() / "lab.json");
  ASSERT_TRUE(state_json);
  EXPECT_EQ(nlohmann::json::parse(*state_json).value("backend", ""), "vm");
  EXPECT_EQ(l.capture_interface(), l.node("router").host_devs.at("scan"));

  // Reset = a new overlay; the scanner swaps versions; an LXC image is refused.
  fs::path disk = l.state_dir() / "nodes/target2/disk.qcow2";
  ASSERT_TRUE(util::write_file_atomic(l.state_dir() / "nodes/target2/marker", "x"));
  auto before = fs::last_write_time(disk);
  auto r = l.reset_nodes({"target2"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(fs::last_write_time(disk), before);
  r = l.reset_node("scanner", "ubuntu-scanner-nmap-7.60");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(
      *backends::vm::backing_file(l.state_dir() / "nodes/scanner/disk.qcow2"),
      fs::absolute(cache->path() / "ubuntu-scanner-nmap-7.60/k1" / backends::vm::kKvmBaseDisk).string());
  auto lxc_scanner = l.reset_node("scanner", "scanner-nmap-7.80");
  ASSERT_FALSE(lxc_scanner);
  EXPECT_NE(lxc_scanner.error().message.find("is built for lxc only"), std::string::npos)
      << lxc_scanner.error().message;

  // open() finds the backend in lab.json (test:///default would otherwise mean LXC).
  LabOptions oo = o;
  oo.backend.reset();
  auto again = Lab::open("kvmstudy", oo);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->get()->node("scanner").image, "ubuntu-scanner-nmap-7.60");
  // lab.json keeps the backend's name; the older spelling "kvm" is read as vm, an unknown
  // name is refused (config::parse_backend_kind, the one reader of those names).
  const fs::path lab_json = state->path() / "kvmstudy/lab.json";
  auto state_text = util::read_file(lab_json);
  ASSERT_TRUE(state_text);
  auto state_j = nlohmann::json::parse(*state_text);
  EXPECT_EQ(state_j["backend"], "vm");
  for (const char* name : {"kvm", "xen"}) {
    auto renamed = state_j;
    renamed["backend"] = name;
    ASSERT_TRUE(util::write_file_atomic(lab_json, renamed.dump(2)));
    auto reopened = Lab::open("kvmstudy", oo);
    if (std::string(name) == "kvm") {
      ASSERT_TRUE(reopened) << reopened.error().message;
      EXPECT_EQ(reopened->get()->provenance()["backend"], "vm");
    } else {
      ASSERT_FALSE(reopened);
      EXPECT_NE(reopened.error().message.find("unknown backend 'xen'"), std::string::npos)
          << reopened.error().message;
    }
  }
  ASSERT_TRUE(util::write_file_atomic(lab_json, *state_text));

  // A remote host's lab needs the lab host's SSH login first; without it nothing is
  // created or connected. A remote LXC host is refused outright.
  EXPECT_TRUE(is_remote_uri("qemu+ssh://root@lab1:2222/system"));
  EXPECT_FALSE(is_remote_uri("qemu:///system"));
  EXPECT_FALSE(is_remote_uri("qemu://localhost/system"));
  LabOptions remote = o;
  remote.name = "kvmremote";
  remote.uri = "qemu+ssh://lab1/system?keyfile=/nonexistent/key";
  auto far = Lab::up(*topo, remote);
  ASSERT_FALSE(far);
  EXPECT_NE(far.error().message.find("keyfile /nonexistent/key does not exist"), std::string::npos)
      << far.error().message;
  EXPECT_FALSE(fs::exists(state->path() / "kvmremote"));
  remote.uri = "lxc+ssh://lab1/";
  remote.backend = config::BackendKind::kLxc;
  auto lxc_far = Lab::up(*topo, remote);
  ASSERT_FALSE(lxc_far);
  EXPECT_NE(lxc_far.error().message.find("needs a backend that runs there: vm (qemu+ssh://HOST/system)"), std::string::npos)
      << lxc_far.error().message;
  EXPECT_FALSE(fs::exists(state->path() / "kvmremote"));

  ASSERT_TRUE(l.down());
  EXPECT_TRUE(objects_of(l, "kvmstudy").empty());
  EXPECT_FALSE(fs::exists(state->path() / "kvmstudy"));
  EXPECT_FALSE(lines.empty());
}

TEST(LabHostSsh, FromTheLibvirtUri) {
  auto tmp = util::TempDir::create("labhost");
  ASSERT_TRUE(tmp);
  ASSERT_TRUE(util::write_file_atomic(tmp->path() / "key", "k"));
  ASSERT_TRUE(util::write_file_atomic(tmp->path() / "kh", "lab1 ssh-ed25519 AAAA\n"));
  const std::string q = "?keyfile=" + (tmp->path() / "key").string() +
                        "&known_hosts=" + (tmp->path() / "kh").string();
  auto j = lab_host_ssh("qemu+ssh://ops@lab1.example:2222/system" + q);
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ(j->user, "ops");
  EXPECT_EQ(j->host, "lab1.example");
  EXPECT_EQ(j->port, 2222);
  EXPECT_EQ(j->identity_file, tmp->path() / "key");
  EXPECT_EQ(j->known_hosts_file, tmp->path() / "kh");
  auto d = lab_host_ssh("qemu+ssh://lab2/system" + q);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->port, 22);
  EXPECT_EQ(d->host, "lab2");
  // Missing trust is an error saying how to pin the host key.
  auto no_kh = lab_host_ssh("qemu+ssh://lab1/system?keyfile=" + (tmp->path() / "key").string() +
                            "&known_hosts=" + (tmp->path() / "none").string());
  ASSERT_FALSE(no_kh);
  EXPECT_NE(no_kh.error().message.find("pinned"), std::string::npos) << no_kh.error().message;
  EXPECT_FALSE(lab_host_ssh("qemu:///system"));
  EXPECT_FALSE(lab_host_ssh("qemu+ssh://lab1:x/system" + q));
  EXPECT_TRUE(check_remote_lab_host("qemu+ssh://lab1/system"));
  EXPECT_FALSE(check_remote_lab_host("lxc+ssh://lab1/"));
  EXPECT_TRUE(check_remote_lab_host("lxc:///system"));
}

}  // namespace
}  // namespace testbed::virt
