#!/usr/bin/env bash
# Starts the build and the measurements detached (setsid), so they go on between calls of the lent machine;
# collect.sh copies the results out. usage: start.sh SECONDS model:quant[,quant] ...
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p /tmp/lcres
deadline=$(( $(date +%s) + $1 )); shift
setsid nohup bash "$here/pipeline.sh" "$deadline" "$@" > /tmp/lcres/pipeline.txt 2>&1 < /dev/null &
echo "started, deadline $deadline"
