/*
 * What the loader (tools/bpf_run.c) and the sock_ops program
 * (tools/bpf/liveness.bpf.c) share: the one value of the settings map.
 * Plain int fields, so the header needs neither libc's nor the kernel's
 * types and reads the same on both sides.
 */
#ifndef LIVENESS_TOOLS_BPF_H
#define LIVENESS_TOOLS_BPF_H

/* The settings of liveness_tcp_plan(), SO_LINGER excepted (sock_ops cannot set it). */
struct lvb_settings {
	int keepalive;	  /* SO_KEEPALIVE; 0 leaves every socket alone */
	int idle;	  /* TCP_KEEPIDLE, seconds */
	int interval;	  /* TCP_KEEPINTVL, seconds */
	int count;	  /* TCP_KEEPCNT */
	int user_timeout; /* TCP_USER_TIMEOUT, ms */
};

#endif
