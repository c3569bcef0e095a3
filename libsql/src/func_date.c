/* func_date.c: date and time functions (NOW, DATE_FORMAT, DATE_ADD, ...).
 * DESIGN.md, "Expressions".
 */
#include "expr_int.h"

const struct sql__func sql__funcs_date[] = {
    {NULL, 0, 0, NULL, NULL, false},
};
