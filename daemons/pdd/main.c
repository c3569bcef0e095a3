/* main.c: pdd's entry point. Placeholder until the daemon plumbing lands. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "pdd: not built yet\n");
    return 1;
}
