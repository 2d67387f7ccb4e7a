/* Janus VideoRoom signalling: not written yet. */
#include "sig.h"

#include <stdio.h>

int lg_sig_janus_start(lg_t *lg)
{
    (void)lg;
    fprintf(stderr, "loadgen: --mode janus is not implemented yet\n");
    return -1;
}
