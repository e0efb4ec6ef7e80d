# Table occupancy over virtual time: conns in the table, each namespace's
# nf_conntrack_count, per-TCP-state counts, unconfirmed and dying lists.
load plotsdir.'/common.gp'
set datafile separator ','
hdr = system(sprintf("head -1 '%s' | tr ',' ' '", series))
set title 'Conntrack table occupancy (nf_conntrack_count per netns, conns per TCP state)'
set xlabel 'virtual time (s)'
set ylabel 'conns'
# Columns that are ever non-zero: the TCP states and lists draw only then.
nz = ' '.system(sprintf("awk -F, 'NR>1{for(i=1;i<=NF;i++) if($i!=0) n[i]=1} END{for(i in n) printf \"%%d \", i}' '%s'", series))
cmd = ''
do for [i=1:words(hdr)] {
  n = word(hdr, i)
  used = strstrt(nz, sprintf(' %d ', i)) > 0
  if (n eq 'table' || strstrt(n, 'count_') == 1 || (used && (n eq 'unconfirmed' || n eq 'dying' || strstrt(n, 'tcp_') == 1))) {
    cmd = cmd.sprintf("'%s' using ($1/1e9):%d with steps lw 2 title '%s', ", series, i, n)
  }
}
eval('plot '.cmd[1:strlen(cmd)-2])
