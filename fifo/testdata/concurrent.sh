#!/bin/sh
# $N processes at once, each with its own reply FIFO, each writing a
# 20-line echo request with cat; the replies land in ser_receiver_<i>.out.
set -e
cd "$DIR"
i=0
while [ $i -lt "$N" ]; do
  (
    R=ser_receiver_$i
    mkfifo $R
    cat $R > $R.out &
    {
      echo ":echo:$R"
      j=0
      while [ $j -lt 20 ]; do echo "process $i line $j"; j=$((j+1)); done
      echo
    } > $R.req
    cat $R.req > "$FIFO"
    wait
  ) &
  i=$((i+1))
done
wait
