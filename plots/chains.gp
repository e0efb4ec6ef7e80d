# Chain lengths: buckets of the table by the number of nodes in their chain
# (at the last snapshot), or, without a snapshot, nodes walked per lookup.
load plotsdir.'/common.gp'
f = datadir.'/chains.dat'
what = system(sprintf("head -1 '%s' | sed 's/^# //; s/:.*//'", f))
set title 'Hash chain lengths ('.what.')'
set xlabel 'chain length (nodes)'
set ylabel 'count'
set style fill solid 0.8
set boxwidth 0.8
plot f using 1:2 with boxes notitle
