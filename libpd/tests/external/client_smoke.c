/* client_smoke.c: an outside program using libpd's client and its service
 * messages only through <pd.h>, <pd.pb.h> and pkg-config (which brings
 * librpc, libevent and nanopb): a client with no discovery against a port
 * nobody serves gives up with the connect error; bad options are refused.
 * Prints "ok" on success.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pd.h>
#include <pd.pb.h>

int main(void)
{
    char err[256];
    struct pd_client *c = NULL;
    struct pd_client_options bad = {0};
    if (pd_client_create(&bad, &c, err, sizeof(err)) != -EINVAL)
        return 1;
    const char *eps[] = {"127.0.0.1:1"};
    struct pd_client_options co = {.endpoints = eps, .n_endpoints = 1,
                                   .timeout_ms = 200, .no_discovery = true};
    if (pd_client_create(&co, &c, err, sizeof(err)) != 0)
        return 2;
    pd_IsBootstrappedRequest req = {0};
    pd_IsBootstrappedResponse resp;
    int rc = pd_client_call(c, PD_METHOD_IS_BOOTSTRAPPED,
                            pd_IsBootstrappedRequest_fields, &req,
                            pd_IsBootstrappedResponse_fields, &resp,
                            sizeof(resp), err, sizeof(err));
    pd_client_destroy(c);
    if (rc == 0 || !strstr(err, "gave up after retries")) {
        printf("unexpected: %d %s\n", rc, err);
        return 3;
    }
    printf("ok\n");
    return 0;
}
