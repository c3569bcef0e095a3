/* func_misc.c: CAST/CONVERT and the information functions (DATABASE, VERSION, ...).
 * DESIGN.md, "Expressions".
 */
#include "expr_int.h"

const struct sql__func sql__funcs_misc[] = {
    {NULL, 0, 0, NULL, NULL, false},
};
