/*
 * demangle.h — C++ symbol names made readable for heap reports: the
 * Itanium ABI demangler of the C++ runtime (libstdc++'s __cxa_demangle,
 * loaded at run time: memvigil itself is C and links no C++ runtime),
 * with the parameter list left out, as pprof's default does.
 *
 * Thread-safety: cli_demangle may be called from any thread.
 * Ownership: the returned string is the caller's (free()).
 */
#ifndef MV_CLI_DEMANGLE_H
#define MV_CLI_DEMANGLE_H

/* "_ZN5store4Grow..." -> "store::Grow<int>::push" (qualified name with
 * template arguments, no parameter list or cv/ref qualifiers). NULL when
 * name is not a mangled C++ name, or no C++ runtime is found to demangle
 * it: the caller keeps the name it had. */
char *cli_demangle(const char *name);

/* Drops the parameter list of a demangled function name and what follows
 * it ("ns::f<int>(int, char) const" -> "ns::f<int>"), in place; names
 * without one are left alone. Returns s. */
char *cli_demangle_drop_params(char *s);

#endif /* MV_CLI_DEMANGLE_H */
