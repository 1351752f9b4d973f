-- A GET with If-None-Match naming the current ETag (BENCH_ETAG): the answer is 304.
wrk.headers["If-None-Match"] = os.getenv("BENCH_ETAG")
dofile("report.lua")
