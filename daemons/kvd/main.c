/* main.c: kvd's entry point. Placeholder until the daemon plumbing lands. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "kvd: not built yet\n");
    return 1;
}
