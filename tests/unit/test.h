/* A minimal test harness: CHECK records a failure and goes on; each test file's main
 * calls its cases and ends with TEST_END, which prints "N passed, N failed" and returns
 * the exit status for CTest. */
#ifndef SOBRE_TEST_H
#define SOBRE_TEST_H

#include <stdio.h>
#include <string.h>

static int test_passed, test_failed;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (cond) {                                                                    \
            test_passed++;                                                             \
        } else {                                                                       \
            test_failed++;                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                              \
    } while (0)

#define CHECK_INT(a, b)                                                                \
    do {                                                                               \
        long long a_ = (long long)(a), b_ = (long long)(b);                            \
        if (a_ == b_) {                                                                \
            test_passed++;                                                             \
        } else {                                                                       \
            test_failed++;                                                             \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__,  \
                    #a, a_, b_);                                                       \
        }                                                                              \
    } while (0)

#define CHECK_STR(a, b)                                                                \
    do {                                                                               \
        const char *a_ = (a), *b_ = (b);                                               \
        if (a_ && b_ && strcmp(a_, b_) == 0) {                                         \
            test_passed++;                                                             \
        } else {                                                                       \
            test_failed++;                                                             \
            fprintf(stderr, "%s:%d: %s\n   got: %s\n  want: %s\n", __FILE__, __LINE__, \
                    #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                       \
        }                                                                              \
    } while (0)

#define TEST_END()                                                                     \
    do {                                                                               \
        printf("%d passed, %d failed\n", test_passed, test_failed);                    \
        return test_failed ? 1 : 0;                                                    \
    } while (0)

#endif
