/* daemon.c: placeholder for the shared daemon plumbing. */
int daemon__placeholder(void);
int daemon__placeholder(void)
{
    return 0;
}
