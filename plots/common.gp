# Shared setup: called with plotsdir, datadir, outfile and fmt ('png' or 'svg') set.
if (fmt eq 'svg') { set terminal svg size 1000,560 dynamic font 'sans,11' } else { set terminal pngcairo size 1000,560 font 'sans,10' }
set output outfile
set grid
set termoption noenhanced
set key outside right top
set datafile separator whitespace
# Builds "plot" clauses for the series.csv columns whose names match `pat`
# (prefix) or equal `name`; evaluated by the scripts.
series = datadir.'/series.csv'
