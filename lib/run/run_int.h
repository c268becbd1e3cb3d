/*
 * run_int.h — what lib/run's files share: scenarios (scenario.c), the
 * agent's provider stack (stack.c) and running a call (call.c).
 */
#ifndef VAGENT_RUN_INT_H
#define VAGENT_RUN_INT_H

#include "core/internal.h"

#endif
