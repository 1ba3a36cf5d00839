#pragma once
// How well identify works, measured on labelled runs (`testbed fingerprint --evaluate`):
//  - leave-one-run-out: each run identified by a model trained on all the others; balanced
//    accuracy over versions (the answer is exactly the true version) and over the model's
//    groups (the answer lies inside the true version's group and holds it), the confusion
//    matrix, and kinds told apart;
//  - leave-one-version-out: each version's runs identified by a model that never saw it:
//    unknown, a range of its neighbouring releases, a version whose traffic the full atlas
//    cannot tell from it (its group), a wrong single version, or another set;
//  - another lab (runs from another topology): the answer holds the true version, is a
//    wrong single version, and its mean size;
//  - the same leave-one-run-out with a SYN-fingerprint-only model (family "syn": window,
//    options, MSS, TTL class), side by side.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/identify/model.h"

namespace testbed::identify {

nlohmann::json evaluate(const std::vector<LabelledRun>& atlas, const std::vector<LabelledRun>& other_lab);

/// Markdown tables of an evaluate() result (the README's section is made from it).
std::string evaluation_markdown(const nlohmann::json& e);

}  // namespace testbed::identify
