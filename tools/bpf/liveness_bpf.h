/*
 * What the loader (tools/bpf_run.c) and the BPF programs
 * (tools/bpf/liveness.bpf.c) share: the values of their maps. Plain
 * fixed-width fields, so the header needs neither libc's nor the kernel's
 * types and reads the same on both sides.
 */
#ifndef LIVENESS_TOOLS_BPF_H
#define LIVENESS_TOOLS_BPF_H

/*
 * The settings of liveness_tcp_plan(), SO_LINGER excepted (sock_ops cannot
 * set it). All zero is inert: the programs leave every socket alone, which
 * is how an attachment is pinned before it is switched on.
 */
struct lvb_settings {
	int keepalive;	  /* SO_KEEPALIVE; 0 leaves every socket alone */
	int idle;	  /* TCP_KEEPIDLE, seconds */
	int interval;	  /* TCP_KEEPINTVL, seconds */
	int count;	  /* TCP_KEEPCNT */
	int user_timeout; /* TCP_USER_TIMEOUT, ms */
	int enforce;	  /* 1: a program's own looser setsockopt() is raised to the plan */
};

/*
 * The counters map: how connections ended, by the rules of
 * liveness_diagnose() applied to the socket's error when the kernel closes
 * it, then what the programs did. The causes keep the order and names of
 * enum liveness_cause (LIVENESS_CLOSED .. LIVENESS_RETRANSMIT_TIMEOUT), so
 * that liveness_cause_name() names them; LVB_OTHER is any other error.
 */
enum lvb_counter {
	LVB_CLOSED,		/* no error: a FIN either way, or an abort by this side */
	LVB_RESET,		/* ECONNRESET, or EPIPE (a RST after the peer's FIN) */
	LVB_REFUSED,		/* ECONNREFUSED */
	LVB_UNREACHABLE,	/* EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN */
	LVB_KEEPALIVE_TIMEOUT,	/* ETIMEDOUT, idle, a keepalive probe out */
	LVB_RETRANSMIT_TIMEOUT, /* ETIMEDOUT otherwise: data or a SYN unacknowledged */
	LVB_OTHER,		/* any other error */
	LVB_CONFIGURED,		/* connections given the settings at connect or accept */
	LVB_RETROFITTED,	/* existing connections given them by --retrofit */
	LVB_RAISED,		/* setsockopt() calls of the program raised to the plan */
	LVB_SETTING_REFUSED,	/* sockets on which the kernel refused a setting */
	LVB_NCOUNTERS
};
#define LVB_NCAUSES (LVB_OTHER + 1)

/* The meta map: what liveness status prints about an attachment. */
struct lvb_meta {
	unsigned long long budget_ns; /* the budget planned for */
	unsigned long long cgroup_id; /* the cgroup's id (its inode number): --retrofit's filter */
	int loader_pid;		      /* the attach that made it, while it is at work */
	int reserved;
	char cgroup[4072]; /* its directory */
};

#endif
