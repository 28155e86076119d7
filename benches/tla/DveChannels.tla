---- MODULE DveChannels ----
\* specs/dve_channels.dve with DiVinE 2's meaning, written out by hand:
\* a buffered send runs the effect first and sends the new value; while the
\* consumer is in its committed state `taken`, only its own step runs; a
\* rendezvous moves both processes at once; `val` is typed {byte}, so the
\* value 300 is cast to 300 % 256 = 44.
EXTENDS Naturals, Sequences

VARIABLES x, buf, p, n, c, got, sum, o
vars == <<x, buf, p, n, c, got, sum, o>>

Init == x = 0 /\ buf = << >> /\ p = "idle" /\ n = 0
        /\ c = "wait" /\ got = 0 /\ sum = 0 /\ o = "a"

Free == c # "taken"

P1 == Free /\ p = "idle" /\ n < 3 /\ p' = "sending"
      /\ UNCHANGED <<x, buf, n, c, got, sum, o>>
P2 == Free /\ p = "sending" /\ Len(buf) < 2 /\ p' = "idle" /\ n' = n + 1
      /\ buf' = Append(buf, n + 1) /\ UNCHANGED <<x, c, got, sum, o>>
Go == Free /\ p = "idle" /\ n = 3 /\ c = "wait" /\ p' = "done" /\ c' = "fin"
      /\ UNCHANGED <<x, buf, n, got, sum, o>>
Val == Free /\ p = "done" /\ c = "fin" /\ p' = "over" /\ c' = "over"
      /\ got' = (n * 100) % 256 /\ UNCHANGED <<x, buf, n, sum, o>>
C1 == Free /\ c = "wait" /\ Len(buf) > 0 /\ c' = "taken" /\ got' = Head(buf)
      /\ buf' = Tail(buf) /\ UNCHANGED <<x, p, n, sum, o>>
C2 == c = "taken" /\ c' = "wait" /\ sum' = sum + got
      /\ UNCHANGED <<x, buf, p, n, got, o>>
O1 == Free /\ o = "a" /\ x < 2 /\ o' = "b" /\ x' = x + 1
      /\ UNCHANGED <<buf, p, n, c, got, sum>>
O2 == Free /\ o = "b" /\ o' = "a" /\ UNCHANGED <<x, buf, p, n, c, got, sum>>

Next == P1 \/ P2 \/ Go \/ Val \/ C1 \/ C2 \/ O1 \/ O2
Spec == Init /\ [][Next]_vars

Assert == c = "taken" => (got >= 1 /\ got <= 3)
====
