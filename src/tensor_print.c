/* tensor_print.c -- not written yet. */
#include "tensor_print.h"
