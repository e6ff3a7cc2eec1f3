/**
 * The C source of the preload shim that points trace-cmd at an ntrace mount (see shim.ts for why a shim, and
 * docs/TRACE-CMD.md). Compiled on first use with the system's compiler; only libc and libdl are needed at build time
 * (libtracefs is found in the trace-cmd process itself).
 */
export const SHIM_SOURCE = `/*
 * ntrace's preload shim for trace-cmd: points libtracefs at an ntrace mount (trace-cmd finds a tracing directory
 * only in /proc/mounts or through tracefs_set_tracing_dir()), and keeps trace-cmd to that mount:
 * - the CPU count trace-cmd asks sysconf() for is the number of per_cpu/cpuN directories of the mount (ntrace's
 *   CPUs are threads: every thread that recorded before trace-cmd started has its own directory);
 * - /proc/sys/kernel/ftrace_enabled, the kernel's function-tracer switch, is hidden (it is not the mount's to turn).
 * Active only in processes that load libtracefs: commands trace-cmd runs see the machine as it is.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FTRACE_ENABLED "/proc/sys/kernel/ftrace_enabled"

static int active;
static long mount_cpus = -1;

static long count_per_cpu(const char *dir)
{
	char path[4096];
	struct dirent *d;
	long n = 0;
	DIR *dp;

	snprintf(path, sizeof(path), "%s/per_cpu", dir);
	dp = opendir(path);
	if (!dp)
		return -1;
	while ((d = readdir(dp)))
		if (strncmp(d->d_name, "cpu", 3) == 0)
			n++;
	closedir(dp);
	return n;
}

__attribute__((constructor)) static void ntrace_shim(void)
{
	const char *dir = getenv("NTRACE_TRACING_DIR");
	int (*set_dir)(char *);

	if (!dir)
		return;
	set_dir = (int (*)(char *))dlsym(RTLD_DEFAULT, "tracefs_set_tracing_dir");
	if (!set_dir)
		return;
	if (set_dir((char *)dir) < 0) {
		fprintf(stderr, "ntrace: libtracefs refused %s as the tracing directory\\n", dir);
		return;
	}
	active = 1;
	mount_cpus = count_per_cpu(dir);
}

long sysconf(int name)
{
	static long (*real)(int);

	if (active && mount_cpus > 0 && (name == _SC_NPROCESSORS_CONF || name == _SC_NPROCESSORS_ONLN))
		return mount_cpus;
	if (!real)
		real = (long (*)(int))dlsym(RTLD_NEXT, "sysconf");
	return real(name);
}

#define HIDE_FTRACE_ENABLED(fn, type)								\\
	int fn(const char *restrict path, struct type *restrict st)				\\
	{											\\
		static int (*real)(const char *restrict, struct type *restrict);		\\
		if (active && strcmp(path, FTRACE_ENABLED) == 0) {				\\
			errno = ENOENT;								\\
			return -1;								\\
		}										\\
		if (!real)									\\
			real = (int (*)(const char *restrict, struct type *restrict))dlsym(RTLD_NEXT, #fn); \\
		return real(path, st);								\\
	}

HIDE_FTRACE_ENABLED(stat, stat)
HIDE_FTRACE_ENABLED(stat64, stat64)
`;
