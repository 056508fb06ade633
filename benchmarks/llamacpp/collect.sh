#!/usr/bin/env bash
# Wait up to SECONDS (or until the measurements are done), then copy what is there to $OUT.
end=$(( $(date +%s) + $1 ))
R=/tmp/lcres
while [ "$(date +%s)" -lt "$end" ] && [ ! -e "$R/DONE" ]; do sleep 5; done
for f in lcpp-results.jsonl offload-results.jsonl lcpp-log.txt progress.txt pipeline.txt env.txt kernels.jsonl kernels.log; do [ -e "$R/$f" ] && cp "$R/$f" "$OUT/"; done
[ -e /tmp/build.fail ] && tail -c 20000 "$R/build.log" > "$OUT/build-tail.log" 2>/dev/null && tail -40 "$R/cmake.log"
df -h /tmp | tail -1
cat "$R/progress.txt" 2>/dev/null
tail -5 "$R/pipeline.txt"
