/*
 * sanitizer.h — which sanitizer a unit test is built under, for tests whose
 * facts differ there (gcc defines __SANITIZE_*__, clang answers
 * __has_feature; `make test` builds its sanitizer runs with clang).
 *
 *   MV_UNDER_ASAN   AddressSanitizer: its malloc replaces glibc's, so
 *                   mallinfo2 sees empty arenas
 *   MV_UNDER_TSAN   ThreadSanitizer: also replaces malloc, and cannot start
 *                   threads in the child of a multi-threaded fork
 */
#ifndef MV_TEST_SANITIZER_H
#define MV_TEST_SANITIZER_H

#if defined(__SANITIZE_ADDRESS__)
#define MV_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MV_UNDER_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define MV_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MV_UNDER_TSAN 1
#endif
#endif

#endif /* MV_TEST_SANITIZER_H */
