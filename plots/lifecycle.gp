# One lane per conn (the first 60): unconfirmed, each TCP state (or
# "confirmed" for stateless protocols), dying; a lane ends at nf_conntrack_free.
load plotsdir.'/common.gp'
f = datadir.'/lifecycle.dat'
set title 'Connection life cycle: unconfirmed -> confirmed (state) -> dying -> freed'
set xlabel 'virtual time (s)'
set ylabel 'conn (lane)'
set cbrange [0:12]
set palette defined (0 '#9e9e9e', 1 '#1f77b4', 2 '#bcbd22', 3 '#ff7f0e', 4 '#ffbb78', 5 '#2ca02c', 6 '#98df8a', 7 '#17becf', 8 '#9edae5', 9 '#9467bd', 10 '#c5b0d5', 11 '#8c564b', 12 '#d62728')
unset colorbox
set yrange [*:*] reverse
set offsets 0, 0, 1, 1
names = 'unconfirmed confirmed NONE SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT CLOSE_WAIT LAST_ACK TIME_WAIT CLOSE SYN_SENT2 dying'
plot f using (($3+$4)/2):1:(($4-$3)/2):(0.35):5 with boxxyerror fill solid 0.9 noborder lc palette notitle, \
     for [k=0:12] NaN with boxes fill solid lc palette cb k title word(names, k+1)
