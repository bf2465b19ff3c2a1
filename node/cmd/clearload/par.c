/* Runs a function over several argument blocks on threads of their own (see load.h). */
#include <pthread.h>

#include "node/cmd/clearload/load.h"

void cl_parallel(unsigned n, void *(*fn)(void *), void *args, size_t stride) {
    pthread_t th[64];
    int started[64] = {0};
    n = n < 64 ? n : 64;
    for (unsigned i = 0; i < n; i++)
        started[i] = pthread_create(&th[i], NULL, fn, (char *)args + i * stride) == 0;
    /* A thread that could not start runs here, after the others were started. */
    for (unsigned i = 0; i < n; i++)
        if (!started[i])
            fn((char *)args + i * stride);
    for (unsigned i = 0; i < n; i++)
        if (started[i])
            pthread_join(th[i], NULL);
}
