/* Winograd F(2x2, 3x3)'s four tile loops in plain C, for float and double (the same loops twice,
 * from winograd_loops.inc). What each computes, and why: csrc/winograd.pyx. */
#include <stdlib.h>
#include <string.h>

#include "winograd_impl.h"

#define REAL float
#include "winograd_loops.inc"
#undef REAL

#define REAL double
#include "winograd_loops.inc"
#undef REAL
