/* main.c: sqld's entry point. Placeholder until the daemon plumbing lands. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "sqld: not built yet\n");
    return 1;
}
