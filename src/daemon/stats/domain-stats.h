/* Statistics of running domains, many at once (issue 11, vsh domstats).
 * SKELETON (helper: stats). */
#pragma once

#include "daemon/daemon.h"
