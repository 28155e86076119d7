---- MODULE ProducerConsumer ----
\* Written to mirror specs/producer_consumer.fathom: a bounded FIFO buffer,
\* a step counter bounded by CONSTRAINT, and two initial states.
EXTENDS Naturals, Sequences
CONSTANTS Cap, Total, MaxSteps
VARIABLES buf, next, got, steps
Init == \E first \in 0..1 : buf = <<>> /\ next = first /\ got = first /\ steps = 0
Produce == /\ next < Total /\ Len(buf) < Cap
           /\ buf' = Append(buf, next) /\ next' = next + 1 /\ steps' = steps + 1
           /\ UNCHANGED got
Consume == /\ Len(buf) > 0
           /\ buf' = Tail(buf) /\ got' = got + 1 /\ steps' = steps + 1
           /\ UNCHANGED next
Next == Produce \/ Consume
Ordered == \A i \in 0..Cap-1 : i < Len(buf) => buf[i + 1] = got + i
Bound == steps <= MaxSteps
====
