-- A plain GET of the URL on wrk's command line.
dofile("report.lua")
