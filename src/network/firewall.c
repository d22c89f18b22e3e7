/* placeholder: being written */
#include "network/firewall.h"
