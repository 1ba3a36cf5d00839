#pragma once
// The sections of report.html (render_html_study.cc, render_html_runs.cc), assembled by
// report_html (render_html.cc); not part of report's interface. Each returns HTML whose
// text from runs, captures and payloads went through escape().
#include <cstddef>
#include <string>

#include "orchestrator/report/model.h"

namespace testbed::report {

// The study's figures (render_html_study.cc).
std::string html_table1(const Model& m);
std::string html_table2(const Model& m, const analysis::UniqueTable& tab,
                        const analysis::NoiseFloor& nf, bool with_study);
std::string html_unique(const Model& m, size_t limit);
std::string html_differs(const Model& m);
std::string html_port_usage(const Model& m);
std::string html_timeline(const Model& m);

// The runs and what is measured between them (render_html_runs.cc).
std::string html_runs(const Model& m);
std::string html_noise(const Model& m);
std::string html_classifier(const Model& m);
std::string html_drift(const Model& m);
std::string html_capture(const Model& m);
std::string html_provenance(const Model& m);

}  // namespace testbed::report
