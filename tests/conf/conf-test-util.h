/* Helpers shared by the conf/ tests. */
#pragma once

#include "conf/domain-def.h"

/* @xml through conf's define steps; the test fails if they refuse it. */
VdDomainDef *tconf_define(const char *xml);
