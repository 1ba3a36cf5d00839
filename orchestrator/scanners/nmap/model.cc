#include "orchestrator/scanners/nmap/model.h"

#include "orchestrator/scanners/nmap/progress.h"
#include "orchestrator/scanners/nmap/result.h"
#include "orchestrator/scanners/nmap/shapes.h"

namespace testbed::scanners::nmap {

const analysis::ScannerModel& model() {
  static const analysis::ScannerModel m{
      "nmap", "nmap.xml", "nmap.log", "nmap-xml", &make_tracker, &make_classifier, &parse_xml};
  return m;
}

}  // namespace testbed::scanners::nmap
