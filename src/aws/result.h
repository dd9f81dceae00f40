// Moved to base/result.h. This forwarding header stays only until tests/support/scan_fixtures.h (being
// edited elsewhere) includes base/result.h; nothing in src/ includes it.
#pragma once

#include "base/result.h"
