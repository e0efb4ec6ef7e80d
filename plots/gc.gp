# gc_worker activity: entries scanned and expired per run, and the next
# run's delay (v5.10: HZ/128 when more than half expired, else growing to HZ/8).
load plotsdir.'/common.gp'
f = datadir.'/gc.dat'
set title 'gc_worker runs (records written: runs that reaped; all runs with --trace-gc all)'
set xlabel 'virtual time (s)'
set ylabel 'entries per run'
set y2label 'next run (jiffies)'
set y2tics
rows = int(system(sprintf("grep -vc '^#' '%s' || true", f)))
if (rows == 0) { set label 1 'no gc_worker run reaped anything' at graph 0.5, graph 0.5 center; plot [0:1] [0:1] NaN notitle } else { \
plot f using 1:2 with impulses lw 2 title 'scanned', f using 1:3 with impulses lw 2 title 'expired', f using 1:5 axes x1y2 with steps title 'next_run' }
