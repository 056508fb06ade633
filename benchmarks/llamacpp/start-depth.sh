#!/usr/bin/env bash
# Run 7: starts pipeline-depth.sh detached (setsid), so it goes on between calls of the lent machine; collect.sh
# copies the results out. usage: start-depth.sh SECONDS
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p /tmp/lcres
deadline=$(( $(date +%s) + $1 ))
setsid nohup bash "$here/pipeline-depth.sh" "$deadline" > /tmp/lcres/pipeline.txt 2>&1 < /dev/null &
echo "started, deadline $deadline"
