/* SKELETON (helper: stats). */
#include "daemon/stats/domain-stats.h"
