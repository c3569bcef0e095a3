/* func_string.c: string functions (CONCAT, SUBSTRING, TRIM, ...).
 * DESIGN.md, "Expressions".
 */
#include "expr_int.h"

const struct sql__func sql__funcs_string[] = {
    {NULL, 0, 0, NULL, NULL, false},
};
