/* placeholder: being written */
#include "network/dnsmasq-conf.h"
