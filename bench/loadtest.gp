# bench/loadtest.gp - the pictures of `make loadtest` (bench/loadtest.py writes
# the data): memory and CPU against the number of connections, one point per
# size run.
#   gnuplot -e "data='build/loadtest/loadtest.dat'; outdir='build/loadtest'" bench/loadtest.gp
# Columns: conns kernel_B_per_conn user_B_per_conn heartbeats_pct keepalive_pct
#          heartbeats_servers_pct keepalive_servers_pct clients_B_per_conn

set terminal svg size 760,500 dynamic enhanced font "sans,12"
set logscale x 10
set format x "%.0s%c"
set xlabel "connections held (log scale)"
set grid
set key below
set style data linespoints

set output outdir."/memory.svg"
set title "Memory per connection, measured (both sockets of each connection on this host)"
set ylabel "kernel: bytes per connection"
set y2label "user: bytes per connection"
set yrange [0:*]
set y2range [0:*]
set ytics nomirror
set y2tics
plot data using 1:2 axes x1y1 title "kernel (MemFree drop less anonymous memory and page cache)" pt 7 lw 2, \
     data using 1:3 axes x1y2 title "user, right axis: the epoll servers' heap" pt 5 lw 2, \
     data using 1:8 axes x1y2 title "user, right axis: the load clients' heap" pt 4 lw 1 dt 2

unset y2label
unset y2tics
set ytics mirror
set output outdir."/cpu.svg"
set title "CPU to watch every connection, steady state"
set ylabel "% of one core: servers + softirq (log scale)"
set logscale y 10
set yrange [*:*]
set key below
plot data using 1:4 title "heartbeats: 30 s interval, 90 s timeout" pt 7 lw 2, \
     data using 1:5 title "kernel keepalive only, planned for 90 s" pt 5 lw 2
