/*
 * The plain reader of the read benchmark (bench/read/main.ts), the same binary for the kernel's tracefs and for
 * ntrace's mount, so both are read by identical code:
 *
 *   reader drain PATH SIZE   read(2) SIZE bytes at a time until EOF or EAGAIN (opened O_NONBLOCK: a consuming
 *                            file that is empty ends the run); prints "bytes lines reads max_read odd_reads ns"
 *                            (odd_reads: reads whose length is not a multiple of 4096, for trace_pipe_raw)
 *   reader fill PATH N TEXT  N write(2)s of TEXT to PATH (trace_marker), pinned to CPU 0
 *
 * One process per measurement; the time is taken around the loop only (open and exit excluded).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int drain(const char *path, size_t size) {
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) {
    perror(path);
    return 1;
  }
  char *buf = malloc(size);
  long long bytes = 0, lines = 0, reads = 0, odd = 0, max = 0;
  long long t = now_ns();
  for (;;) {
    ssize_t n = read(fd, buf, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      perror("read");
      return 1;
    }
    if (n == 0) break;
    reads++;
    bytes += n;
    if (n > max) max = n;
    if (n % 4096) odd++;
    for (char *p = buf, *e = buf + n; (p = memchr(p, '\n', e - p)) != NULL; p++) lines++;
  }
  long long ns = now_ns() - t;
  printf("%lld %lld %lld %lld %lld %lld\n", bytes, lines, reads, max, odd, ns);
  close(fd);
  free(buf);
  return 0;
}

static int fill(const char *path, long n, const char *text) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  sched_setaffinity(0, sizeof set, &set);
  int fd = open(path, O_WRONLY);
  if (fd < 0) {
    perror(path);
    return 1;
  }
  size_t len = strlen(text);
  for (long i = 0; i < n; i++) {
    if (write(fd, text, len) != (ssize_t)len) {
      perror("write");
      return 1;
    }
  }
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "drain") == 0) return drain(argv[2], (size_t)atol(argv[3]));
  if (argc == 5 && strcmp(argv[1], "fill") == 0) return fill(argv[2], atol(argv[3]), argv[4]);
  fprintf(stderr, "usage: reader drain PATH SIZE | reader fill PATH N TEXT\n");
  return 2;
}
