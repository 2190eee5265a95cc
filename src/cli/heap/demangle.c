/*
 * demangle.c — see demangle.h. The demangler is libstdc++'s
 * __cxa_demangle, found once with dlopen("libstdc++.so.6"): any system
 * that runs C++ programs has it, and without it names simply stay as
 * the symbol table has them.
 */
#include "demangle.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef char *(*cxa_demangle_fn)(const char *mangled, char *buf, size_t *n,
                                 int *status);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static cxa_demangle_fn cxa_demangle;

static void load(void)
{
    void *h = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);
    if (h)
        cxa_demangle = (cxa_demangle_fn)(uintptr_t)dlsym(h, "__cxa_demangle");
    /* the handle is kept for the life of the process */
}

char *cli_demangle_drop_params(char *s)
{
    size_t n = strlen(s);
    static const char *const quals[] = {" const", " volatile", " &&", " &",
                                        " noexcept"};
    int again = 1;

    while (again) { /* trailing qualifiers: "(...) const &" */
        again = 0;
        for (size_t i = 0; i < sizeof quals / sizeof quals[0]; i++) {
            size_t q = strlen(quals[i]);
            if (n > q && memcmp(s + n - q, quals[i], q) == 0) {
                n -= q;
                again = 1;
            }
        }
    }
    if (n == 0 || s[n - 1] != ')')
        return s;
    int depth = 0;
    for (size_t i = n; i-- > 0;) {
        if (s[i] == ')')
            depth++;
        else if (s[i] == '(' && --depth == 0) {
            if (i > 0) /* keep "(anonymous namespace)"-like whole names */
                s[i] = '\0';
            return s;
        }
    }
    return s; /* unbalanced: leave it */
}

char *cli_demangle(const char *name)
{
    int status = -1;

    if (!name || strncmp(name, "_Z", 2) != 0)
        return NULL;
    pthread_once(&once, load);
    if (!cxa_demangle)
        return NULL;
    char *out = cxa_demangle(name, NULL, NULL, &status);
    if (status != 0 || !out) {
        free(out);
        return NULL;
    }
    return cli_demangle_drop_params(out);
}
