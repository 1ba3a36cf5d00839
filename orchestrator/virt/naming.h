#pragma once
// Deterministic names for a lab's host-visible objects. Linux limits interface names to
// 15 characters (IFNAMSIZ - 1), so bridges and host-side veths use a 4-hex-digit tag
// of the lab name: tb<tag>-<net> and tb<tag>-<node><n>.
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::virt {

/// Lab names: [a-z][a-z0-9-]{0,23}.
util::Status check_lab_name(const std::string& name);

/// 4 hex digits of sha256(lab name).
std::string lab_tag(const std::string& lab);

std::string domain_name(const std::string& lab, const std::string& node);  ///< tb-<lab>-<node>
std::string network_name(const std::string& lab, const std::string& net);  ///< tb-<lab>-<net>
std::string bridge_name(const std::string& lab, const std::string& net);   ///< tb<tag>-<net>, <= 15

/// Host-side veth names for every (node, interface index), <= 15 chars and unique:
/// tb<tag>-<node abbreviated><index>, or tb<tag>-n<k>i<index> if abbreviations collide.
/// result[k][i] is node k's interface i.
std::vector<std::vector<std::string>> veth_names(const std::string& lab,
                                                 const std::vector<std::string>& nodes,
                                                 const std::vector<size_t>& interface_counts);

}  // namespace testbed::virt
