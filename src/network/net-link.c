/* placeholder: being written */
#include "network/net-link.h"
