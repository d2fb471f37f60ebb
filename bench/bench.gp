# The plot of `make bench`: per-packet cost against connections, one line per
# method bench/bench.c compares, both axes logarithmic.
#   gnuplot -e "data='build/bench/bench.dat'; out='build/bench/bench.svg'" bench/bench.gp
# data is what `bench --data=FILE` writes: '#' lines (one names the machine),
# a header row of quoted column names, then per connection count the count,
# the baseline loop's own ns/packet, and what each method adds to it.

if (!exists("data")) data = "build/bench/bench.dat"
if (!exists("out")) out = "build/bench/bench.svg"

# The machine and the time of the run, from the data file's comments.
machine = system("sed -n 's/^# machine: //p' '" . data . "'")
run = system("sed -n 's/^# run: //p' '" . data . "'")
if (strlen(machine) == 0) machine = "an unnamed machine"

set terminal svg size 1000,600 dynamic enhanced font "sans,13" background "white"
set output out

# The title centred on the page, not over the plot, which the key narrows.
set label 1 "liveness bench: CPU time per packet against connections" \
	at screen 0.5, screen 0.96 center font ",15" noenhanced
set label 2 sprintf("%s, run %s", machine, run) at screen 0.5, screen 0.915 center noenhanced
set tmargin 5
set xlabel "connections"
set ylabel "CPU time added per packet (ns, log scale)"
set logscale xy
set format y "%g"
set xtics ("1k" 1e3, "10k" 1e4, "100k" 1e5, "1M" 1e6, "10M" 1e7, "100M" 1e8)
set grid xtics ytics mytics lc rgb "#dddddd"
set key outside right center vertical Left reverse samplen 3 spacing 1.4 noenhanced
set border 3
set tics nomirror

# Keep the end points off the frame: a third of a decade each side.
stats data using 1 nooutput
set xrange [STATS_min / 2.2 : STATS_max * 2.2]

# A colour and a point type per method, in the order of bench.c's table.
set linetype 1 lc rgb "#2ca02c" pt 6
set linetype 2 lc rgb "#1f77b4" pt 7
set linetype 3 lc rgb "#17becf" pt 4
set linetype 4 lc rgb "#d62728" pt 5
set linetype 5 lc rgb "#ff7f0e" pt 8
set linetype 6 lc rgb "#9467bd" pt 9
set linetype 7 lc rgb "#8c564b" pt 12
set linetype 8 lc rgb "#e377c2" pt 13

# A method that added nothing measurable (0) has no place on a log axis.
pos(v) = v > 0 ? v : NaN

plot data using 1:(pos($2)) with linespoints dt 2 lw 1.5 pt 0 lc rgb "#888888" \
		title "baseline: the application's own loop", \
	for [i = 3:*] data using 1:(pos(column(i))) with linespoints lt (i - 2) lw 2 ps 1.2 \
		title columnheader(i)
