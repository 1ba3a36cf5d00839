#pragma once
// Nmap's command-line grammar as data: its long options (nmap.cc `long_options[]`) and its
// short-option string, each with what the scope guard does with it. Taken from Nmap 7.80's
// nmap.cc; the options added later (7.90: --discovery-ignore-rst, --unique) were read off
// Debian's 7.93, 7.95 and 7.991 binaries (the option names lie together in .rodata: the
// same list in all three; the short-option string is 7.80's). Options of a later version
// that are missing here are refused as unknown: the safe direction.
// tests/scanners/nmap_crosscheck_test.cc runs the real Nmap of each scanner image.
#include <span>
#include <string_view>

#include "orchestrator/scanners/getopt.h"

namespace testbed::scanners::nmap {

using scanners::Arg;
using scanners::Grammar;
using scanners::Option;
using scanners::Role;

/// Every long option, in Nmap's table order.
std::span<const Option> long_options();
/// The short option `c` (from "46Ab:D:d::e:Ffg:hIi:M:m:nO::o:P::p:qRrS:s::T:Vv::").
const Option* short_option(char c);
/// Nmap's short-option string, as given to getopt_long_only.
std::string_view short_option_string();

}  // namespace testbed::scanners::nmap
