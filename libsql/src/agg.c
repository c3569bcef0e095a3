/* agg.c: aggregate functions (COUNT, SUM, AVG, MIN, MAX, GROUP_CONCAT,
 * BIT_AND/OR/XOR) with MySQL's result types. DESIGN.md, "Expressions".
 */
#include <strings.h>

#include "expr_int.h"

static const char *const agg_names[] = {
    "COUNT", "SUM", "AVG", "MIN", "MAX", "GROUP_CONCAT", "BIT_AND",
    "BIT_OR", "BIT_XOR", "STD", "STDDEV", "STDDEV_POP", "STDDEV_SAMP",
    "VARIANCE", "VAR_POP", "VAR_SAMP", "ANY_VALUE", NULL};

bool sql__agg_is_aggregate(const char *name)
{
    for (int i = 0; agg_names[i]; i++)
        if (strcasecmp(agg_names[i], name) == 0)
            return true;
    return false;
}
