/* Minimal assertions for the plain-C analytics tests: a failed check
 * prints where and what, and the test exits 1 at the end. */
#ifndef IMGREC_TEST_CHECK_H
#define IMGREC_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond) do { if (!(cond)) { check_failures++; \
      fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_NEAR(a, b, tol) do { double _a = (a), _b = (b); \
      if (!(fabs (_a - _b) <= (tol))) { check_failures++; \
        fprintf (stderr, "%s:%d: %s = %.9g, expected %s = %.9g (tol %g)\n", \
            __FILE__, __LINE__, #a, _a, #b, _b, (double) (tol)); } } while (0)
#define CHECK_INT(a, b) do { long long _a = (long long) (a), _b = (long long) (b); \
      if (_a != _b) { check_failures++; \
        fprintf (stderr, "%s:%d: %s = %lld, expected %lld\n", __FILE__, \
            __LINE__, #a, _a, _b); } } while (0)
#define CHECK_STR_HAS(s, sub) do { const char *_s = (s); \
      if (_s == NULL || strstr (_s, (sub)) == NULL) { check_failures++; \
        fprintf (stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, \
            __LINE__, _s ? _s : "(null)", (sub)); } } while (0)

#define RUN(test) do { int _before = check_failures; test (); \
      printf ("%s %s\n", check_failures == _before ? "ok  " : "FAIL", #test); } while (0)

#endif
