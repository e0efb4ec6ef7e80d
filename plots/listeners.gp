# Event listeners: messages waiting in each socket and messages lost to
# overrun (ENOBUFS), over virtual time.
load plotsdir.'/common.gp'
set datafile separator ','
hdr = system(sprintf("head -1 '%s' | tr ',' ' '", series))
set title 'ctnetlink listeners: socket backlog and lost events'
set xlabel 'virtual time (s)'
set ylabel 'messages'
cmd = ''
do for [i=1:words(hdr)] {
  n = word(hdr, i)
  if (strstrt(n, 'backlog_') == 1 || strstrt(n, 'lost_') == 1 || n eq 'events_delivered') {
    cmd = cmd.sprintf("'%s' using ($1/1e9):%d with steps lw 2 title '%s', ", series, i, n)
  }
}
if (strlen(cmd) == 0) { set label 1 'no listeners in this scenario' at graph 0.5, graph 0.5 center; plot [0:1] [0:1] NaN notitle } else { eval('plot '.cmd[1:strlen(cmd)-2]) }
