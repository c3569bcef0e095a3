/* func_math.c: numeric functions (ABS, ROUND, POW, ...).
 * DESIGN.md, "Expressions".
 */
#include "expr_int.h"

const struct sql__func sql__funcs_math[] = {
    {NULL, 0, 0, NULL, NULL, false},
};
