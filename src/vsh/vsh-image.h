/* vsh image build: virt-builder's job (docs/images.md). The recipe
 * handling is shared with the daemon (src/image/vd-image.h); here is the
 * command: plan, run the recipe with progress and Ctrl+C handling, pool
 * target and refresh, summary.
 */
#pragma once

#include "image/vd-image.h"
